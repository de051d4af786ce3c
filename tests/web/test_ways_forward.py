"""API parts of the pages' ways forward: the daily cap said at identification, one history row per attempt."""

from __future__ import annotations

from pensioncert.storage.crypto import protector_from_settings
from pensioncert.storage.db import get_database
from pensioncert.storage.repository import find_retiree, record_certification
from tests.api import support
from tests.api.conftest import Api, api  # noqa: F401  (the api fixture)


def _records(number: str, *results: str, session_id: str | None = None, method: str = "face_actions") -> None:
    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), number)
        assert retiree is not None
        for result in results:
            record_certification(session, retiree, channel="cityapp", method=method, result=result,
                                 session_id=session_id)


def test_identification_says_the_daily_cap_before_any_recording(api: Api) -> None:  # noqa: F811
    number = api.numbers[support.IN_WINDOW_2]
    sid = api.session("cityapp")
    before = api.identify(sid, support.IN_WINDOW_2).json()
    assert before["may_certify"] is True and before["cap"] is None and before["retry_on"] is None
    _records(number, *["failed"] * 5)
    sid = api.session("alipay")
    decision = api.identify(sid, support.IN_WINDOW_2).json()
    assert decision["cap"]["code"] == "flow.retry_cap_day" and decision["cap"]["zh"]
    tomorrow = support.cst_today().toordinal() + 1
    assert decision["retry_on"] == type(support.cst_today()).fromordinal(tomorrow).isoformat()
    assert api.client.get(f"/api/v1/sessions/{sid}").json()["decision"]["cap"]["code"] == "flow.retry_cap_day"


def test_history_shows_one_row_per_attempt_with_its_final_outcome(api: Api) -> None:  # noqa: F811
    from pensioncert.admin.review import decide, open_case

    number = api.numbers[support.IN_WINDOW_2]
    _records(number, "failed", session_id="s-1")
    _records(number, "review", session_id="s-2", method="manual_review")  # as the worker asks for review
    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), number)
        assert retiree is not None
        case = open_case(session, retiree.id)
        assert case is not None
        decide(session, retiree.id, case.record.id, accept=True, reason="same_person", notes="", reviewer="r")
    history = api.client.post("/api/v1/queries/history",
                              json={"name": support.IN_WINDOW_2, "id_number": number}).json()["history"]
    assert [(row["result"], row["result_message"]["code"]) for row in history] == [
        ("passed", "history.passed"), ("failed", "history.failed")]
