"""Recordings that answer actions challenges, rendered once from a real face photo and cached.

The load test runs the API with exactly two actions per challenge (``liveness.min/max_actions``),
so 20 ordered pairs cover every challenge it can be given; with fewer clips a virtual user asks
for new challenges until it gets one it has a clip for (issuing a challenge is cheap). The
analysis of each upload is the real one, timing included: the API's schedule is pinned
(``SCHEDULE_ENV``: first prompt at 1.0 s, the next 1.6 s later, the shortest the settings
allow) and each clip follows it like a genuine user (``follow_schedule_script``, 0.6 s
latency) and lasts as long as the page records (last prompt + ``record_tail_seconds``).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from itertools import permutations
from pathlib import Path

from pensioncert.liveness.challenges import ACTIONS, Challenge, ChallengeKind
from pensioncert.synth.subject import follow_schedule_script

SUBJECT = "grace_hopper"  # the registry photo of every synthetic retiree is this same photo
ACTION_SECONDS = 1.5  # PENSIONCERT_FLOW__ACTION_RECORD_SECONDS of the load-test API
PAIRS: list[tuple[str, str]] = [(a, b) for a, b in permutations(ACTIONS, 2)]
FIRST_PROMPT = 1.0  # liveness.first_prompt_min_seconds
ACTION_GAP = 1.6  # liveness.action_gap_min_seconds
LATENCY = 0.6  # the synthetic user starts each action this long after its prompt
# The load-test API draws this schedule every time (min = max), so the cached clips answer it.
SCHEDULE_ENV = {
    "PENSIONCERT_LIVENESS__FIRST_PROMPT_MIN_SECONDS": str(FIRST_PROMPT),
    "PENSIONCERT_LIVENESS__FIRST_PROMPT_MAX_SECONDS": str(FIRST_PROMPT),
    "PENSIONCERT_LIVENESS__ACTION_GAP_MIN_SECONDS": str(ACTION_GAP),
    "PENSIONCERT_LIVENESS__ACTION_GAP_MAX_SECONDS": str(ACTION_GAP),
}


def cache_dir() -> Path:
    configured = os.environ.get("PENSIONCERT_LOADTEST_CLIPS")
    return Path(configured) if configured else Path.home() / ".cache" / "pensioncert" / "loadtest-clips"


def challenge_for(actions: tuple[str, ...]) -> Challenge:
    """The timed challenge the load-test API issues for ``actions`` (its schedule is pinned)."""
    now = datetime.now(UTC)
    schedule = tuple(round(FIRST_PROMPT + i * ACTION_GAP, 2) for i in range(len(actions)))
    return Challenge(kind=ChallengeKind.ACTIONS, session_id="loadtest", issued_at=now,
                     expires_at=now + timedelta(minutes=5), actions=actions, schedule=schedule, started_at=now)


def script_for(actions: tuple[str, ...]) -> str:
    """A genuine user's answer to ``challenge_for(actions)``: each action 0.6 s after its prompt."""
    return follow_schedule_script(challenge_for(actions), latency=LATENCY, blink_every=None)


def clip_path(actions: tuple[str, str]) -> Path:
    key = hashlib.sha1(json.dumps([SUBJECT, list(actions), FIRST_PROMPT, ACTION_GAP, LATENCY,
                                   _tail(), 2]).encode()).hexdigest()[:12]
    return cache_dir() / f"{'-'.join(actions)}-{key}.webm"


def _tail() -> float:
    from pensioncert.settings import get_settings

    return float(get_settings().liveness.record_tail_seconds)


def ensure_clips(count: int, progress: bool = False) -> dict[tuple[str, ...], bytes]:
    """The first ``count`` action pairs' WebM recordings (rendered on first use: ~10 s of CPU each)."""
    from pensioncert.synth import render_subject

    clips: dict[tuple[str, ...], bytes] = {}
    for actions in PAIRS[:max(1, min(count, len(PAIRS)))]:
        path = clip_path(actions)
        if not path.is_file():
            if progress:
                print(f"rendering clip {'+'.join(actions)} (cached in {path.parent})", flush=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            duration = round(challenge_for(actions).schedule[-1] + _tail(), 2)
            render_subject(SUBJECT, script=script_for(actions), seed=3, duration=duration,
                           out_dir=path.parent / "render", formats=("webm",), name=path.stem)
            os.replace(path.parent / "render" / f"{path.stem}.webm", path)
        clips[actions] = path.read_bytes()
    return clips
