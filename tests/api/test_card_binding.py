"""The ID card bound to the person (issue #12 point 4): on the card flow the identity is the card's.

Attack: upload retiree A's card, then identify as retiree B (who has no registry photo), so
that A's portrait (or the attacker's own face on a forged card) becomes B's reference. Each
way of trying it is refused before any challenge is issued. The fast tests put the reading
in place as ``/id-card`` leaves it; the slow ones read generated card photos with the real OCR.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pensioncert.storage.models import Challenge
from tests.api import support
from tests.api.conftest import Api, assert_error

VICTIM = support.IN_WINDOW_NO_PHOTO  # eligible, no registry photo: the card's portrait would be the reference
HOLDER = support.IN_WINDOW  # whose card the attacker holds


def _read_card(api: Api, session_id: str, name: str, number: str | None = None, *,
               uncertain: tuple[str, ...] = (), valid_until: str = "long_term") -> None:
    """What ``/id-card`` keeps of a card that read ``name`` and ``number``."""
    from pensioncert.certification import flow
    from pensioncert.storage.db import get_database
    from pensioncert.storage.media_store import media_store_from_settings

    with get_database().session() as session:
        cert_session = flow.load_session(session, session_id)
        flow.record_card_reading(session, cert_session, media_store_from_settings(),
                                 fields={"name": name, "id_number": number or api.numbers[name],
                                         "valid_until": valid_until},
                                 problems=[], portrait_png=support.subject_png(), today=support.cst_today(),
                                 uncertain=list(uncertain))


def _challenges(session_id: str) -> int:
    from sqlalchemy import func, select

    from pensioncert.storage.db import get_database

    with get_database().session() as session:
        return session.scalar(select(func.count()).select_from(Challenge)
                              .where(Challenge.session_id == session_id)) or 0


def _no_challenge(api: Api, session_id: str) -> None:
    assert_error(api.challenge(session_id), 409, "flow.not_identified")
    assert _challenges(session_id) == 0


@pytest.mark.parametrize("source", ["id_card", "typed"])
def test_someone_elses_card_then_another_identity_is_refused(api: Api, source: str) -> None:
    """Declaring the identity "typed" does not escape the card: a card read in the session binds it."""
    session_id = api.session("wechat")
    _read_card(api, session_id, HOLDER)
    assert_error(api.identify(session_id, VICTIM, source=source), 409, "document.identity_mismatch")
    _no_challenge(api, session_id)
    # The card holder's own identity is accepted.
    assert api.identify(session_id, HOLDER, source=source).json()["code"] == "decision.proceed"


def test_card_number_with_a_typed_name_of_someone_else_is_refused(api: Api) -> None:
    session_id = api.session("wechat")
    _read_card(api, session_id, VICTIM)
    assert_error(api.identify(session_id, HOLDER, api.numbers[VICTIM], source="id_card"), 409,
                 "document.identity_mismatch")
    _no_challenge(api, session_id)


def test_the_number_is_never_corrected(api: Api) -> None:
    """Even a confirmed correction of the number is refused: the reader vouched for its check digit."""
    session_id = api.session("wechat")
    _read_card(api, session_id, HOLDER, uncertain=("name",))
    refused = api.identify(session_id, VICTIM, source="id_card", corrected=["name", "id_number"])
    assert_error(refused, 409, "document.identity_mismatch")
    _no_challenge(api, session_id)


def test_a_confirmed_correction_of_an_uncertain_name_is_allowed(api: Api) -> None:
    """OCR read "王方" with low confidence: the user confirms "王芳"; the registry still checks it."""
    number = api.numbers[VICTIM]
    uncertain = api.session("wechat")
    _read_card(api, uncertain, "王方", number, uncertain=("name",))
    assert_error(api.identify(uncertain, VICTIM, source="id_card"), 409, "document.identity_mismatch")
    decision = api.identify(uncertain, VICTIM, source="id_card", corrected=["name"]).json()
    assert decision["code"] == "decision.proceed" and decision["has_reference"] is True
    # The same correction of a name read with confidence is refused.
    certain = api.session("wechat")
    _read_card(api, certain, "王方", number)
    assert_error(api.identify(certain, VICTIM, source="id_card", corrected=["name"]), 409,
                 "document.identity_mismatch")


def test_a_corrected_name_still_has_to_be_the_registry_name(api: Api) -> None:
    session_id = api.session("wechat")
    _read_card(api, session_id, "王方", api.numbers[VICTIM], uncertain=("name",))
    decision = api.identify(session_id, "李四", api.numbers[VICTIM], source="id_card", corrected=["name"]).json()
    assert decision["may_certify"] is False and decision["retiree_name"] is None


def test_a_card_read_after_identification_undoes_it(api: Api) -> None:
    """Identify as the victim first, then scan someone else's card to get a reference: back to the start."""
    session_id = api.session("wechat")
    assert api.identify(session_id, VICTIM).json()["has_reference"] is False
    _read_card(api, session_id, HOLDER)
    body = api.client.get(f"/api/v1/sessions/{session_id}").json()
    assert body["state"] == "started" and body["decision"] is None
    _no_challenge(api, session_id)
    assert_error(api.identify(session_id, VICTIM), 409, "document.identity_mismatch")
    _no_challenge(api, session_id)


def test_an_expired_card_is_refused_and_not_kept(api: Api) -> None:
    from pensioncert.certification import flow
    from pensioncert.storage.db import get_database

    session_id = api.session("wechat")
    with pytest.raises(flow.FlowError) as refused:
        _read_card(api, session_id, VICTIM, valid_until="2020-05-14")
    assert refused.value.code == "document.card_expired"
    with get_database().session() as session:
        assert flow.card_portrait(session, session_id) is None
    # A card that expires today is still valid today.
    _read_card(api, session_id, VICTIM, valid_until=support.cst_today().isoformat())
    assert api.identify(session_id, VICTIM, source="id_card").json()["has_reference"] is True


def test_a_card_kept_before_it_expired_is_refused_at_identification(api: Api) -> None:
    from pensioncert.certification import flow

    card: dict[str, Any] = {"name": VICTIM, "id_number": api.numbers[VICTIM], "valid_until": "2024-05-14"}
    with pytest.raises(flow.FlowError) as refused:
        flow.check_card_binding(card, name=VICTIM, id_number=api.numbers[VICTIM], corrected=(),
                                today=date(2024, 5, 15))
    assert refused.value.code == "document.card_expired"
    assert flow.check_card_binding(card, name=VICTIM, id_number=api.numbers[VICTIM], corrected=(),
                                   today=date(2024, 5, 14)) == []


# ------------------------------------------------------------------ real card photos through /id-card


def _scan(api: Api, session_id: str, front: bytes, back: bytes) -> Any:
    return api.client.post(f"/api/v1/sessions/{session_id}/id-card",
                           files={"front": ("front.jpg", front, "image/jpeg"),
                                  "back": ("back.jpg", back, "image/jpeg")})


@pytest.mark.slow
def test_scanned_card_of_retiree_a_then_identify_as_b_is_refused(api: Api) -> None:
    front, back = support.id_card_jpegs(HOLDER, api.numbers[HOLDER])
    session_id = api.session("wechat")
    reading = _scan(api, session_id, front, back)
    assert reading.status_code == 200, reading.text
    assert reading.json()["fields"]["id_number"] == api.numbers[HOLDER]
    assert_error(api.identify(session_id, VICTIM, source="id_card"), 409, "document.identity_mismatch")
    assert_error(api.identify(session_id, VICTIM), 409, "document.identity_mismatch")
    _no_challenge(api, session_id)


@pytest.mark.slow
def test_scanned_expired_card_is_refused(api: Api) -> None:
    front, back = support.id_card_jpegs(VICTIM, api.numbers[VICTIM], valid_from=date(2004, 5, 14),
                                        valid_until=date(2024, 5, 14))
    session_id = api.session("wechat")
    assert_error(_scan(api, session_id, front, back), 409, "document.card_expired")
    # Nothing was kept: no card portrait can be the reference.
    assert api.identify(session_id, VICTIM).json()["has_reference"] is False
