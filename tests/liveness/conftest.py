"""Rendered clips shared by the liveness tests: rendered once per session (a few seconds each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pensioncert.media.decode import DecodedMedia


def as_media(clip: Any) -> DecodedMedia:
    """A synth clip as the decoder would hand it over (skips encoding where the test is not about it)."""
    n = len(clip.frames)
    return DecodedMedia(frames=clip.frames, times=np.arange(n) / clip.fps, fps=clip.fps,
                        audio=clip.audio if clip.audio is not None else np.zeros(0, np.float32),
                        sample_rate=clip.sample_rate, video_codec="raw", audio_codec="raw",
                        source_size=(clip.frames.shape[2], clip.frames.shape[1]))


@pytest.fixture(scope="session")
def digits_suite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A genuine English digits clip, attacks derived from it without new renders, and broken uploads.

    Only the genuine clip is encoded (WebM); the frame attacks are analysed as decoded media
    and the broken files are cut from the genuine upload, which keeps the session setup short.
    """
    from pensioncert.synth import render_attacks

    out: Path = tmp_path_factory.mktemp("digits-suite")
    clips: dict[str, Any] = render_attacks("grace_hopper", seed=5, digits="3709",
                                           only=["still_photo", "looping", "frozen"])
    webm = clips["genuine"].write(out, "genuine", ("webm",))["webm"]
    data = webm.read_bytes()
    (out / "truncated.webm").write_bytes(data[: int(len(data) * 0.45)])
    broken = bytearray(data)
    rng = np.random.default_rng(0)
    broken[8:40] = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
    broken[len(data) // 3: 2 * len(data) // 3] = rng.integers(0, 256, len(data) // 3, dtype=np.uint8).tobytes()
    (out / "corrupt.webm").write_bytes(bytes(broken))
    clips["truncated"] = out / "truncated.webm"
    clips["corrupt"] = out / "corrupt.webm"
    return clips


@pytest.fixture(scope="session")
def actions_clip(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A slow genuine clip: turn left, then blink, then open mouth, with a spontaneous blink first."""
    from pensioncert.synth import render_subject

    script = "blink@0.3-0.6,turn_left@1.0-2.4,blink@3.0-3.5,open_mouth@4.0-5.2"
    return render_subject("astronaut", script=script, seed=3, duration=5.8,
                          out_dir=tmp_path_factory.mktemp("actions"), formats=("mp4",), name="actions")


TIMED_ACTIONS = "actions:turn_left@1.2,nod@3.2,open_mouth@5.4"


@pytest.fixture(scope="session")
def timed_actions_clip() -> Any:
    """A slow subject (latency 1.2-2.0 s) answering TIMED_ACTIONS, blinking about every 1.5 s, in glasses."""
    import random

    from pensioncert.liveness import parse_challenge
    from pensioncert.synth import render_for_challenge

    return render_for_challenge("astronaut", parse_challenge(TIMED_ACTIONS), latency=(1.2, 2.0), blink_every=1.5,
                                rng=random.Random(4), seed=4, glasses=True)


@pytest.fixture(scope="session")
def timed_blink_clip() -> Any:
    """A quick subject (latency 0.4 s) answering a blink and a right turn, no natural blinks."""
    from pensioncert.liveness import parse_challenge
    from pensioncert.synth import render_for_challenge

    return render_for_challenge("grace_hopper", parse_challenge("actions:blink@1.3,turn_right@3.1"), latency=0.4,
                                blink_every=None, seed=6, hat=True)


TIMED_DIGITS_ZH = "digits:1079@1.2,2.1,3.6,4.4"


@pytest.fixture(scope="session")
def timed_digits_zh() -> dict[str, Any]:
    """A Mandarin reader following TIMED_DIGITS_ZH (latency ~1.5 s), and the same digits read at her own pace."""
    import random

    from pensioncert.liveness import parse_challenge
    from pensioncert.synth import render_for_challenge, render_subject

    challenge = parse_challenge(TIMED_DIGITS_ZH, language="zh")
    timed = render_for_challenge("grace_hopper", challenge, latency=(1.3, 1.7), blink_every=3.0,
                                 rng=random.Random(2), seed=2)
    paced = render_subject("grace_hopper", digits="1079", language="zh", seed=2, duration=timed.duration)
    return {"timed": timed, "paced": paced}


@pytest.fixture(scope="session")
def attacker_digits(digits_suite: dict[str, Any]) -> Any:
    """Another person (astronaut) saying the same digits on the same background and camera as the genuine clip."""
    from pensioncert.synth import render_subject
    from pensioncert.synth.attacks import GENUINE_SCRIPT

    genuine = digits_suite["genuine"]
    return render_subject("astronaut", script=GENUINE_SCRIPT, digits="3709", seed=5, duration=genuine.duration)
