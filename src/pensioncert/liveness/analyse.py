"""``analyse_recording``: is the person in this upload alive, present now, and the right one?

Decided from positive evidence, never from the absence of objections (docs/liveness.md,
"Fail closed"): each required check (duration, face, challenge, passive, identity, and replay
when the retiree's earlier motion is given) returns a :class:`CheckResult` that passed, failed,
or did not run, each failure and each check that could not run with its own message code. The
verdict is ``passed`` only when every required check passed. The numbers behind them go to
``scores`` and ``checks`` for staff only.

One pass over the decoded recording: face mesh per analysed frame → signals → the challenge
(actions in their response windows, or digits heard with the mouth moving in step) → passive
checks → the face engine for identity → the motion compared with the retiree's kept traces.
"""

from __future__ import annotations

import enum
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pensioncert.errors import CodedError
from pensioncert.liveness.actions import detect_actions, detect_timed_actions
from pensioncert.liveness.challenges import Challenge, ChallengeKind
from pensioncert.liveness.continuity import continuity
from pensioncert.liveness.landmarks import FaceTrack, Signals, signals, track_faces
from pensioncert.liveness.passive import frame_stats, longest_frozen_run, moire_score, planarity, thumbnails
from pensioncert.liveness.replay import MotionTrace, closest_replay, motion_trace
from pensioncert.liveness.speech import (
    DigitRecognizer,
    SegmentDigitVerifier,
    av_sync,
    count_syllables,
    default_recognizers,
    voice_segments,
)
from pensioncert.liveness.timing import digit_timing
from pensioncert.media.decode import DecodedMedia, decode_media
from pensioncert.settings import LivenessSettings, Settings, get_settings

REQUIRED_CHECKS = ("duration", "face", "challenge", "passive", "identity")
# Required as well when the caller holds the retiree's earlier motion traces (the job always does).
REPLAY_CHECK = "replay"


class CheckStatus(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_RUN = "not_run"


@dataclass(frozen=True)
class CheckResult:
    """One required check: its outcome, the message codes that say why (none iff it passed), evidence."""

    name: str
    status: CheckStatus
    reasons: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "reasons": list(self.reasons), **self.evidence}


def _passed(name: str, **evidence: Any) -> CheckResult:
    return CheckResult(name, CheckStatus.PASS, (), evidence)


def _failed(name: str, reasons: list[str], **evidence: Any) -> CheckResult:
    if not reasons:
        raise ValueError(f"check {name!r} failed without a reason")
    return CheckResult(name, CheckStatus.FAIL, tuple(dict.fromkeys(reasons)), evidence)


def _not_run(name: str, reason: str, **evidence: Any) -> CheckResult:
    return CheckResult(name, CheckStatus.NOT_RUN, (reason,), evidence)


class FaceEngineUnavailable(CodedError):
    """The face engine could not be imported or loaded: an error for the caller, never a skipped check."""

    code = "liveness.face_engine_unavailable"


@dataclass
class LivenessVerdict:
    """The outcome. ``reasons`` are message codes (staff see all; users see ``user_reasons``)."""

    passed: bool
    reasons: list[str]
    scores: dict[str, float]
    best_frame: NDArray[np.uint8] | None = None
    face_match: Any = None  # biometrics.VideoMatchDecision when the face engine ran
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    timed: bool = False  # the challenge was answered against a schedule (freshness in time)
    required: tuple[str, ...] = REQUIRED_CHECKS
    trace: MotionTrace | None = None  # this recording's motion, for later replay checks (no image)

    @property
    def user_reasons(self) -> list[str]:
        """What the user is told: identity and splice findings share one code (see ``USER_CODES``)."""
        return list(dict.fromkeys(USER_CODES.get(r, r) for r in self.reasons))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (no frame): what the CLI prints and the job stores."""
        match = self.face_match.as_dict() if hasattr(self.face_match, "as_dict") else None
        return {"passed": self.passed, "reasons": self.reasons, "user_reasons": self.user_reasons,
                "required": list(self.required), "challenge": {"timed": self.timed},
                "scores": {k: round(v, 4) for k, v in self.scores.items()},
                "checks": self.checks, "face_match": match}


# Findings a genuine user cannot act on differently and an attacker would learn from: shown to the
# user as one message ("record it yourself, alone, facing the camera"); staff see the real code.
USER_CODES = {
    "liveness.identity_changed": "liveness.identity_not_confirmed",
    "liveness.not_reference_person": "liveness.identity_not_confirmed",
    "liveness.replayed_recording": "liveness.identity_not_confirmed",
}


def analyse_recording(
    video: bytes | Path | DecodedMedia,
    challenge: Challenge,
    reference_embedding: NDArray[np.float64] | None,
    *,
    settings: Settings | None = None,
    recognizers: Mapping[str, DigitRecognizer] | None = None,
    face_engine: bool = True,
    require_identity: bool = True,
    require_reference: bool = False,
    earlier: Sequence[MotionTrace] | None = None,
) -> LivenessVerdict:
    """Analyse one recording against the challenge it answers; passed only if every required check passed.

    Raises :class:`pensioncert.media.decode.MediaError` (code ``media.*``) for uploads that
    cannot be analysed at all, and :class:`FaceEngineUnavailable` when identity is required but
    the face engine cannot run, and ``speech.DigitRecognizerUnavailable`` when a timed Mandarin
    challenge needs the digit verifier and it cannot load; everything else is a verdict. The
    caller checks the challenge (``check_challenge_use``) and marks it used before calling.

    Identity: with ``reference_embedding`` every sampled frame must be that person; without one
    (enrolment, the job decides what follows) the face must stay the same person throughout,
    unless ``require_reference`` (the CLI), which then fails ``liveness.identity_not_checked``.
    ``face_engine=False`` does not run the face engine: the identity check is ``not_run``
    and the verdict cannot pass unless ``require_identity=False`` (liveness-only evaluation).

    ``earlier``: the motion traces of this retiree's earlier recordings (the job passes them,
    possibly none). Given, the ``replay`` check is required: the recording must not be one of
    them played again (``liveness.replay``). The verdict's ``trace`` is this recording's.
    """
    settings = settings or get_settings()
    cfg = settings.liveness
    media = video if isinstance(video, DecodedMedia) else decode_media(
        video, settings=settings, max_side=cfg.analysis_max_side, target_fps=cfg.analysis_fps,
        audio=challenge.kind is not ChallengeKind.ACTIONS)  # only the digits checks listen
    scores: dict[str, float] = {}
    results: list[CheckResult] = []
    seconds = _duration(media.times)
    scores["duration_s"] = seconds
    results.append(_duration_check(media.times, seconds, cfg))
    checks_run = REQUIRED_CHECKS + ((REPLAY_CHECK,) if earlier is not None else ())
    best_frame: NDArray[np.uint8] | None = None
    match = None
    trace: MotionTrace | None = None
    if results[0].status is not CheckStatus.PASS:
        # too little recording to analyse: every other check did not run, for the same reason
        why = results[0].reasons[0]
        results += [_not_run(name, why) for name in checks_run[1:]]
    else:
        track = track_faces(media.frames, media.times, second_face_every=cfg.second_face_every_frames)
        sig = signals(track)
        present = track.present
        face = _face_check(track, sig, cfg, scores)
        results.append(face)
        enough = int(present.sum()) >= cfg.min_face_frames
        if not enough:
            results.append(_not_run("challenge", "liveness.too_few_face_frames", frames_with_face=int(present.sum())))
        elif challenge.kind is ChallengeKind.ACTIONS:
            results.append(_check_actions(sig, media.times, challenge, cfg, scores))
        else:
            results.append(_check_digits(sig, media, challenge, cfg, recognizers, scores))
        thumbs = thumbnails(media.frames)
        results.append(_passive_check(media, track, sig, thumbs, cfg, scores))
        best_frame = _best_frame(media.frames, sig, present)
        if not face_engine:
            results.append(_not_run("identity", "liveness.identity_not_checked", face_engine=False))
        elif not enough:
            results.append(_not_run("identity", "liveness.too_few_face_frames"))
        else:
            identity, match, best = _identity_check(media.frames, track, sig, thumbs,
                                                    reference_embedding, cfg, require_reference)
            results.append(identity)
            if best is not None:
                best_frame = media.frames[best]
            if match is not None and np.isfinite(match.distance):
                scores["face_distance"] = float(match.distance)
        trace = motion_trace(sig, media.times)
        if earlier is not None:
            results.append(_replay_check(trace, earlier, enough, cfg, scores))

    required = tuple(c for c in checks_run if require_identity or c != "identity")
    by_name = {r.name: r for r in results}
    passed = all(name in by_name and by_name[name].status is CheckStatus.PASS for name in required)
    reasons = list(dict.fromkeys(code for r in results if r.name in required for code in r.reasons))
    if not passed and not reasons:  # cannot happen with the checks above; never pass by omission
        reasons = ["liveness.check_missing"]
    checks = {r.name: r.as_dict() for r in results}
    return LivenessVerdict(passed=passed, reasons=reasons, scores=scores, best_frame=best_frame, face_match=match,
                           checks=checks, results=results, timed=challenge.timed, required=required, trace=trace)


def _duration(times: NDArray[np.float64]) -> float:
    """Seconds the frames cover (last minus first, plus one typical frame interval)."""
    if len(times) == 0:
        return 0.0
    if len(times) == 1:
        return 0.0
    step = float(np.median(np.diff(times)))
    return float(times[-1] - times[0]) + step


def _duration_check(times: NDArray[np.float64], seconds: float, cfg: LivenessSettings) -> CheckResult:
    """Long enough, and filmed at a real camera's frame rate (not two frames stretched over seconds)."""
    n = len(times)
    gap = float(np.max(np.diff(times))) if n >= 2 else float("inf")
    evidence = {"seconds": round(seconds, 2), "frames": n, "max_frame_gap_s": round(gap, 3) if n >= 2 else None}
    if seconds < cfg.min_seconds:
        return _failed("duration", ["liveness.too_short"], **evidence)
    if n < cfg.min_frames_per_second * seconds or gap > cfg.max_frame_gap_seconds:
        return _failed("duration", ["liveness.too_few_frames"], **evidence)
    return _passed("duration", **evidence)


def _replay_check(trace: MotionTrace, earlier: Sequence[MotionTrace], enough_face: bool, cfg: LivenessSettings,
                  scores: dict[str, float]) -> CheckResult:
    """Not a replay: no kept trace of this retiree moves like this recording (``liveness.replay``)."""
    evidence: dict[str, Any] = {"compared": len(earlier), "threshold": cfg.replay_max_similarity}
    if not enough_face:
        return _not_run(REPLAY_CHECK, "liveness.too_few_face_frames", **evidence)
    match, which = closest_replay(trace, earlier, cfg)
    evidence |= {"closest": which, **match.as_dict()}
    if which is not None:
        scores["replay_similarity"] = match.similarity
    if match.similarity >= cfg.replay_max_similarity:
        return _failed(REPLAY_CHECK, ["liveness.replayed_recording"], **evidence)
    return _passed(REPLAY_CHECK, **evidence)


def _face_check(track: FaceTrack, sig: Signals, cfg: LivenessSettings, scores: dict[str, float]) -> CheckResult:
    """One face, in the circle, in enough frames and throughout."""
    present = track.present
    n = len(present)
    w, h = track.frame_size
    centre = sig.centre
    off = np.hypot(centre[:, 0] - w / 2, centre[:, 1] - h / 2) / (0.5 * min(w, h))
    in_circle = present & (np.nan_to_num(off, nan=9.0) <= cfg.circle_radius)
    missing = 1.0 - float(in_circle.mean()) if n else 1.0
    multi = int((track.face_counts >= 2).sum())
    scores |= {"face_missing_fraction": missing, "multi_face_frames": float(multi)}
    evidence = {"frames": n, "frames_with_face": int(present.sum()), "multi_face_frames": multi,
                "out_of_circle_fraction": round(missing, 3)}
    reasons = []
    if not present.any():
        reasons.append("liveness.no_face")
    elif int(present.sum()) < cfg.min_face_frames:
        reasons.append("liveness.too_few_face_frames")
    elif missing > cfg.max_missing_face_fraction:
        reasons.append("liveness.face_left_circle")
    if multi >= cfg.min_multi_face_frames:
        reasons.append("liveness.multiple_faces")
    return _failed("face", reasons, **evidence) if reasons else _passed("face", **evidence)


def _passive_check(media: DecodedMedia, track: FaceTrack, sig: Signals, thumbs: NDArray[np.float64],
                   cfg: LivenessSettings, scores: dict[str, float]) -> CheckResult:
    """Flat face, screen, frozen or looping video, no motion: computed on every recording."""
    plan = planarity(track, sig.iod)
    stats = frame_stats(thumbs, min_lag=max(3, int(round(cfg.loop_min_seconds * media.fps))))
    frozen_s = longest_frozen_run(thumbs, media.fps)
    moire = moire_score(media.frames, track)
    scores |= {"planar_motion": plan.motion, "planar_residual": plan.residual, "planar_ratio": plan.ratio,
               "frozen_fraction": stats.frozen_fraction, "loop_ratio": stats.loop_ratio,
               "frame_motion": stats.motion, "frozen_seconds": frozen_s, "moire": moire}
    evidence = {"planar_motion": round(plan.motion, 4), "planar_ratio": round(plan.ratio, 3),
                "frozen_fraction": round(stats.frozen_fraction, 3), "frozen_seconds": round(frozen_s, 2),
                "moire": round(moire, 1), "loop_ratio": round(stats.loop_ratio, 3),
                "loop_lag_frames": stats.loop_lag}
    if int(track.present.sum()) < cfg.min_face_frames or plan.frame < 0 or stats.loop_lag == 0:
        return _not_run("passive", "liveness.too_few_face_frames", **evidence)
    reasons = []
    if plan.motion >= cfg.planar_min_motion and plan.ratio < cfg.planar_max_ratio:
        reasons.append("liveness.flat_face")
    if moire > cfg.max_moire:
        reasons.append("liveness.screen_replay")
    if stats.frozen_fraction > cfg.max_frozen_fraction or frozen_s >= cfg.max_frozen_seconds:
        reasons.append("liveness.frozen_video")
    elif stats.loop_ratio < cfg.loop_ratio:
        reasons.append("liveness.looping_video")
    if stats.motion < cfg.min_frame_motion:
        reasons.append("liveness.no_motion")
    return _failed("passive", reasons, **evidence) if reasons else _passed("passive", **evidence)


def _check_actions(sig: Signals, times: NDArray[np.float64], challenge: Challenge, cfg: LivenessSettings,
                   scores: dict[str, float]) -> CheckResult:
    """Timed: each action begins inside its response window and nothing else is done. Untimed
    (native-camera fallback): in order only, recorded as ``timed: false`` (the job sends it to review)."""
    if challenge.timed:
        timed = detect_timed_actions(sig, times, challenge.actions, challenge.schedule, cfg)
        for action, strength in timed.strengths.items():
            scores[f"action_{action}"] = strength
        evidence: dict[str, Any] = {
            "kind": "actions", "timed": True, "requested": list(challenge.actions),
            "prompts_s": list(challenge.schedule),
            "window_s": [cfg.action_response_min_seconds, cfg.action_response_max_seconds],
            "matched": [None if e is None else {"action": e.action, "onset_s": round(e.start, 2),
                                                "peak_s": round(e.peak, 2), "strength": round(e.strength, 2)}
                        for e in timed.matched],
            "latencies_s": [None if x is None else round(x, 2) for x in timed.latencies],
            "unrequested": [{"action": e.action, "onset_s": round(e.start, 2)} for e in timed.unrequested],
            "detected": [{"action": e.action, "onset_s": round(e.start, 2), "peak_s": round(e.peak, 2)}
                         for e in timed.events],
        }
        if not timed.passed:
            return _failed("challenge", timed.reasons, **evidence)
        return _passed("challenge", **evidence)
    result = detect_actions(sig, times, challenge.actions, cfg)
    for action, strength in result.strengths.items():
        scores[f"action_{action}"] = strength
    evidence = {
        "kind": "actions", "timed": False, "requested": list(challenge.actions),
        "matched": [{"action": e.action, "peak_s": round(e.peak, 2), "strength": round(e.strength, 2)}
                    for e in result.matched],
        "detected": [{"action": e.action, "peak_s": round(e.peak, 2)} for e in result.events],
    }
    if result.reason:
        return _failed("challenge", [result.reason], **evidence)
    return _passed("challenge", **evidence)


def _check_digits(sig: Signals, media: DecodedMedia, challenge: Challenge, cfg: LivenessSettings,
                  recognizers: Mapping[str, DigitRecognizer] | None, scores: dict[str, float]) -> CheckResult:
    """Digits heard with the lips moving in step; timed: each digit voiced in its window after it was shown.

    Content is recognised where a recognizer exists (English: pocketsphinx). Mandarin: the
    timing is the freshness proof (four voiced digits, each starting inside its response window,
    spaced like the prompts, each with the mouth opening), and a segment verifier (the default
    ``PocketsphinxMandarinDigits``) must verify ``mandarin_digit_min_verified`` of the four
    voiced digits as the ones asked for (0: off). Untimed digits without a recognizer have no
    proof at all and fail.
    """
    audio = media.audio
    syllables, peaks = count_syllables(audio, media.sample_rate) if len(audio) else (0, [])
    sync = av_sync(sig.mouth, audio, media.times, media.sample_rate) if len(audio) else 0.0
    mouth_range = float(np.nanpercentile(sig.mouth, 95) - np.nanpercentile(sig.mouth, 5))
    scores |= {"syllables": float(syllables), "av_sync": sync, "mouth_range": mouth_range}
    detail: dict[str, Any] = {"kind": "digits", "timed": challenge.timed, "expected": challenge.digits,
                              "language": challenge.language, "syllables": syllables,
                              "syllable_times": [round(p, 2) for p in peaks],
                              "av_sync": round(sync, 3), "mouth_range": round(mouth_range, 3)}
    if syllables == 0:
        return _failed("challenge", ["liveness.no_voice"], **detail)
    reasons = []
    if mouth_range < cfg.min_mouth_range:
        reasons.append("liveness.lips_not_moving")
    elif sync < cfg.min_av_sync:
        reasons.append("liveness.voice_not_in_sync")
    if challenge.timed:
        reasons += _digit_timing(sig, media, challenge, cfg, scores, detail)
    available = default_recognizers() if recognizers is None else dict(recognizers)
    recognizer = available.get(challenge.language)
    if isinstance(recognizer, SegmentDigitVerifier):
        # verifies the voiced segments of a timed reading only; untimed and k = 0: as without one
        if challenge.timed and cfg.mandarin_digit_min_verified > 0:
            reasons += _verify_digits(recognizer, media, challenge, cfg, scores, detail)
        recognizer = None
    if recognizer is not None:
        hearing = recognizer.recognise(audio, media.sample_rate)
        right = sum(a == b for a, b in zip(hearing.heard, challenge.digits, strict=False))
        ok = len(hearing.heard) == 4 and right >= cfg.digits_min_matching
        scores["digits_matching"] = float(right)
        detail |= {"recognizer": type(recognizer).__name__, "heard": hearing.heard, "matching": right}
        if not ok:
            reasons.append("liveness.digits_not_heard")
    else:
        detail["recognizer"] = None
        if not challenge.timed:
            # content unknown and no timing: nothing proves these are today's digits
            reasons.append("liveness.digits_not_heard")
        elif abs(syllables - len(challenge.digits)) > cfg.syllable_tolerance:
            reasons.append("liveness.digits_not_heard")
    reasons = list(dict.fromkeys(reasons))
    return _failed("challenge", reasons, **detail) if reasons else _passed("challenge", **detail)


def _digit_timing(sig: Signals, media: DecodedMedia, challenge: Challenge, cfg: LivenessSettings,
                  scores: dict[str, float], detail: dict[str, Any]) -> list[str]:
    """Exactly one voiced segment per digit, each starting in its window, spaced like the prompts, lips open."""
    segments = voice_segments(media.audio, media.sample_rate)
    prompts = challenge.schedule
    detail |= {"prompts_s": list(prompts), "voice_onsets_s": [round(a, 2) for a, _ in segments],
               "window_s": [cfg.digit_response_min_seconds, cfg.digit_response_max_seconds]}
    scores["voiced_digits"] = float(len(segments))
    if len(segments) != len(prompts):
        return ["liveness.digits_not_heard"]
    timing = digit_timing([a for a, _ in segments], prompts, cfg)
    rest = _mouth_at_rest(sig.mouth, media.times, segments)
    opening = [float(np.nanmax(sig.mouth[(media.times >= a - 0.1) & (media.times <= b + 0.1)])
                     - rest) if np.any((media.times >= a - 0.1) & (media.times <= b + 0.1)) else float("nan")
               for a, b in segments]
    detail |= {"latencies_s": [round(x, 2) for x in timing.latencies], "gap_error_s": round(timing.gap_error, 2),
               "mouth_opening": [round(x, 3) for x in opening]}
    scores |= {"digit_gap_error": timing.gap_error, "digit_latency_max": max(timing.latencies)}
    reasons = []
    if not timing.in_time:
        reasons.append("liveness.digits_not_in_time")
    if not all(np.isfinite(x) and x >= cfg.digit_mouth_open_delta for x in opening):
        reasons.append("liveness.voice_not_in_sync")
    return reasons


def _verify_digits(verifier: SegmentDigitVerifier, media: DecodedMedia, challenge: Challenge,
                   cfg: LivenessSettings, scores: dict[str, float], detail: dict[str, Any]) -> list[str]:
    """Each voiced segment checked against the digit asked for at its position; k of 4 must verify.
    A verifier that cannot load raises (an error for the caller, never a skipped check)."""
    segments = voice_segments(media.audio, media.sample_rate)
    checks = verifier.verify_segments(media.audio, media.sample_rate, segments, challenge.digits)
    verified = sum(c.verified for c in checks)
    scores["digits_verified"] = float(verified)
    detail |= {"verifier": type(verifier).__name__, "digits_verified": verified,
               "digits_min_verified": cfg.mandarin_digit_min_verified, "digit_checks": [c.as_dict() for c in checks]}
    return [] if verified >= cfg.mandarin_digit_min_verified else ["liveness.digits_not_heard"]


def _mouth_at_rest(mouth: NDArray[np.float64], times: NDArray[np.float64],
                   segments: list[tuple[float, float]]) -> float:
    """The mouth's resting opening: its median over frames away from every voiced segment."""
    quiet = np.ones(len(times), bool)
    for a, b in segments:
        quiet &= ~((times >= a - 0.2) & (times <= b + 0.2))
    values = mouth[quiet & ~np.isnan(mouth)]
    if len(values) < 3:
        values = mouth[~np.isnan(mouth)]
    return float(np.median(values)) if len(values) else float("nan")


def _best_frame(frames: NDArray[np.uint8], sig: Signals, present: NDArray[np.bool_]) -> NDArray[np.uint8] | None:
    """The most frontal frame with open eyes: what staff see and what the face engine embeds."""
    if not present.any():
        return None
    yaw = np.abs(sig.yaw - np.nanmedian(sig.yaw))
    eyes = np.nan_to_num(sig.ear / np.nanmedian(sig.ear), nan=0.0)
    score = np.where(present, eyes - 3.0 * np.nan_to_num(yaw, nan=9.0), -np.inf)
    return frames[int(np.argmax(score))]


def _face_engine() -> Any:
    """The face engine, loaded: an import or model failure raises, it is never a skipped check."""
    try:
        from pensioncert.biometrics import engines
        from pensioncert.biometrics import video as bio

        engines.shape_predictor_5()
        engines.face_encoder()
    except Exception as missing:  # ImportError, missing model file, dlib load failure
        raise FaceEngineUnavailable(f"the face engine cannot run: {missing}") from missing
    return bio


# Mesh points standing in for dlib's five alignment points (image-right eye outer, inner;
# image-left eye outer, inner; nose base): each within 2-4 px of dlib's predictor on the suite.
FIVE_POINTS = (263, 362, 33, 133, 2)


def five_points(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """One frame's mesh as the face engine's five alignment points (``biometrics.embed_aligned``)."""
    return np.asarray(points[list(FIVE_POINTS)], dtype=np.float64)


def sample_frames(times: NDArray[np.float64], present: NDArray[np.bool_], cfg: LivenessSettings,
                  rng: random.Random | None = None, turned: NDArray[np.float64] | None = None) -> list[int]:
    """Frames for the face engine: one drawn at random from each of ``k`` equal stretches of the recording.

    ``k`` = max(identity_min_samples, identity_samples_per_second × duration), so every second
    of the recording is looked at and which frames are embedded cannot be known in advance
    (``random.SystemRandom``): putting the retiree into predictable frames no longer works.
    ``turned`` (how far each frame's head is turned or nodded from its rest, in units of the
    action thresholds) keeps the draw among frames the face engine can judge (below
    ``identity_max_turn``); a stretch where the head is turned throughout gives its most
    frontal frame. Stretches without a face frame give no sample (the face check reports them).
    """
    rng = rng or random.SystemRandom()
    idx = np.flatnonzero(present)
    if len(idx) == 0:
        return []
    away = np.zeros(len(times)) if turned is None else np.nan_to_num(turned, nan=np.inf)
    t0, t1 = float(times[0]), float(times[-1]) + 1e-6
    k = max(cfg.identity_min_samples, int(np.ceil(cfg.identity_samples_per_second * (t1 - t0))))
    edges = np.linspace(t0, t1, k + 1)
    chosen = []
    for a, b in itertools.pairwise(edges):
        inside = [int(i) for i in idx if a <= times[i] < b]
        if not inside:
            continue
        frontal = [i for i in inside if away[i] <= cfg.identity_max_turn]
        chosen.append(rng.choice(frontal) if frontal else min(inside, key=lambda i: float(away[i])))
    return chosen


def head_turn(sig: Signals, cfg: LivenessSettings) -> NDArray[np.float64]:
    """How far each frame's head is turned or nodded from its rest, in units of the action thresholds."""
    yaw = np.abs(sig.yaw - np.nanmedian(sig.yaw)) / cfg.turn_yaw_delta
    pitch = np.abs(sig.pitch - np.nanmedian(sig.pitch)) / cfg.nod_pitch_delta
    return np.asarray(np.fmax(yaw, pitch), dtype=np.float64)


def _identity_check(frames: NDArray[np.uint8], track: FaceTrack, sig: Signals, thumbs: NDArray[np.float64],
                    reference: NDArray[np.float64] | None, cfg: LivenessSettings,
                    require_reference: bool) -> tuple[CheckResult, Any, int | None]:
    """The same person throughout (a continuous track, no splice) and, on random frames, the reference person."""
    bio = _face_engine()
    cont = continuity(track, thumbs, max_shape_jump=cfg.max_shape_jump, max_diff_spike=cfg.max_diff_spike)
    chosen = sample_frames(track.times, track.present, cfg, turned=head_turn(sig, cfg))
    needed = max(1, cfg.identity_min_samples - 1)  # one stretch may miss the face (a frame or two lost)
    evidence: dict[str, Any] = {"reference": reference is not None, "continuity": cont.as_dict(),
                                "sampled": chosen}
    if len(chosen) < needed:
        return _not_run("identity", "liveness.too_few_face_frames", **evidence), None, None
    match = bio.decide_frames(reference, [frames[i] for i in chosen], [five_points(track.points[i]) for i in chosen],
                              frame_margin=cfg.identity_frame_margin)
    best = chosen[match.best_frame_index] if match.best_frame_index is not None else None
    evidence |= {"consistent": match.identity_consistent, "same_person": match.same_person,
                 "distances": [round(d, 3) for d in match.frame_distances], "engine_reasons": match.reasons}
    reasons = []
    if cont.breaks or not match.identity_consistent:
        reasons.append("liveness.identity_changed")
    elif not match.same_person:
        reasons.append("liveness.not_reference_person" if reference is not None else "liveness.identity_changed")
    if reference is None and require_reference:
        reasons.append("liveness.identity_not_checked")
    return (_failed("identity", reasons, **evidence) if reasons else _passed("identity", **evidence)), match, best
