"""Recordings end to end through the API with the real face and liveness pipeline.

The synthetic subject (a real photo on a moving 3D head) answers the challenge; the
registry's reference photo is the same photo. Clips are rendered once per session.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pensioncert.storage.models import CertificationRecord, Challenge, Retiree, VerificationJob
from tests.api import support
from tests.api.conftest import Api, ManualQueue, assert_error

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def planned() -> support.Planned:
    return support.plan_challenge("actions", n_actions=2)


@pytest.fixture(scope="module")
def good_clip(planned: support.Planned) -> support.ClipFiles:
    return support.actions_clip(planned)


@pytest.fixture(scope="module")
def idle_clip(planned: support.Planned) -> support.ClipFiles:
    return support.actions_clip(planned, perform=False)


def _records(retiree_name: str, api: Api, *session_ids: str) -> list[CertificationRecord]:
    """The retiree's records made by these sessions (the demo registry may hold others)."""
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree, history

    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), api.numbers[retiree_name])
        assert retiree is not None
        return [r for r in reversed(history(session, retiree.id)) if r.session_id in session_ids]


def _certify(api: Api, planned: support.Planned, clip: Path, name: str, channel: str = "cityapp",
             content_type: str = "video/webm", **session: object) -> tuple[str, dict[str, object]]:
    session_id = api.session(channel, **session)
    assert api.identify(session_id, name).json()["may_certify"] is True
    challenge = api.started_challenge(session_id, seed=planned.seed)
    assert tuple(challenge["actions"]) == planned.actions
    assert tuple(step["at"] for step in challenge["steps"]) == planned.schedule
    job = api.upload(session_id, challenge["id"], clip.read_bytes(), clip.name, content_type)
    assert job.status_code == 202, job.text
    assert api.wait(job.json()["id"])["result"] in ("passed", "failed", "review")
    return session_id, api.result(session_id)


def test_genuine_recording_passes_and_moves_the_cycle(
    db_api: Api, planned: support.Planned, good_clip: support.ClipFiles
) -> None:
    api = db_api
    session_id, result = _certify(api, planned, good_clip.webm, support.IN_WINDOW)
    assert result["outcome"] == "passed", result
    assert result["reasons"] == [] and result["offline_channels"] == []
    window = result["next_window"]
    assert window is not None and f"{int(window['start'][:4])}年" in result["message"]["zh"]
    records = _records(support.IN_WINDOW, api, session_id)
    assert [(r.channel, r.method, r.result, r.certified_on) for r in records] == [
        ("cityapp", "face_actions", "passed", support.cst_today())]
    # The seed's advice: certifying again shows the next period, which proves it passed.
    again = api.identify(api.session(), support.IN_WINDOW).json()
    assert again["code"] == "decision.already_certified"
    history = api.client.post("/api/v1/queries/history",
                              json={"name": support.IN_WINDOW, "id_number": api.numbers[support.IN_WINDOW]}).json()
    assert [h["result"] for h in history["history"]] == ["passed"]
    assert api.client.get(f"/api/v1/sessions/{session_id}").json()["state"] == "passed"


def test_proxy_mp4_recording_passes_resumes_payment_and_records_the_helper(
    api: Api, planned: support.Planned, good_clip: support.ClipFiles
) -> None:
    helper = {"name": "陈小华", "phone": "13912345678", "relationship": "child"}
    session_id, result = _certify(api, planned, good_clip.mp4, support.OVERDUE, "alipay", "video/mp4",
                                  mode="proxy", helper=helper)
    assert result["outcome"] == "passed" and result["proxy"] is True
    [record] = _records(support.OVERDUE, api, session_id)
    assert (record.proxy_name, record.proxy_phone, record.proxy_relationship) == ("陈小华", "13912345678", "child")
    assert record.channel == "alipay" and record.back_pay_months >= 1  # was suspended: back pay


def test_failed_liveness_gives_reasons_advice_and_then_manual_review(
    api: Api, planned: support.Planned, idle_clip: support.ClipFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_SESSION", "2")
    get_settings.cache_clear()
    session_id, first = _certify(api, planned, idle_clip.webm, support.IN_WINDOW_2)
    assert first["outcome"] == "failed"
    assert "liveness.action_not_seen" in [r["code"] for r in first["reasons"]]
    assert {a["code"] for a in first["advice"]} >= {"advice.quiet_place", "advice.good_light",
                                                     "advice.remove_hat_glasses"}
    assert len(first["offline_channels"]) == 4
    assert first["retry_allowed"] is True and first["attempts_left"] == 1 and first["manual_review"] is False
    challenge = api.started_challenge(session_id, seed=planned.seed)
    job = api.upload(session_id, challenge["id"], idle_clip.webm.read_bytes())
    api.wait(job.json()["id"])
    final = api.result(session_id)
    assert final["outcome"] == "failed" and final["retry_allowed"] is False and final["manual_review"] is True
    assert final["message"]["code"] == "result.failed_final"
    assert_error(api.challenge(session_id), 429, "flow.retry_cap_session")
    results = [r.result for r in _records(support.IN_WINDOW_2, api, session_id)]
    assert results == ["failed", "failed", "review"]


def test_refused_uploads_change_nothing(
    api: Api, planned: support.Planned, good_clip: support.ClipFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pensioncert.settings import get_settings
    from pensioncert.storage.db import get_database

    session_id = api.session()
    api.identify(session_id, support.IN_WINDOW)
    challenge = api.started_challenge(session_id, seed=planned.seed)
    other = api.session()
    api.identify(other, support.IN_WINDOW_2)
    foreign = api.started_challenge(other)
    video = good_clip.webm.read_bytes()

    def state() -> tuple[int, int, int, str]:
        with get_database().session() as session:
            jobs = session.scalar(select(func.count()).select_from(VerificationJob)) or 0
            used = session.scalar(select(func.count()).select_from(Challenge).where(Challenge.used_at.is_not(None)))
            records = session.scalar(select(func.count()).select_from(CertificationRecord)) or 0
        return jobs, used or 0, records, api.client.get(f"/api/v1/sessions/{session_id}").json()["state"]

    before = state()
    assert_error(api.upload(session_id, foreign["id"], video), 409, "liveness.challenge_foreign")
    assert_error(api.upload(session_id, "no-such-challenge", video), 409, "liveness.challenge_foreign")
    assert_error(api.upload(session_id, challenge["id"], b""), 422, "upload.empty")
    assert_error(api.upload(session_id, challenge["id"], b"hello, not a video" * 10, "r.txt", "text/plain"), 415,
                 "upload.unsupported_type")
    corrupt = video[:4] + bytes(range(256)) * 40
    assert_error(api.upload(session_id, challenge["id"], corrupt), 422, "media.corrupt")
    monkeypatch.setenv("PENSIONCERT_UPLOAD__MAX_VIDEO_BYTES", str(len(video) - 1))
    get_settings.cache_clear()
    assert_error(api.upload(session_id, challenge["id"], video), 413, "upload.too_large")
    monkeypatch.delenv("PENSIONCERT_UPLOAD__MAX_VIDEO_BYTES")
    get_settings.cache_clear()
    with get_database().session() as session:
        row = session.get(Challenge, challenge["id"])
        assert row is not None
        issued = row.expires_at
        row.expires_at = row.issued_at - timedelta(seconds=1)
    assert_error(api.upload(session_id, challenge["id"], video), 409, "liveness.challenge_expired")
    assert state() == before
    with get_database().session() as session:
        row = session.get(Challenge, challenge["id"])
        assert row is not None
        row.expires_at = issued
    accepted = api.upload(session_id, challenge["id"], video)
    assert accepted.status_code == 202
    assert_error(api.upload(session_id, challenge["id"], video), 409, "liveness.challenge_used")
    api.wait(accepted.json()["id"])
    assert state()[0] == before[0] + 1


def test_damage_past_the_first_frame_is_refused_by_the_job_with_its_own_code(
    api: Api, planned: support.Planned, good_clip: support.ClipFiles
) -> None:
    """The upload check reads the file's structure; the worker's full decode finds a damaged frame."""
    from tests.media.damage import zero_late_video_frame

    session_id = api.session()
    api.identify(session_id, support.IN_WINDOW)
    challenge = api.started_challenge(session_id, seed=planned.seed)
    job = api.upload(session_id, challenge["id"], zero_late_video_frame(good_clip.webm.read_bytes()))
    assert job.status_code == 202, job.text
    assert api.wait(job.json()["id"])["result"] == "failed"
    result = api.result(session_id)
    assert result["outcome"] == "failed" and result["retry_allowed"] is True, result
    assert [r["code"] for r in result["reasons"]] in (["media.truncated"], ["media.corrupt"]), result


def test_run_verification_decides_exactly_once_and_recovers_a_dead_worker(
    manual_api: tuple[Api, ManualQueue], planned: support.Planned, good_clip: support.ClipFiles
) -> None:
    from pensioncert.jobs.verification import recover, run_verification
    from pensioncert.storage.db import get_database

    api, queue = manual_api
    session_id = api.session("cityapp")
    api.identify(session_id, support.OVERDUE_OLD)
    challenge = api.started_challenge(session_id, seed=planned.seed)
    job_id = api.upload(session_id, challenge["id"], good_clip.webm.read_bytes()).json()["id"]
    assert queue.jobs == [job_id]
    assert api.client.get(f"/api/v1/jobs/{job_id}").json()["state"] == "pending"
    assert api.result(session_id)["outcome"] == "pending"
    # A live worker holds the lease: nobody else may take the job.
    now = support.datetime.now(support.UTC)
    with get_database().session() as session:
        job = session.get(VerificationJob, job_id)
        assert job is not None
        job.state, job.worker, job.lease_until = "running", "worker-a", now + timedelta(minutes=5)
    assert run_verification(job_id, worker="worker-b") == "running"
    assert recover() == []
    # The worker died (its lease expired): recovery re-queues it and the next run decides it.
    with get_database().session() as session:
        job = session.get(VerificationJob, job_id)
        assert job is not None
        job.lease_until = now - timedelta(seconds=1)
    assert recover() == [job_id]
    assert run_verification(job_id, worker="worker-b") == "decided"
    assert run_verification(job_id, worker="worker-c") == "decided"  # a duplicate delivery does nothing
    records = _records(support.OVERDUE_OLD, api, session_id)
    assert [r.result for r in records] == ["passed"]
    with get_database().session() as session:
        job = session.get(VerificationJob, job_id)
        assert job is not None and job.attempts == 1 and job.worker == "worker-b" and job.progress == 100
        retiree = session.get(Retiree, records[0].retiree_id)
        assert retiree is not None and retiree.last_certified == support.cst_today()


def test_the_same_recording_uploaded_again_for_the_same_retiree_is_a_replay(
    api: Api, planned: support.Planned, good_clip: support.ClipFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recording of the retiree that the service has seen (kept as a motion trace) is not a live
    answer next time, even to a challenge that asks the same actions on the same schedule."""
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_FLOW__ENROLL_REFERENCE_ON_FIRST_CERTIFICATION", "true")
    get_settings.cache_clear()
    _, first = _certify(api, planned, good_clip.webm, support.IN_WINDOW_NO_PHOTO)
    assert first["outcome"] == "review"  # analysed (its motion kept), waiting for a reviewer
    replay_session, replay = _certify(api, planned, good_clip.mp4, support.IN_WINDOW_NO_PHOTO,
                                      content_type="video/mp4")  # the same recording, re-encoded
    assert replay["outcome"] == "failed", replay
    [record] = _records(support.IN_WINDOW_NO_PHOTO, api, replay_session)
    assert record.reasons == ["liveness.replayed_recording"], record.reasons
    assert record.scores["replay_similarity"] >= get_settings().liveness.replay_max_similarity
    # The user is told what any identity finding tells them, not that a replay was recognised.
    assert [r["code"] for r in replay["reasons"]] == ["liveness.identity_not_confirmed"]


def test_enrolment_policy_sends_the_first_recording_to_review_and_then_compares(
    api: Api, planned: support.Planned, good_clip: support.ClipFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Demo policy with no photo anywhere: nothing passes before a person has looked. Every attempt
    goes to review until a reviewer accepts; then that recording's frame is the reference."""
    from pensioncert.admin import review
    from pensioncert.settings import get_settings
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree

    monkeypatch.setenv("PENSIONCERT_FLOW__ENROLL_REFERENCE_ON_FIRST_CERTIFICATION", "true")
    get_settings.cache_clear()
    first_session, first = _certify(api, planned, good_clip.webm, support.IN_WINDOW_NO_PHOTO)
    assert first["outcome"] == "review" and first["manual_review"] is True
    [record] = _records(support.IN_WINDOW_NO_PHOTO, api, first_session)
    assert (record.result, record.method, record.certified_on) == ("review", "manual_review", None)
    # A second attempt before any review is not compared with the unreviewed frame: review again.
    # (A second performance: the same recording again would be a replay, see the next test.)
    again = support.actions_clip(planned, attempt=1)
    second_session, second = _certify(api, planned, again.webm, support.IN_WINDOW_NO_PHOTO)
    assert second["outcome"] == "review", second
    [latest] = _records(support.IN_WINDOW_NO_PHOTO, api, second_session)
    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), api.numbers[support.IN_WINDOW_NO_PHOTO])
        assert retiree is not None and retiree.reference_photo_encrypted is None
        review.decide(session, latest.retiree_id, latest.id, accept=True, reason="same_person", notes="",
                      reviewer="reviewer")
    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), api.numbers[support.IN_WINDOW_NO_PHOTO])
        assert retiree is not None and retiree.reference_photo_encrypted is not None
    reviewed = api.result(second_session)
    assert reviewed["outcome"] == "passed" and reviewed["next_window"] is not None, reviewed
    assert api.identify(api.session(), support.IN_WINDOW_NO_PHOTO).json()["code"] == "decision.already_certified"
