"""Recordings that answer actions challenges, rendered once from a real face photo and cached.

The load test runs the API with exactly two actions per challenge (``liveness.min/max_actions``),
so 20 ordered pairs cover every challenge it can be given; with fewer clips a virtual user asks
for new challenges until it gets one it has a clip for (issuing a challenge is cheap). The
analysis of each upload is the real one.
"""

from __future__ import annotations

import hashlib
import json
import os
from itertools import permutations
from pathlib import Path

from pensioncert.liveness.challenges import ACTIONS

SUBJECT = "grace_hopper"  # the registry photo of every synthetic retiree is this same photo
ACTION_SECONDS = 1.5  # PENSIONCERT_FLOW__ACTION_RECORD_SECONDS of the load-test API
PAIRS: list[tuple[str, str]] = [(a, b) for a, b in permutations(ACTIONS, 2)]


def cache_dir() -> Path:
    configured = os.environ.get("PENSIONCERT_LOADTEST_CLIPS")
    return Path(configured) if configured else Path.home() / ".cache" / "pensioncert" / "loadtest-clips"


def script_for(actions: tuple[str, ...], seconds: float = ACTION_SECONDS) -> str:
    """Each action a little after the page prompts it (prompt i at 0.4 s + i·slot)."""
    return ",".join(f"{action}@{0.7 + i * seconds:.2f}" for i, action in enumerate(actions))


def clip_path(actions: tuple[str, str]) -> Path:
    key = hashlib.sha1(json.dumps([SUBJECT, list(actions), ACTION_SECONDS, 1]).encode()).hexdigest()[:12]
    return cache_dir() / f"{'-'.join(actions)}-{key}.webm"


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
            duration = round(ACTION_SECONDS * (len(actions) + 0.5) + 0.8, 2)
            render_subject(SUBJECT, script=script_for(actions), seed=3, duration=duration,
                           out_dir=path.parent / "render", formats=("webm",), name=path.stem)
            os.replace(path.parent / "render" / f"{path.stem}.webm", path)
        clips[actions] = path.read_bytes()
    return clips
