"""Still scenes for the fake camera: what the readiness check must tell apart.

One frame of the synthetic subject (looking at the camera) is rendered once and turned into
short looping Y4M files: the subject centred, off-centre, in a dark room, and an empty room.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from tests.api import support

SCENES = ("good", "off_centre", "dark", "empty", "two_faces")


@lru_cache(maxsize=1)
def subject_frame() -> np.ndarray:
    """The subject at rest, centred, 640x480 RGB (as the synthetic clips film it)."""
    from pensioncert.synth import render_subject

    return render_subject(support.SUBJECT, script="", duration=0.2, seed=3).frames[0]


def scene(name: str) -> np.ndarray:
    frame = subject_frame()
    if name == "good":
        return frame
    if name == "dark":  # a dim room: the face is still found, but its skin is far below 60/255
        return (frame.astype(np.float32) * 0.2).astype(np.uint8)
    if name == "off_centre":  # the phone held too low and to the side: the face high in the frame
        shifted = np.empty_like(frame)
        shifted[:] = frame[:1, :1]
        shifted[: 480 - 150, 60:] = frame[150:, :580]
        return shifted
    if name == "empty":  # the room without anyone in it: the frame's own background colours
        return np.broadcast_to(frame[:1, :1], frame.shape).copy()
    if name == "two_faces":  # someone leaning in beside the retiree
        import cv2

        head = cv2.resize(frame, (352, 264), interpolation=cv2.INTER_AREA)[:, 66:286]
        both = np.broadcast_to(frame[:1, :1], frame.shape).copy()
        both[120:384, 100:320] = head
        both[120:384, 320:540] = head
        return both
    raise ValueError(name)


def scene_y4m(name: str, folder: Path) -> support.ClipFiles:
    """A 2-second looping Y4M of the still scene (and a silent WAV for the microphone)."""
    from pensioncert.media.encode import write_wav, write_y4m

    folder.mkdir(parents=True, exist_ok=True)
    frames = np.repeat(scene(name)[None], 30, axis=0)
    y4m = write_y4m(folder / f"{name}.y4m", frames, 15.0)
    wav = folder / f"{name}.wav"
    write_wav(wav, np.zeros(32000, np.float32), 16000)
    return support.ClipFiles(y4m=y4m, wav=wav, webm=folder / "none.webm", mp4=folder / "none.mp4")
