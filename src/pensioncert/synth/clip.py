"""A rendered clip, its ground truth, and writing both to disk."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pensioncert.synth.audio import DigitTime
from pensioncert.synth.script import Event

FORMATS = ("y4m", "wav", "webm", "mp4")


@dataclass
class GroundTruth:
    """What the clip really shows, per frame and per clip; serialised to ``<name>.json``.

    Angles in degrees (yaw > 0: the subject turns to their left, nose towards image right;
    pitch > 0: chin up; roll > 0: clockwise in the image). ``eye_closure`` and ``mouth_open``
    are the generator's controls (0 open/closed … 1 closed/fully open); ``eye_ratio`` and
    ``mouth_ratio`` are the same states measured on the rendered mesh (eye opening / eye width,
    inner-lip gap / mouth width), directly comparable with a face-mesh measurement.
    """

    kind: str  # "genuine" or the attack name
    seed: int
    fps: float
    width: int
    height: int
    n_frames: int
    language: str
    challenge_digits: str | None  # what the server asked for
    spoken_digits: str | None  # what is actually heard (None = nothing)
    digit_times: list[DigitTime]
    events: list[Event]
    is_attack: bool = False
    notes: str = ""
    t: list[float] = field(default_factory=list)
    yaw: list[float] = field(default_factory=list)
    pitch: list[float] = field(default_factory=list)
    roll: list[float] = field(default_factory=list)
    eye_closure: list[float] = field(default_factory=list)
    mouth_open: list[float] = field(default_factory=list)
    eye_ratio: list[float] = field(default_factory=list)
    mouth_ratio: list[float] = field(default_factory=list)
    faces: list[int] = field(default_factory=list)  # faces visible in the frame
    face_box: list[list[float] | None] = field(default_factory=list)  # x0, y0, x1, y1 of the main face
    identity: list[str] = field(default_factory=list)  # which photo the main face comes from
    source_frame: list[int] = field(default_factory=list)  # frame index this frame shows (loops/freezes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, per-frame values as columns, rounded."""
        d = asdict(self)
        for key in ("yaw", "pitch", "roll", "eye_closure", "mouth_open", "eye_ratio", "mouth_ratio", "t"):
            d[key] = [round(float(x), 4) for x in d[key]]
        d["face_box"] = [None if b is None else [round(float(x), 1) for x in b] for b in d["face_box"]]
        return d

    def append(self, **values: Any) -> None:
        """Add one frame's values."""
        for key, value in values.items():
            getattr(self, key).append(value)


@dataclass
class Clip:
    """Frames (N, 480, 640, 3) RGB uint8 at ``fps``; mono float32 audio in [-1, 1] at ``sample_rate``."""

    frames: NDArray[np.uint8]
    fps: float
    audio: NDArray[np.float32] | None
    sample_rate: int
    truth: GroundTruth
    paths: dict[str, Path] = field(default_factory=dict)
    landmarks: NDArray[np.float64] | None = None  # (N, 478, 2) rendered mesh points of the main face

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps

    def write(self, out_dir: str | Path, name: str, formats: Sequence[str] = FORMATS) -> dict[str, Path]:
        """Write the requested formats plus ``<name>.json``; return and remember the paths."""
        from pensioncert.media.encode import encode_video, write_wav, write_y4m

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        unknown = set(formats) - set(FORMATS)
        if unknown:
            raise ValueError(f"unknown formats {sorted(unknown)}; known: {FORMATS}")
        if "y4m" in formats:
            self.paths["y4m"] = write_y4m(out / f"{name}.y4m", self.frames, self.fps)
        if "wav" in formats and self.audio is not None:
            self.paths["wav"] = write_wav(out / f"{name}.wav", self.audio, self.sample_rate)
        for container in ("webm", "mp4"):
            if container in formats:
                self.paths[container] = encode_video(
                    out / f"{name}.{container}", self.frames, self.fps, self.audio, self.sample_rate,
                    container,
                )
        truth_path = out / f"{name}.json"
        truth_path.write_text(json.dumps(self.truth.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        self.paths["json"] = truth_path
        return self.paths
