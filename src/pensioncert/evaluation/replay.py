"""``pensioncert eval replay``: how far a replayed recording and a genuine re-performance are from
the recording they are compared with (``liveness.replay``), on rendered synthetic subjects.

Per pair: one genuine recording (the kept one: a subject following a random schedule of 2-3
actions, natural blinks, latency 0.3-2 s, glasses or a hat on some), and against it

* replays of that recording: re-encoded (WebM to MP4); cropped, scaled to 92 %, shifted,
  brightened and trimmed by 0.2 s; played 1.08× and 0.8× as fast (a replay fitted to a new
  schedule), each a new upload analysed from scratch;
* genuine re-performances by the same subject: of the very same challenge (actions and
  schedule; the nearest genuine case), of the same actions on a fresh schedule, and of other
  actions.

Similarities are the production ones (``replay.best_match`` with the configured settings). The
threshold is chosen on ``--split tuning`` (faces grace_hopper, ocv_actress_a) and quoted on
``--split report`` (astronaut, ocv_glasses_man_1, other seeds): docs/liveness.md.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pensioncert.liveness.replay import MotionTrace, closest_replay
from pensioncert.settings import LivenessSettings, get_settings
from pensioncert.synth.clip import Clip

SPLITS = {
    "tuning": (("grace_hopper", "ocv_actress_a"), tuple(range(0, 6))),
    "report": (("astronaut", "ocv_glasses_man_1"), tuple(range(100, 106))),
}
ACTION_SETS = (("turn_left", "open_mouth", "blink"), ("nod", "turn_right"), ("open_mouth", "turn_right"),
               ("blink", "nod", "turn_left"))
REPLAYS = ("reencoded", "cropped_trimmed", "faster_1.08", "slower_0.8")
GENUINE = ("same_schedule", "same_actions", "other_actions")


@dataclass
class ReplayReport:
    """Similarities per case (replays must reach the threshold, genuine ones stay below)."""

    threshold: float
    split: str
    similarity: dict[str, list[float]] = field(default_factory=dict)

    def rates(self) -> dict[str, float]:
        """Share of each case at or above the threshold: detection for replays, false alarm for genuine."""
        return {k: float(np.mean([s >= self.threshold for s in v])) for k, v in self.similarity.items()}

    def as_dict(self) -> dict[str, Any]:
        return {"split": self.split, "threshold": self.threshold, "at_or_above_threshold": self.rates(),
                "similarity": {k: {"n": len(v), "min": round(min(v), 3), "median": round(float(np.median(v)), 3),
                                   "max": round(max(v), 3)} for k, v in self.similarity.items()}}


def _revealed(actions: tuple[str, ...], rng: random.Random, cfg: LivenessSettings) -> Any:
    from pensioncert.evaluation.harness import Revealed
    from pensioncert.liveness.challenges import Challenge, ChallengeKind, draw_schedule

    now = datetime.now(UTC)
    challenge = Challenge(kind=ChallengeKind.ACTIONS, session_id="eval-replay", issued_at=now,
                          expires_at=now + timedelta(minutes=5), challenge_id="eval-replay", actions=actions,
                          language="zh", schedule=draw_schedule(ChallengeKind.ACTIONS, len(actions), rng, cfg),
                          started_at=now)
    return Revealed.of(challenge, challenge.record_seconds(cfg))


def trace_of_upload(data: bytes) -> MotionTrace:
    """The motion trace the job would keep for this upload (decoded and tracked as in production)."""
    from pensioncert.liveness.landmarks import signals, track_faces
    from pensioncert.liveness.replay import motion_trace
    from pensioncert.media.decode import decode_media

    settings = get_settings()
    cfg = settings.liveness
    media = decode_media(data, settings=settings, max_side=cfg.analysis_max_side, target_fps=cfg.analysis_fps)
    return motion_trace(signals(track_faces(media.frames, media.times)), media.times)


def cropped_trimmed(clip: Clip, trim_seconds: float = 0.2) -> Clip:
    """Scaled to 92 %, shifted, 8 levels brighter, the first ``trim_seconds`` cut: a re-filmed-looking copy."""
    import cv2

    h, w = clip.frames.shape[1:3]
    warp = np.array([[0.92, 0, 0.03 * w], [0, 0.92, 0.02 * h]], dtype=np.float32)
    frames = np.stack([np.clip(cv2.warpAffine(f, warp, (w, h), borderMode=cv2.BORDER_REPLICATE).astype(np.int16) + 8,
                               0, 255).astype(np.uint8) for f in clip.frames])
    cut = int(round(trim_seconds * clip.fps))
    audio = None if clip.audio is None else clip.audio[int(trim_seconds * clip.sample_rate):]
    return replace(clip, frames=frames[cut:], audio=audio)


def at_speed(clip: Clip, speed: float) -> Clip:
    """The same frames played ``speed`` times as fast (the audio is dropped: actions only)."""
    return replace(clip, fps=clip.fps * speed, audio=None)


def pair_traces(face: str, seed: int, cfg: LivenessSettings, cache: Path | None = None) -> dict[str, MotionTrace]:
    """The kept recording's trace and every case's (``cache``: read from / written to that folder)."""
    from pensioncert.evaluation.attacks import render_answer
    from pensioncert.synth.attacks import encode_bytes

    stored = None if cache is None else cache / f"{face}-{seed}.npz"
    traces: dict[str, MotionTrace] = {}
    if stored is not None and stored.exists():
        with np.load(stored) as saved:
            traces = {case: MotionTrace(saved[case]) for case in saved.files}
    rng = random.Random(f"eval-replay/{face}/{seed}")
    actions = ACTION_SETS[seed % len(ACTION_SETS)]
    others = ACTION_SETS[(seed + 1) % len(ACTION_SETS)]
    kept_answer = _revealed(actions, rng, cfg)

    @lru_cache(maxsize=1)
    def kept_clip() -> Clip:  # rendered (first, as "kept" is the first case) only when not cached
        return render_answer(face, kept_answer, seed, rng, glasses=seed % 3 == 1, hat=seed % 3 == 2)

    same_schedule_rng = random.Random(f"eval-replay/{face}/{seed}/again")
    uploads: dict[str, Callable[[], bytes]] = {
        "kept": lambda: encode_bytes(kept_clip(), "webm"),
        "reencoded": lambda: encode_bytes(kept_clip(), "mp4"),
        "cropped_trimmed": lambda: encode_bytes(cropped_trimmed(kept_clip()), "mp4"),
        "faster_1.08": lambda: encode_bytes(at_speed(kept_clip(), 1.08), "webm"),
        "slower_0.8": lambda: encode_bytes(at_speed(kept_clip(), 0.8), "webm"),
        "same_actions": lambda: encode_bytes(render_answer(face, _revealed(actions, rng, cfg), seed + 5000, rng,
                                                           glasses=seed % 3 == 2, hat=seed % 3 == 0), "webm"),
        "other_actions": lambda: encode_bytes(render_answer(face, _revealed(others, rng, cfg), seed + 9000, rng),
                                              "webm"),
        # last year's very challenge again (actions and schedule), answered afresh: the nearest genuine case
        "same_schedule": lambda: encode_bytes(render_answer(face, kept_answer, seed + 7000, same_schedule_rng),
                                              "webm"),
    }
    missing = {case: make for case, make in uploads.items() if case not in traces}
    traces |= {case: trace_of_upload(make()) for case, make in missing.items()}
    if stored is not None and missing:
        stored.parent.mkdir(parents=True, exist_ok=True)
        np.savez(stored, **{case: trace.values for case, trace in traces.items()})
    return traces


def pair_similarities(traces: dict[str, MotionTrace], cfg: LivenessSettings) -> Iterator[tuple[str, float]]:
    """Every case of one pair against its kept recording, as (case, similarity)."""
    for case, trace in traces.items():
        if case == "kept":
            continue
        match, _ = closest_replay(trace, [traces["kept"]], cfg)
        yield case, match.similarity


def pairs(split: str, limit: int = 0) -> list[tuple[str, int]]:
    faces, seeds = SPLITS[split]
    chosen = [(face, seed) for seed in seeds for face in faces]
    return chosen[: limit or None]


def run_pair(face: str, seed: int, cache: str | None = None) -> list[tuple[str, float]]:
    cfg = get_settings().liveness
    return list(pair_similarities(pair_traces(face, seed, cfg, Path(cache) if cache else None), cfg))


def summarise(split: str, results: list[tuple[str, float]]) -> ReplayReport:
    report = ReplayReport(get_settings().liveness.replay_max_similarity, split)
    for case in (*REPLAYS, *GENUINE):
        values = [s for c, s in results if c == case]
        if values:
            report.similarity[case] = values
    return report
