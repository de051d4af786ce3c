"""The worker's decision is fail closed (issue #12): what a machine may conclude from an analysis.

The analyser is replaced here by a verdict chosen by the test, so each rule of the decision is
seen alone: a pass of the analyser becomes ``passed`` only for a timed challenge (or untimed
English digits) compared with an accepted reference; otherwise ``review``; and a face engine
that cannot run is an error, never a skipped check. The end-to-end versions with the real
analyser and rendered clips are in ``test_attacks.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from pensioncert.storage.models import CertificationRecord, VerificationJob
from tests.api import support
from tests.api.conftest import Api, ManualQueue

Stub = Callable[..., None]


@pytest.fixture(scope="module")
def small_webm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Any decodable recording: the stubbed analyser does not look at it."""
    from pensioncert.media.encode import encode_video

    frames = np.random.default_rng(0).integers(0, 255, (20, 96, 128, 3), dtype=np.uint8)
    path = tmp_path_factory.mktemp("decision") / "r.webm"
    return encode_video(path, frames, 10.0, container="webm").read_bytes()  # type: ignore[arg-type]


@pytest.fixture
def verdict(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stub]:
    """``verdict(passed=…, match=…)`` makes the analyser answer that for every recording."""
    from pensioncert.liveness.analyse import LivenessVerdict

    def stub(*, passed: bool = True, match: Any = "same", reasons: tuple[str, ...] = ()) -> None:
        face = SimpleNamespace(same_person=True, identity_consistent=True) if match == "same" else match

        def analyse(video: bytes, challenge: Any, embedding: Any, **_: Any) -> LivenessVerdict:
            return LivenessVerdict(passed=passed, reasons=list(reasons), scores={}, face_match=face)

        monkeypatch.setattr("pensioncert.liveness.analyse_recording", analyse)

    yield stub


def _record(session_id: str) -> CertificationRecord | None:
    from sqlalchemy import select

    from pensioncert.storage.db import get_database

    with get_database().session() as session:
        record = session.scalars(select(CertificationRecord).where(CertificationRecord.session_id == session_id)
                                 .order_by(CertificationRecord.id.desc())).first()
        if record is not None:
            session.expunge(record)
        return record


def _reference_of(api: Api, name: str) -> bytes | None:
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree

    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), api.numbers[name])
        assert retiree is not None
        return retiree.reference_photo_encrypted


def _attempt(api: Api, queue: ManualQueue, video: bytes, *, name: str = support.IN_WINDOW, channel: str = "cityapp",
             timed: bool = True, card: bool = False, language: str = "zh-CN") -> tuple[str, dict[str, Any]]:
    """One certification with the worker run here; returns the session and its result."""
    from pensioncert.jobs.verification import run_verification

    session_id = api.session(channel, language=language)
    if card:
        _read_card(session_id, name, api.numbers[name])
    decision = api.identify(session_id, name, source="id_card" if card else "typed").json()
    assert decision["may_certify"] is True and decision["has_reference"] is True, decision
    started = api.started_challenge(session_id, timed=timed)
    upload = api.upload(session_id, started["id"], video)
    assert upload.status_code == 202, upload.text
    job_id = upload.json()["id"]
    assert queue.jobs[-1] == job_id
    for _ in range(5):  # at most jobs.max_runs runs: an erroring job is handed back, then decided
        if run_verification(job_id) == "decided":
            break
    return session_id, api.result(session_id)


def _read_card(session_id: str, name: str, number: str) -> None:
    """What a successful ``/id-card`` leaves behind (OCR itself is tested in tests/documents)."""
    from pensioncert.certification import flow
    from pensioncert.storage.db import get_database
    from pensioncert.storage.media_store import media_store_from_settings

    with get_database().session() as session:
        cert_session = flow.load_session(session, session_id)
        flow.record_card_reading(session, cert_session, media_store_from_settings(),
                                 fields={"name": name, "id_number": number, "valid_until": "long_term"},
                                 problems=[], portrait_png=support.subject_png(), today=support.cst_today())


def test_timed_challenge_against_the_registry_photo_may_pass(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub
) -> None:
    api, queue = manual_api
    verdict(passed=True)
    session_id, result = _attempt(api, queue, small_webm)
    assert result["outcome"] == "passed", result
    record = _record(session_id)
    assert record is not None and record.result == "passed" and record.scores["timed"] is True


def test_an_analyser_fail_is_a_fail(manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub) -> None:
    api, queue = manual_api
    verdict(passed=False, reasons=("liveness.action_not_seen",))
    _, result = _attempt(api, queue, small_webm)
    assert result["outcome"] == "failed" and [r["code"] for r in result["reasons"]] == ["liveness.action_not_seen"]


@pytest.mark.parametrize(("channel", "language"), [("cityapp", "zh-CN"), ("wechat", "zh-CN")],
                         ids=["actions", "mandarin-digits"])
def test_untimed_fallback_goes_to_review_even_when_every_check_passed(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub, channel: str, language: str
) -> None:
    api, queue = manual_api
    verdict(passed=True)
    session_id, result = _attempt(api, queue, small_webm, channel=channel, language=language, timed=False)
    assert result["outcome"] == "review" and result["manual_review"] is True, result
    assert [r["code"] for r in result["reasons"]] == ["flow.review_untimed"]
    record = _record(session_id)
    assert record is not None and (record.result, record.method, record.certified_on) == (
        "review", "manual_review", None)
    assert api.identify(api.session(), support.IN_WINDOW).json()["code"] == "decision.proceed"  # not certified


def test_untimed_english_digits_are_decided_by_their_content(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub
) -> None:
    """The one untimed answer a machine may pass: English digits, whose content is recognised."""
    api, queue = manual_api
    verdict(passed=True)
    _, result = _attempt(api, queue, small_webm, channel="wechat", language="en", timed=False)
    assert result["outcome"] == "passed", result


def test_card_portrait_reference_goes_to_review_and_is_enrolled_only_on_acceptance(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub
) -> None:
    from pensioncert.admin import review
    from pensioncert.storage.db import get_database

    api, queue = manual_api
    verdict(passed=True)
    name = support.IN_WINDOW_NO_PHOTO
    session_id, result = _attempt(api, queue, small_webm, name=name, card=True)
    assert result["outcome"] == "review", result
    assert [r["code"] for r in result["reasons"]] == ["flow.review_card_portrait"]
    record = _record(session_id)
    assert record is not None and record.scores["reference"] == "id_card" and record.notes == ""
    assert _reference_of(api, name) is None
    with get_database().session() as session:
        decision = review.decide(session, record.retiree_id, record.id, accept=True, reason="same_person",
                                 notes="card and face agree", reviewer="reviewer")
        assert "ID-card portrait" in decision.notes and decision.notes.startswith("card and face agree")
    assert _reference_of(api, name) is not None
    assert api.result(session_id)["outcome"] == "passed"


def test_a_rejected_card_case_enrols_nothing(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub
) -> None:
    from pensioncert.admin import review
    from pensioncert.storage.db import get_database

    api, queue = manual_api
    verdict(passed=True)
    session_id, _ = _attempt(api, queue, small_webm, name=support.IN_WINDOW_NO_PHOTO, card=True)
    record = _record(session_id)
    assert record is not None
    with get_database().session() as session:
        review.decide(session, record.retiree_id, record.id, accept=False, reason="not_same_person", notes="",
                      reviewer="reviewer")
    assert _reference_of(api, support.IN_WINDOW_NO_PHOTO) is None


def test_trusted_card_portrait_may_pass_but_never_becomes_the_reference(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_FLOW__TRUST_CARD_PORTRAIT", "true")
    get_settings.cache_clear()
    api, queue = manual_api
    verdict(passed=True)
    _, result = _attempt(api, queue, small_webm, name=support.IN_WINDOW_NO_PHOTO, card=True)
    assert result["outcome"] == "passed", result
    assert _reference_of(api, support.IN_WINDOW_NO_PHOTO) is None


def test_enrolment_records_no_enrolment_note(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_FLOW__ENROLL_REFERENCE_ON_FIRST_CERTIFICATION", "true")
    get_settings.cache_clear()
    api, queue = manual_api
    verdict(passed=True)
    session_id, result = _attempt(api, queue, small_webm, name=support.IN_WINDOW_NO_PHOTO)
    assert result["outcome"] == "review" and [r["code"] for r in result["reasons"]] == ["flow.review_no_reference"]
    record = _record(session_id)
    assert record is not None and record.notes == ""  # nothing was enrolled by the job


def _job_of(session_id: str) -> VerificationJob:
    from sqlalchemy import select

    from pensioncert.storage.db import get_database

    with get_database().session() as session:
        job = session.scalars(select(VerificationJob).where(VerificationJob.session_id == session_id)).one()
        session.expunge(job)
        return job


def test_face_engine_unavailable_is_an_error_never_a_skip(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pensioncert.biometrics import engines
    from pensioncert.settings import get_settings

    def broken() -> Any:
        raise RuntimeError("model file missing")

    monkeypatch.setattr(engines, "face_encoder", broken)
    api, queue = manual_api
    verdict(passed=True)
    session_id, result = _attempt(api, queue, small_webm)
    assert result["outcome"] == "error" and result["retry_allowed"] is True, result
    job = _job_of(session_id)
    assert (job.result, job.error_code, job.attempts) == ("error", "verify.internal_error",
                                                          get_settings().jobs.max_runs)
    assert _record(session_id) is None


def test_a_pass_without_face_evidence_is_an_error(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub
) -> None:
    """An analyser that says "passed" but ran no face match (engine missing, too few faces) cannot pass."""
    api, queue = manual_api
    verdict(passed=True, match=None)
    session_id, result = _attempt(api, queue, small_webm)
    assert result["outcome"] == "error" and _job_of(session_id).error_code == "verify.internal_error"


def test_a_pass_whose_face_match_disagrees_fails(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub
) -> None:
    api, queue = manual_api
    verdict(passed=True, match=SimpleNamespace(same_person=False, identity_consistent=True))
    _, result = _attempt(api, queue, small_webm)
    assert result["outcome"] == "failed"


def test_registry_retiree_unaffected_by_a_card(
    manual_api: tuple[Api, ManualQueue], small_webm: bytes, verdict: Stub
) -> None:
    """With a registry photo the card's portrait is not the reference: a timed pass passes."""
    api, queue = manual_api
    verdict(passed=True)
    session_id, result = _attempt(api, queue, small_webm, name=support.IN_WINDOW, card=True)
    assert result["outcome"] == "passed", result
    record = _record(session_id)
    assert record is not None and record.scores["reference"] == "registry"
    assert isinstance(_reference_of(api, support.IN_WINDOW), bytes)
