"""Genuine clips: one photo's head following a script and/or speaking digits, filmed by a phone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pensioncert.synth.audio import SAMPLE_RATE, DigitTime, noise_floor, speak_digits
from pensioncert.synth.camera import PhoneCamera, background
from pensioncert.synth.clip import FORMATS, Clip, GroundTruth
from pensioncert.synth.head import HeadModel, build_head
from pensioncert.synth.photos import PhotoLike, load_photo
from pensioncert.synth.render import Drawn, Pose, draw_head
from pensioncert.synth.script import Controls, Event, controls, parse_script

FPS = 15.0
WIDTH, HEIGHT = 640, 480
SPEECH_START = 0.8


@dataclass
class Actor:
    """One head in a frame: which model, how posed, and under which identity name."""

    head: HeadModel
    pose: Pose
    identity: str


@dataclass
class Seen:
    """One face as it appears in a frame (the first one of a frame is the main face)."""

    identity: str
    pose: Pose
    drawn: Drawn


Painter = Callable[[NDArray[np.float32], int], list[Seen]]


def paint_actors(actors: Callable[[int], list[Actor]]) -> Painter:
    """A painter that draws the given heads, back to front, for each frame."""

    def paint(canvas: NDArray[np.float32], k: int) -> list[Seen]:
        return [Seen(a.identity, a.pose, draw_head(canvas, a.head, a.pose)) for a in actors(k)]

    return paint


def default_duration(events_end: float, digits: str | None) -> float:
    """Long enough for the script and the digits, with a little margin either side."""
    speech_end = SPEECH_START + 0.85 * len(digits) if digits else 0.0
    return max(events_end, speech_end, 1.5) + 0.8


def film(
    paint: Painter,
    n_frames: int,
    rng: np.random.Generator,
    *,
    fps: float = FPS,
    camera: PhoneCamera | None = None,
    scene_bg: NDArray[np.float32] | None = None,
    progress: str | None = None,
) -> tuple[NDArray[np.uint8], list[list[Seen]]]:
    """Render and capture ``n_frames``; returns the frames and, per frame, what each actor looked like."""
    bg = background(rng, HEIGHT, WIDTH) if scene_bg is None else scene_bg
    cam = camera or PhoneCamera(rng, n_frames, HEIGHT, WIDTH)
    frames = np.empty((n_frames, HEIGHT, WIDTH, 3), np.uint8)
    seen: list[list[Seen]] = []
    bar = _progress(progress, n_frames)
    with bar as live:
        task = live.add_task(progress or "", total=n_frames) if live is not None else None
        for k in range(n_frames):
            canvas = bg.copy()
            drawn = paint(canvas, k)
            frames[k] = cam.capture(canvas, k)
            m = cam.affine(k)
            for face in drawn:  # the truth moves with the hand shake
                d = face.drawn
                d.landmarks = d.landmarks @ m[:, :2].T + m[:, 2]
                x, y = d.landmarks[:, 0], d.landmarks[:, 1]
                d.box = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
            seen.append(drawn)
            if live is not None and task is not None:
                live.advance(task)
    return frames, seen


def _progress(label: str | None, total: int) -> Any:
    """A rich progress bar when a label is given (CLI), nothing otherwise (tests, library use)."""
    if not label:
        return nullcontext(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    transient=True)


def truth_from(
    kind: str,
    seed: int,
    seen: list[list[Seen]],
    fps: float,
    language: str,
    challenge: str | None,
    spoken: str | None,
    speech_times: list[DigitTime],
    events: list[Event],
) -> tuple[GroundTruth, NDArray[np.float64] | None]:
    """Per-frame truth from what was drawn (the main face is the first actor)."""
    truth = GroundTruth(
        kind=kind, seed=seed, fps=fps, width=WIDTH, height=HEIGHT, n_frames=len(seen), language=language,
        challenge_digits=challenge, spoken_digits=spoken, digit_times=speech_times, events=events,
        is_attack=kind != "genuine",
    )
    marks = []
    for k, drawn in enumerate(seen):
        if drawn:
            main = drawn[0]
            p, d = main.pose, main.drawn
            truth.append(t=k / fps, yaw=p.yaw, pitch=p.pitch, roll=p.roll, eye_closure=p.eye_closure,
                         mouth_open=p.mouth_open, eye_ratio=d.eye_ratio, mouth_ratio=d.mouth_ratio,
                         faces=len(drawn), face_box=list(d.box), identity=main.identity, source_frame=k)
            marks.append(d.landmarks)
        else:
            truth.append(t=k / fps, yaw=0.0, pitch=0.0, roll=0.0, eye_closure=0.0, mouth_open=0.0,
                         eye_ratio=0.0, mouth_ratio=0.0, faces=0, face_box=None, identity="", source_frame=k)
            marks.append(np.full((478, 2), np.nan))
    return truth, np.stack(marks) if marks else None


def poses(ctrl: Controls, mouth: NDArray[np.float64], x: float = WIDTH / 2, y: float = 275.0,
          scale: float = 0.8) -> list[Pose]:
    """Per-frame poses from controls (mouth already merged with speech)."""
    return [
        Pose(yaw=float(ctrl.yaw[k]), pitch=float(ctrl.pitch[k]), roll=float(ctrl.roll[k]),
             eye_closure=float(ctrl.eye[k]), mouth_open=float(mouth[k]),
             x=x + float(ctrl.dx[k]), y=y + float(ctrl.dy[k]), scale=scale)
        for k in range(len(ctrl.t))
    ]


def render_subject(
    photo: PhotoLike,
    *,
    script: str | None = None,
    digits: str | None = None,
    language: str = "en",
    seed: int = 0,
    duration: float | None = None,
    out_dir: str | Path | None = None,
    formats: Sequence[str] = FORMATS,
    name: str = "genuine",
    voiced: bool = True,
    spoken_digits: str | None = None,
    progress: bool = False,
    identity: str = "subject",
) -> Clip:
    """Render a genuine clip of the person in ``photo``.

    ``script`` lists actions (``"blink@1.0,turn_left@2.0-2.8,open_mouth@3.0-3.4,nod@4.0"``);
    ``digits`` are spoken one at a time (``language`` ``"en"`` or ``"zh"``) with the mouth
    following the syllables. The clip is 640×480 at 15 fps; audio is float32 mono at 16 kHz.
    With ``out_dir`` the ``formats`` and ``<name>.json`` are written there.
    ``voiced=False`` mimes the digits silently and ``spoken_digits`` says other digits than the
    challenge: both exist for the attack variants.
    """
    if language not in ("en", "zh"):
        raise ValueError("language must be 'en' or 'zh'")
    if digits is not None and not digits.isdigit():
        raise ValueError("digits must be a string of 0-9")
    events = parse_script(script)
    said = spoken_digits if spoken_digits is not None else digits
    if duration is None:
        duration = default_duration(max((e.end for e in events), default=0.0), said)
    n = max(1, int(round(duration * FPS)))
    rng = np.random.default_rng([seed, 7])
    head = build_head(load_photo(photo))
    ctrl = controls(events, n, FPS, seed)
    mouth = ctrl.mouth.copy()
    audio: NDArray[np.float32]
    times = []
    if said:
        speech = speak_digits(said, n, FPS, language, np.random.default_rng([seed, 11]), SPEECH_START, voiced)
        mouth = np.maximum(mouth, speech.envelope)
        audio, times = speech.audio, speech.times
    else:
        audio = noise_floor(int(round(n / FPS * SAMPLE_RATE)), np.random.default_rng([seed, 11]))
    plan = poses(ctrl, mouth)
    frames, seen = film(paint_actors(lambda k: [Actor(head, plan[k], identity)]), n, rng,
                        progress=f"rendering {name}" if progress else None)
    truth, marks = truth_from(name, seed, seen, FPS, language, digits,
                              said if voiced else None, times, events)
    clip = Clip(frames=frames, fps=FPS, audio=audio, sample_rate=SAMPLE_RATE, truth=truth, landmarks=marks)
    if out_dir is not None:
        clip.write(out_dir, name, formats)
    return clip
