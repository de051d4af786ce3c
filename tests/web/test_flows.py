"""The three channel flows in headless Chromium, with the synthetic subject as the phone's camera.

Every test walks the seed's process for its channel on a phone-sized screen and saves a
screenshot of each step under test-artifacts/flows/ (docs/img/flows/ holds a selection).
The challenge comes from a seeded RNG, so the clip is rendered before the page asks: the
subject rests (the live preview's readiness), then performs each step as the page prompts
it, at the times the server's schedule says (``conftest.rehearse`` / ``start_recording``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import support
from tests.web.conftest import Phone, Rehearsed, Server, rehearse, start_recording, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def actions_plan() -> support.Planned:
    """Two actions, no blink: on a loaded 2-core test machine Chromium's fake camera and its
    recorder drop frames, and a 0.4-s blink can fall between them (the liveness tests cover blinks)."""
    start = 0
    while True:
        plan = support.plan_challenge("actions", n_actions=2, start=start)
        if "blink" not in plan.actions:
            return plan
        start = plan.seed + 1


@pytest.fixture(scope="module")
def digits_plan() -> support.Planned:
    return support.plan_challenge("digits")


def _fill_identity(page: Any, name: str, number: str) -> None:
    page.fill("#id-name", name)
    page.fill("#id-number", number)


def _record_and_wait(phone: Phone, server: Server, plan: support.Planned, clip: Rehearsed) -> dict[str, Any]:
    """Open the face step with the planned challenge, record in step with the clip, wait for the result."""
    page = phone.page
    server.seed_challenges(plan.seed)
    page.click("#start-face")
    page.wait_for_selector('[data-step="face"]:not([hidden])')
    # Before the start the page knows only the kind and length: no digits, actions or times.
    challenge = page.evaluate("window.pensioncert.challenge")
    assert challenge["step_count"] == len(plan.steps) and "digits" not in challenge and "actions" not in challenge
    page.wait_for_selector('#prompt[data-code="web.ready.ok"]', timeout=60_000)
    phone.shot("ready")
    start_recording(page, clip)
    wait_until(page, "() => window.pensioncert.shown.length >= 1", 10_000)
    phone.shot("recording")
    _one_prompt_at_a_time(page, plan)
    page.wait_for_selector('[data-step="result"]:not([hidden])', timeout=240_000)
    phone.shot("result")
    result: dict[str, Any] = page.evaluate("window.pensioncert.result")
    return result


def _one_prompt_at_a_time(page: Any, plan: support.Planned) -> None:
    """Each step shown alone, in order, at its time after the recording started (±0.25 s)."""
    seen: list[tuple[str | None, str]] = []  # (step index, text) as the screen changed
    while page.evaluate("window.pensioncert.recording"):
        now = page.evaluate("[document.getElementById('prompt').dataset.index || null,"
                            " document.getElementById('prompt').textContent]")
        if not seen or seen[-1] != tuple(now):
            seen.append(tuple(now))
        page.wait_for_timeout(200)
    started = page.evaluate("window.pensioncert.started")
    assert [s["at"] for s in started["steps"]] == list(plan.schedule)
    shown = page.evaluate("window.pensioncert.shown")
    assert [s["index"] for s in shown] == list(range(len(plan.steps)))
    for entry in shown:
        assert abs(entry["shown_at"] - entry["at"]) < 0.25, shown
    lang = "en" if page.evaluate("document.documentElement.lang") == "en" else "zh"
    prompts = [step["digit"] or step["prompt"][lang] for step in started["steps"]]
    steps = [(index, text) for index, text in seen if index is not None]
    assert steps == [(str(i), text) for i, text in enumerate(prompts)], seen  # one at a time, in order, each once


def _records_of(number: str) -> list[Any]:
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree, history

    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), number)
        assert retiree is not None
        return history(session, retiree.id)


def test_wechat_id_card_then_four_digits_passes(
    server: Server, open_phone: Any, numbers: dict[str, str], digits_plan: support.Planned, tmp_path: Any
) -> None:
    name, number = support.IN_WINDOW_NO_PHOTO, numbers[support.IN_WINDOW_NO_PHOTO]
    front, back = support.id_card_jpegs(name, number)
    (tmp_path / "front.jpg").write_bytes(front)
    (tmp_path / "back.jpg").write_bytes(back)
    clip = rehearse(digits_plan)
    with open_phone(clip.files) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/wechat")
        page.wait_for_selector('[data-step="idcard"]:not([hidden])')
        phone.shot("upload-id-card")
        page.set_input_files("#card-front", str(tmp_path / "front.jpg"))
        page.set_input_files("#card-back", str(tmp_path / "back.jpg"))
        page.click("#card-submit")
        page.wait_for_selector('[data-step="confirm"]:not([hidden])', timeout=120_000)
        assert page.input_value("#confirm-name") == name
        assert page.input_value("#confirm-id") == number
        phone.shot("confirm-fields")
        page.click("#confirm-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == "decision.proceed"
        phone.shot("eligible")
        result = _record_and_wait(phone, server, digits_plan, clip)
    assert result["outcome"] == "review", result  # a match against a card portrait alone goes to a reviewer
    assert [r.channel for r in _records_of(number)][:1] == ["wechat"]


def test_alipay_self_passes(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    clip = rehearse(actions_plan)
    with open_phone(clip.files) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/alipay")
        phone.shot("choose")
        page.click("#choose-self")
        _fill_identity(page, support.IN_WINDOW_2, numbers[support.IN_WINDOW_2])
        phone.shot("identity")
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        phone.shot("eligible")
        result = _record_and_wait(phone, server, actions_plan, clip)
        assert page.is_visible("#result-repeat")
    assert result["outcome"] == "passed", result
    assert result["next_window"] is not None


def test_alipay_for_someone_else_records_the_helper(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    number = numbers[support.OVERDUE]
    clip = rehearse(actions_plan)
    with open_phone(clip.files) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/alipay")
        page.click("#choose-other")
        page.fill("#helper-name", "陈小华")
        page.fill("#helper-phone", "139 1234 5678")
        page.select_option("#helper-relationship", "child")
        _fill_identity(page, support.OVERDUE, number)
        phone.shot("proxy-identity")
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == "decision.proceed_overdue"
        phone.shot("eligible-overdue")
        result = _record_and_wait(phone, server, actions_plan, clip)
        assert "陈小华" in page.inner_text("#result-helper")
    assert result["outcome"] == "passed" and result["proxy"] is True, result
    [record] = [r for r in _records_of(number) if r.result == "passed"]
    assert (record.proxy_name, record.proxy_phone, record.proxy_relationship) == ("陈小华", "13912345678", "child")


def test_cityapp_passes_and_the_result_survives_a_reload(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    clip = rehearse(actions_plan)
    with open_phone(clip.files) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        phone.shot("start")
        _fill_identity(page, support.IN_WINDOW, numbers[support.IN_WINDOW])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        result = _record_and_wait(phone, server, actions_plan, clip)
        session_id = page.evaluate("window.pensioncert.session.id")
        assert f"s={session_id}" in page.url
        page.reload()
        page.wait_for_selector('[data-step="result"]:not([hidden])')
        assert page.get_attribute("#result-box", "data-outcome") == "passed"
        phone.shot("result-after-reload")
    assert result["outcome"] == "passed", result
    assert [r.channel for r in _records_of(numbers[support.IN_WINDOW]) if r.result == "passed"] == ["cityapp"]


def test_subject_not_following_the_schedule_fails(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    """The right actions in the right order, each prompted 1.5 s earlier than the page prompts it: a
    recording made for another schedule (or by someone who knows the actions but not the times)."""
    clip = rehearse(actions_plan, early=1.5)
    with open_phone(clip.files) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, support.IN_WINDOW_2, numbers[support.IN_WINDOW_2])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        result = _record_and_wait(phone, server, actions_plan, clip)
    assert result["outcome"] == "failed", result
    reasons = {reason["code"] for reason in result["reasons"]}
    # Failed for its timing, not for a poor recording: every other check had what it needed.
    assert reasons & {"liveness.action_not_in_time", "liveness.unrequested_action"}, reasons
    assert not reasons & {"liveness.too_few_frames", "liveness.too_short", "liveness.too_few_face_frames"}, reasons


def test_in_app_browser_without_camera_records_natively_and_follows_the_review(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    """In-app browsers often refuse getUserMedia: the page falls back to the phone's own camera app
    (``<input type=file accept=video/* capture=user>``), starting the challenge untimed with every
    step listed. Untimed actions never pass automatically; the result page follows until a reviewer decides."""
    native = support.actions_clip(actions_plan)
    name = support.IN_WINDOW
    number = numbers[name]
    with open_phone(None) as phone:  # no camera device at all
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, name, number)
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        server.seed_challenges(actions_plan.seed)
        page.click("#start-face")
        page.wait_for_selector("#fallback-open.primary")
        assert page.is_hidden("#record-start")
        phone.shot("camera-refused")
        page.click("#fallback-open")
        page.wait_for_selector('[data-step="native"]:not([hidden])')
        assert page.get_attribute("#native-steps", "data-steps") == ",".join(actions_plan.actions)
        assert page.evaluate("window.pensioncert.started.timed") is False
        phone.shot("native-steps")
        page.set_input_files("#fallback-video", str(native.mp4))
        page.wait_for_selector('[data-step="result"]:not([hidden])', timeout=240_000)
        assert page.get_attribute("#result-box", "data-outcome") == "review"
        assert page.is_visible("#result-waiting")
        phone.shot("review")
        _reviewer_accepts(number)
        page.wait_for_selector('#result-box[data-outcome="passed"]', timeout=20_000)  # no reload needed
        phone.shot("review-accepted")
        page.reload()
        page.wait_for_selector('#result-box[data-outcome="passed"]')
        page.goto(f"{server.url}/h5/query")
        page.fill("#q-name", name)
        page.fill("#q-id", number)
        page.click("#query-submit")
        page.wait_for_selector("#query-result:not([hidden])")
        rows = page.locator("#query-history tbody tr").evaluate_all("rows => rows.map(r => r.dataset.result)")
        phone.shot("history-one-row")
    assert rows == ["passed"], rows  # one row for the attempt, with its final outcome


def _reviewer_accepts(number: str) -> None:
    from pensioncert.admin.review import decide, open_case
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree

    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), number)
        assert retiree is not None
        case = open_case(session, retiree.id)
        assert case is not None
        decide(session, retiree.id, case.record.id, accept=True, reason="same_person", notes="", reviewer="tester")


def test_english_flow_speaks_english_end_to_end(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    """A family member who reads English: every step and the result come from the English catalogue."""
    clip = rehearse(actions_plan, language="en")
    with open_phone(clip.files, lang="en") as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/alipay?lang=en")
        page.click("#choose-self")
        _fill_identity(page, support.OVERDUE_OLD, numbers[support.OVERDUE_OLD])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert "certify now to resume payment" in page.inner_text("#decision-message").lower()
        result = _record_and_wait(phone, server, actions_plan, clip)
        body = page.inner_text("main")
        spoken = page.evaluate("window.pensioncert.spoken")
    assert result["outcome"] == "passed", result
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in body), body  # no Chinese left on the English page
    assert any(s["key"] == f"challenge.action.{actions_plan.actions[0]}" and s["via"] == "audio" for s in spoken)


def test_failed_liveness_shows_reasons_retry_advice_and_offline_channels(
    server: Server, open_phone: Any, numbers: dict[str, str], actions_plan: support.Planned
) -> None:
    clip = rehearse(actions_plan, perform=False)
    with open_phone(clip.files) as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, support.OVERDUE_OLD, numbers[support.OVERDUE_OLD])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        result = _record_and_wait(phone, server, actions_plan, clip)
        assert result["outcome"] == "failed", result
        assert page.locator("#result-reasons li").count() >= 1
        advice = page.inner_text("#result-advice")
        assert "安静" in advice and "光线" in advice and "帽子和眼镜" in advice
        assert page.locator("#result-offline li").count() == 4
        assert page.is_visible("#retry")
        page.click("#retry")
        page.wait_for_selector('[data-step="face"]:not([hidden])')
        page.wait_for_selector('#prompt[data-code="web.ready.ok"]', timeout=60_000)
        phone.shot("retry-new-challenge")


@pytest.mark.parametrize(("case", "name", "code", "text"), [
    ("not-yet", support.NOT_YET, "decision.not_yet", "认证时间未到"),
    ("info-abnormal", support.ABNORMAL, "decision.info_abnormal", "社会保险信息异常，请到社保经办机构核实"),
    ("out-of-scope", support.OUT_OF_SCOPE, "decision.out_of_scope", "您不属于本次认证范围"),
], ids=["not-yet", "info-abnormal", "out-of-scope"])
def test_ineligible_people_get_the_seed_message_and_no_camera(
    server: Server, open_phone: Any, numbers: dict[str, str], case: str, name: str, code: str, text: str
) -> None:
    with open_phone() as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, name, numbers[name])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == code
        assert text in page.inner_text("#decision-message")
        assert not page.is_visible("#start-face")
        assert page.locator("#decision-stop .offline-list li").count() == 4
        phone.shot(case)


def test_already_certified_is_a_success_notice_with_the_next_period(
    server: Server, open_phone: Any, numbers: dict[str, str]
) -> None:
    with open_phone() as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, support.ALREADY, numbers[support.ALREADY])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == "decision.already_certified"
        assert "下次可认证时间" in page.inner_text("#decision-message")
        assert "done" in (page.get_attribute("#decision-message", "class") or "")
        assert page.is_visible("#decision-next")
        assert not page.is_visible("#decision-stop") and not page.is_visible("#start-face")
        phone.shot("already-certified")


def test_name_mismatch_leads_back_to_the_form(server: Server, open_phone: Any, numbers: dict[str, str]) -> None:
    with open_phone() as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, "张薇", numbers[support.IN_WINDOW])
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == "decision.no_match"
        phone.shot("name-mismatch")
        page.click("#edit-identity")
        page.wait_for_selector('[data-step="identity"]:not([hidden])')
        assert page.input_value("#id-number") == numbers[support.IN_WINDOW]  # kept: fix only what was wrong
        page.fill("#id-name", " 张伟 ")
        page.click("#identity-submit")
        page.wait_for_selector('#decision-message[data-code="decision.proceed"]')
        assert page.is_visible("#start-face")


def test_daily_cap_is_said_at_the_eligibility_step(server: Server, open_phone: Any, numbers: dict[str, str]) -> None:
    """Five failures today (on any channel): a new session says so before any recording, with the day to
    come back and the offline channels, instead of refusing after the user starts."""
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree, record_certification

    number = numbers[support.IN_WINDOW_2]
    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), number)
        assert retiree is not None
        for _ in range(5):
            record_certification(session, retiree, channel="wechat", method="face_digits", result="failed")
    tomorrow = support.cst_today().toordinal() + 1
    with open_phone() as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, support.IN_WINDOW_2, number)
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == "flow.retry_cap_day"
        assert "明天再试" in page.inner_text("#decision-message")
        day = type(support.cst_today()).fromordinal(tomorrow)
        assert f"{day.month}月{day.day}日" in page.inner_text("#cap-retry")
        assert not page.is_visible("#start-face")
        assert page.locator("#decision-stop .offline-list li").count() == 4
        phone.shot("cap-reached")


def test_number_typed_with_spaces_reaches_the_eligibility_answer(
    server: Server, open_phone: Any, numbers: dict[str, str]
) -> None:
    """Issue 14: ``4403 0419 5803 1201 77`` typed into the field (spaces, numeric keypad) reaches 张伟."""
    number = numbers[support.IN_WINDOW]
    spaced = " ".join([number[:4], number[4:8], number[8:12], number[12:16], number[16:]]).lower()
    with open_phone() as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        assert page.get_attribute("#id-number", "inputmode") == "numeric"
        page.fill("#id-name", "  张伟")
        page.click("#id-number")
        page.keyboard.type(spaced)
        assert page.input_value("#id-number") == spaced  # nothing cut off
        phone.shot("typed-with-spaces")
        page.click("#identity-submit")
        page.wait_for_selector('[data-step="decision"]:not([hidden])')
        assert page.get_attribute("#decision-message", "data-code") == "decision.proceed"
        assert page.inner_text("#decision-who").startswith("张*")
    assert spaced.replace(" ", "") == number.lower()


def test_typing_mistakes_are_explained(server: Server, open_phone: Any, numbers: dict[str, str]) -> None:
    with open_phone() as phone:
        page = phone.page
        page.goto(f"{server.url}/h5/cityapp")
        _fill_identity(page, support.IN_WINDOW, numbers[support.IN_WINDOW][:-1] + "0")
        page.click("#identity-submit")
        page.wait_for_selector("#flow-error:not([hidden])")
        assert "校验位" in page.inner_text("#flow-error")
        phone.shot("checksum-error")


def test_query_help_offline_and_english(server: Server, open_phone: Any, numbers: dict[str, str]) -> None:
    with open_phone() as phone:
        page = phone.page
        page.goto(server.url + "/")
        assert page.locator(".channel-card").count() == 3
        assert page.locator(".qr img").evaluate_all("imgs => imgs.every(i => i.naturalWidth > 0)")
        phone.shot("home")
        assert page.get_attribute("#lang-switch", "href") == "/?lang=en"
        page.goto(server.url + "/?lang=en")
        assert "Pension entitlement certification" in page.inner_text("h1")
        phone.shot("home-en")
        page.goto(server.url + "/h5/query")
        page.fill("#q-name", support.ALREADY)
        page.fill("#q-id", numbers[support.ALREADY])
        page.click("#query-submit")
        page.wait_for_selector("#query-result:not([hidden])")
        assert page.get_attribute("#query-decision", "data-code") == "decision.already_certified"
        assert not page.is_visible("#query-history-empty")  # no "no records" beside "already certified"
        assert not page.is_visible("#query-history-title")
        phone.shot("query")
        page.goto(server.url + "/h5/help")
        for question in ("如何查询认证时间", "如何确定认证已经成功", "社会保险信息异常", "认证时间未到",
                         "人脸识别", "哪些退休人员可以网上认证"):
            assert question in page.inner_text(".qa")
        phone.shot("help")
        page.goto(server.url + "/h5/offline")
        assert page.locator(".offline-list li").count() == 4
        phone.shot("offline")
