"""``analyse_recording``: is the person in this upload alive, present now, and the right one?

One pass over the decoded recording: face mesh per analysed frame → signals → the challenge
(actions in order, or digits heard with the mouth moving in step) → passive checks → the face
engine for identity. Every failed check adds a message code the user can act on; the numbers
behind them go to ``scores`` for staff only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pensioncert.liveness.actions import detect_actions
from pensioncert.liveness.challenges import Challenge, ChallengeKind
from pensioncert.liveness.landmarks import Signals, signals, track_faces
from pensioncert.liveness.passive import frame_stats, longest_frozen_run, moire_score, planarity, thumbnails
from pensioncert.liveness.speech import DigitRecognizer, av_sync, count_syllables, default_recognizers
from pensioncert.media.decode import DecodedMedia, decode_media
from pensioncert.settings import LivenessSettings, Settings, get_settings


@dataclass
class LivenessVerdict:
    """The outcome. ``reasons`` are message codes for the user; ``scores`` are for staff only."""

    passed: bool
    reasons: list[str]
    scores: dict[str, float]
    best_frame: NDArray[np.uint8] | None = None
    face_match: Any = None  # biometrics.VideoMatchDecision when the face engine ran
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (no frame): what the CLI prints and the job stores."""
        match = self.face_match.as_dict() if hasattr(self.face_match, "as_dict") else None
        return {"passed": self.passed, "reasons": self.reasons,
                "scores": {k: round(v, 4) for k, v in self.scores.items()},
                "checks": self.checks, "face_match": match}


def analyse_recording(
    video: bytes | Path | DecodedMedia,
    challenge: Challenge,
    reference_embedding: NDArray[np.float64] | None,
    *,
    settings: Settings | None = None,
    recognizers: Mapping[str, DigitRecognizer] | None = None,
    face_engine: bool = True,
) -> LivenessVerdict:
    """Analyse one recording against the challenge it answers.

    Raises :class:`pensioncert.media.decode.MediaError` (code ``media.*``) for uploads that
    cannot be analysed at all; everything else is a verdict. The caller checks the challenge
    (``check_challenge_use``) and marks it used before calling. ``face_engine=False`` skips
    the identity checks (evaluation of the liveness checks alone).
    """
    settings = settings or get_settings()
    cfg = settings.liveness
    media = video if isinstance(video, DecodedMedia) else decode_media(
        video, settings=settings, max_side=cfg.analysis_max_side, target_fps=cfg.analysis_fps)
    reasons: list[str] = []
    scores: dict[str, float] = {}
    checks: dict[str, dict[str, Any]] = {}

    track = track_faces(media.frames, media.times)
    sig = signals(track)
    present = track.present
    n = len(media.frames)

    # --- one face, in the circle, throughout
    w, h = track.frame_size
    centre = sig.centre
    off = np.hypot(centre[:, 0] - w / 2, centre[:, 1] - h / 2) / (0.5 * min(w, h))
    in_circle = present & (np.nan_to_num(off, nan=9.0) <= cfg.circle_radius)
    missing = 1.0 - float(in_circle.mean()) if n else 1.0
    multi = int((track.face_counts >= 2).sum())
    scores |= {"face_missing_fraction": missing, "multi_face_frames": float(multi)}
    checks["face"] = {"frames": n, "frames_with_face": int(present.sum()), "multi_face_frames": multi,
                      "out_of_circle_fraction": round(missing, 3)}
    if not present.any():
        reasons.append("liveness.no_face")
    elif missing > cfg.max_missing_face_fraction:
        reasons.append("liveness.face_left_circle")
    if multi >= cfg.min_multi_face_frames:
        reasons.append("liveness.multiple_faces")

    # --- the challenge
    if present.sum() >= 3:
        if challenge.kind is ChallengeKind.ACTIONS:
            _check_actions(sig, media.times, challenge, cfg, reasons, scores, checks)
        else:
            _check_digits(sig, media, challenge, cfg, recognizers, reasons, scores, checks)

    # --- passive checks
    plan = planarity(track, sig.iod)
    thumbs = thumbnails(media.frames)
    stats = frame_stats(thumbs, min_lag=max(3, int(round(cfg.loop_min_seconds * media.fps))))
    frozen_s = longest_frozen_run(thumbs, media.fps)
    moire = moire_score(media.frames, track)
    scores |= {"planar_motion": plan.motion, "planar_residual": plan.residual, "planar_ratio": plan.ratio,
               "frozen_fraction": stats.frozen_fraction, "loop_ratio": stats.loop_ratio,
               "frame_motion": stats.motion, "frozen_seconds": frozen_s, "moire": moire}
    checks["passive"] = {"planar_motion": round(plan.motion, 4), "planar_ratio": round(plan.ratio, 3),
                         "frozen_fraction": round(stats.frozen_fraction, 3),
                         "frozen_seconds": round(frozen_s, 2), "moire": round(moire, 1),
                         "loop_ratio": round(stats.loop_ratio, 3), "loop_lag_frames": stats.loop_lag}
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

    # --- identity: same person throughout, and the reference person
    best_frame = _best_frame(media.frames, sig, present)
    match = None
    if face_engine and present.sum() >= 3:
        match, chosen = _face_match(media.frames, present, reference_embedding, cfg)
        if match is not None:
            scores["face_distance"] = float(match.distance)
            checks["identity"] = {"consistent": match.identity_consistent,
                                  "same_person": match.same_person, "reasons": match.reasons}
            if not match.identity_consistent:
                reasons.append("liveness.identity_changed")
            if reference_embedding is not None and not match.same_person and match.identity_consistent:
                reasons.append("liveness.not_reference_person")
            if match.best_frame_index is not None:
                best_frame = media.frames[chosen[match.best_frame_index]]

    reasons = list(dict.fromkeys(reasons))
    return LivenessVerdict(passed=not reasons, reasons=reasons, scores=scores, best_frame=best_frame,
                           face_match=match, checks=checks)


def _check_actions(sig: Signals, times: NDArray[np.float64], challenge: Challenge, cfg: LivenessSettings,
                   reasons: list[str], scores: dict[str, float], checks: dict[str, dict[str, Any]]) -> None:
    result = detect_actions(sig, times, challenge.actions, cfg)
    for action, strength in result.strengths.items():
        scores[f"action_{action}"] = strength
    checks["actions"] = {
        "requested": list(challenge.actions),
        "matched": [{"action": e.action, "peak_s": round(e.peak, 2), "strength": round(e.strength, 2)}
                    for e in result.matched],
        "detected": [{"action": e.action, "peak_s": round(e.peak, 2)} for e in result.events],
    }
    if result.reason:
        reasons.append(result.reason)


def _check_digits(sig: Signals, media: DecodedMedia, challenge: Challenge, cfg: LivenessSettings,
                  recognizers: Mapping[str, DigitRecognizer] | None, reasons: list[str],
                  scores: dict[str, float], checks: dict[str, dict[str, Any]]) -> None:
    audio = media.audio
    syllables, peaks = count_syllables(audio, media.sample_rate) if len(audio) else (0, [])
    sync = av_sync(sig.mouth, audio, media.times, media.sample_rate) if len(audio) else 0.0
    mouth_range = float(np.nanpercentile(sig.mouth, 95) - np.nanpercentile(sig.mouth, 5))
    scores |= {"syllables": float(syllables), "av_sync": sync, "mouth_range": mouth_range}
    detail: dict[str, Any] = {"expected": challenge.digits, "language": challenge.language,
                              "syllables": syllables, "syllable_times": [round(p, 2) for p in peaks],
                              "av_sync": round(sync, 3), "mouth_range": round(mouth_range, 3)}
    checks["digits"] = detail
    if syllables == 0:
        reasons.append("liveness.no_voice")
        return
    if mouth_range < cfg.min_mouth_range:
        reasons.append("liveness.lips_not_moving")
    elif sync < cfg.min_av_sync:
        reasons.append("liveness.voice_not_in_sync")
    available = default_recognizers() if recognizers is None else dict(recognizers)
    recognizer = available.get(challenge.language)
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
        if abs(syllables - len(challenge.digits)) > cfg.syllable_tolerance:
            reasons.append("liveness.digits_not_heard")


def _best_frame(frames: NDArray[np.uint8], sig: Signals, present: NDArray[np.bool_]) -> NDArray[np.uint8] | None:
    """The most frontal frame with open eyes: what staff see and what the face engine embeds."""
    if not present.any():
        return None
    yaw = np.abs(sig.yaw - np.nanmedian(sig.yaw))
    eyes = np.nan_to_num(sig.ear / np.nanmedian(sig.ear), nan=0.0)
    score = np.where(present, eyes - 3.0 * np.nan_to_num(yaw, nan=9.0), -np.inf)
    return frames[int(np.argmax(score))]


def _face_match(frames: NDArray[np.uint8], present: NDArray[np.bool_],
                reference: NDArray[np.float64] | None, cfg: LivenessSettings) -> tuple[Any, list[int]]:
    """The face engine on a few evenly spaced frames with a face (cost grows per frame)."""
    try:
        from pensioncert import biometrics as bio
    except ImportError:  # face engine not installed in this deployment
        return None, []
    idx = np.flatnonzero(present)
    chosen = sorted({int(i) for i in idx[np.linspace(0, len(idx) - 1, min(len(idx), cfg.match_frames)).round()
                                          .astype(int)]})
    sample = [frames[i] for i in chosen]
    ref = reference
    if ref is None:
        try:
            ref = bio.face_embedding(sample[len(sample) // 2])
        except bio.FaceEngineError:
            return None, chosen
    from pensioncert.settings import get_settings

    face = get_settings().face
    face = face.model_copy(update={"video_segments": min(face.video_segments, cfg.match_segments)})
    return bio.decide_video(ref, sample, settings=face), chosen
