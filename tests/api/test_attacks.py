"""Issue #12's attacks on the server's side, end to end through the API with the real analyser.

Each test plays one attack as a fraudster would, with clips rendered from the synthetic
subjects, and shows that it fails closed: refused before anything changes, or decided
``review`` (a person looks), never ``passed``. Refusals that need no recording (upload
without start, after the deadline, a second start, someone else's card) are in
``test_challenges.py`` and ``test_card_binding.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import support
from tests.api.conftest import Api

pytestmark = pytest.mark.slow

ATTACKER = "ocv_smiling_man"  # the fraudster's own face
VICTIM = support.IN_WINDOW_NO_PHOTO  # eligible, no registry photo


@pytest.fixture(scope="module")
def planned() -> support.Planned:
    return support.plan_challenge("actions", n_actions=2)


def _reference_of(api: Api, name: str) -> bytes | None:
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree

    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), api.numbers[name])
        assert retiree is not None
        return retiree.reference_photo_encrypted


def _scan_card(api: Api, session_id: str, name: str, photo: str) -> None:
    front, back = support.id_card_jpegs(name, api.numbers[name], photo=photo)
    reading = api.client.post(f"/api/v1/sessions/{session_id}/id-card",
                              files={"front": ("front.jpg", front, "image/jpeg"),
                                     "back": ("back.jpg", back, "image/jpeg")})
    assert reading.status_code == 200, reading.text
    assert reading.json()["portrait_found"] is True


def _answer(api: Api, session_id: str, planned: support.Planned, clip: support.ClipFiles,
            timed: bool = True) -> dict[str, Any]:
    started = api.started_challenge(session_id, seed=planned.seed, timed=timed)
    assert tuple(started["actions"]) == planned.actions
    job = api.upload(session_id, started["id"], clip.webm.read_bytes())
    assert job.status_code == 202, job.text
    api.wait(job.json()["id"])
    return api.result(session_id)


def _certified(api: Api, name: str) -> bool:
    return bool(api.identify(api.session(), name).json()["code"] == "decision.already_certified")


def test_forged_card_with_the_attackers_face_and_the_victims_identity_goes_to_review(
    api: Api, planned: support.Planned
) -> None:
    """A card printed with the victim's name and number and the attacker's face: the attacker's
    recording matches that portrait, the identity binding holds (it is the card's), and the
    only thing standing between the attacker and a pension is that a card portrait alone is
    never enough for a machine: the case goes to a reviewer, and nothing is enrolled."""
    session_id = api.session("cityapp")
    _scan_card(api, session_id, VICTIM, ATTACKER)
    decision = api.identify(session_id, VICTIM, source="id_card").json()
    assert decision["may_certify"] is True and decision["has_reference"] is True
    result = _answer(api, session_id, planned, support.follow_clip(planned, photo=ATTACKER))
    assert result["outcome"] == "review", result
    assert [r["code"] for r in result["reasons"]] == ["flow.review_card_portrait"]
    assert _reference_of(api, VICTIM) is None and not _certified(api, VICTIM)


def test_untimed_fallback_actions_go_to_review(api: Api, planned: support.Planned) -> None:
    """The native-camera fallback shows no timed prompts, so nothing proves the recording is fresh:
    even a genuine recording that performs every action goes to a reviewer."""
    session_id = api.session("cityapp")
    assert api.identify(session_id, support.IN_WINDOW).json()["may_certify"] is True
    result = _answer(api, session_id, planned, support.follow_clip(planned, timed=False), timed=False)
    assert result["outcome"] == "review", result
    assert "flow.review_untimed" in [r["code"] for r in result["reasons"]]
    assert not _certified(api, support.IN_WINDOW)


def test_card_portrait_is_not_stored_as_the_reference_after_a_pass(
    api: Api, planned: support.Planned, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even where the agency trusts card portraits (a pass is allowed), a pass never makes the
    portrait next year's reference: whoever showed a card once would own the retiree's face."""
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_FLOW__TRUST_CARD_PORTRAIT", "true")
    get_settings.cache_clear()
    session_id = api.session("cityapp")
    _scan_card(api, session_id, VICTIM, support.SUBJECT)
    assert api.identify(session_id, VICTIM, source="id_card").json()["has_reference"] is True
    result = _answer(api, session_id, planned, support.follow_clip(planned))
    assert result["outcome"] == "passed", result
    assert _reference_of(api, VICTIM) is None and _certified(api, VICTIM)
