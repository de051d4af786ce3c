"""Genuine clips: one photo's head following a script and/or speaking digits, filmed by a phone."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pensioncert.synth.audio import SAMPLE_RATE, DigitTime, noise_floor, speak_digits
from pensioncert.synth.camera import PhoneCamera, background
from pensioncert.synth.clip import FORMATS, Clip, GroundTruth
from pensioncert.synth.head import HeadModel, build_head
from pensioncert.synth.photos import PhotoLike, load_photo
from pensioncert.synth.render import Drawn, Pose, draw_head
from pensioncert.synth.script import ACTIONS as SCRIPT_ACTIONS
from pensioncert.synth.script import Controls, Event, controls, parse_script, spoken

if TYPE_CHECKING:
    from pensioncert.liveness.challenges import Challenge

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
    glasses: bool = False,
    hat: bool = False,
) -> Clip:
    """Render a genuine clip of the person in ``photo``.

    ``script`` lists actions (``"blink@1.0,turn_left@2.0-2.8,open_mouth@3.0-3.4,nod@4.0"``);
    ``digits`` are spoken one at a time (``language`` ``"en"`` or ``"zh"``) with the mouth
    following the syllables. The clip is 640×480 at 15 fps; audio is float32 mono at 16 kHz.
    With ``out_dir`` the ``formats`` and ``<name>.json`` are written there.
    ``voiced=False`` mimes the digits silently and ``spoken_digits`` says other digits than the
    challenge: both exist for the attack variants. ``say_<d>@t`` events in ``script`` speak the
    digits at those voice onsets instead (``follow_schedule_script``); ``glasses`` and ``hat``
    draw those accessories on the head.
    """
    if language not in ("en", "zh"):
        raise ValueError("language must be 'en' or 'zh'")
    if digits is not None and not digits.isdigit():
        raise ValueError("digits must be a string of 0-9")
    events = parse_script(script)
    says = spoken(events)
    onsets = [e.start for e in says] if says else None
    if says:
        said_script = "".join(e.action[-1] for e in says)
        if digits is None:
            digits = said_script
        if spoken_digits is None:
            spoken_digits = said_script
        events = [e for e in events if e not in says]
    said = spoken_digits if spoken_digits is not None else digits
    if duration is None:
        last_say = max(onsets) + 0.8 if onsets else 0.0
        duration = default_duration(max([e.end for e in events] + [last_say], default=0.0),
                                    None if onsets else said)
    n = max(1, int(round(duration * FPS)))
    rng = np.random.default_rng([seed, 7])
    head = build_head(load_photo(photo))
    ctrl = controls(events, n, FPS, seed)
    mouth = ctrl.mouth.copy()
    audio: NDArray[np.float32]
    times = []
    if said:
        if onsets is not None and len(onsets) != len(said):
            onsets = None  # other digits than scripted (attack variants): read at the default pace
        speech = speak_digits(said, n, FPS, language, np.random.default_rng([seed, 11]), SPEECH_START, voiced,
                              onsets=onsets)
        mouth = np.maximum(mouth, speech.envelope)
        audio, times = speech.audio, speech.times
    else:
        audio = noise_floor(int(round(n / FPS * SAMPLE_RATE)), np.random.default_rng([seed, 11]))
    plan = poses(ctrl, mouth)
    paint = paint_actors(lambda k: [Actor(head, plan[k], identity)])
    if glasses or hat:
        paint = with_accessories(paint, glasses=glasses, hat=hat)
    frames, seen = film(paint, n, rng, progress=f"rendering {name}" if progress else None)
    truth, marks = truth_from(name, seed, seen, FPS, language, digits,
                              said if voiced else None, times, events + (says or []))
    clip = Clip(frames=frames, fps=FPS, audio=audio, sample_rate=SAMPLE_RATE, truth=truth, landmarks=marks)
    if out_dir is not None:
        clip.write(out_dir, name, formats)
    return clip


def with_accessories(paint: Painter, *, glasses: bool, hat: bool) -> Painter:
    """Wrap a painter so the main face wears glasses and/or a hat (drawn over the head)."""
    from pensioncert.synth.render import draw_glasses, draw_hat

    def painted(canvas: NDArray[np.float32], k: int) -> list[Seen]:
        faces = paint(canvas, k)
        if faces:
            if hat:
                draw_hat(canvas, faces[0].drawn)
            if glasses:
                draw_glasses(canvas, faces[0].drawn)
        return faces

    return painted


Latency = float | tuple[float, float]
# Untimed challenges (native-camera fallback): the user reads every prompt at once and answers
# at their own pace; these are the "prompt" times the script answers from.
UNTIMED_ACTION_SLOT = 1.8
UNTIMED_DIGIT_SLOT = 0.75


def follow_schedule_script(
    challenge: Challenge,
    *,
    latency: Latency = (0.4, 1.2),
    blink_every: float | None = 3.5,
    rng: random.Random | None = None,
) -> str:
    """A synth script for a subject who follows ``challenge``'s schedule like a genuine user.

    Each step (action, or digit said aloud as ``say_<d>``) starts ``latency`` seconds after its
    prompt time in ``challenge.schedule``: a fixed delay, or a ``(low, high)`` range drawn per
    step for actions (the eval's slow elderly users: up to 2 s) and once per subject, +-0.1 s
    per digit, for digits (reading a digit as it appears is a steady rhythm). A step never starts before the previous
    one has finished (an action) or 0.55 s after the previous digit's onset, as people do.
    Between and around the steps the subject blinks naturally, on average every
    ``blink_every`` seconds (None: never), without overlapping a requested action; when
    ``blink`` is requested the natural blinks stay out of its response too. Untimed challenges
    are answered in order at a steady pace (one action per 1.8 s, one digit per 0.75 s).

    Render the script with ``render_subject(photo, script=..., language=challenge.language)``,
    or use ``render_for_challenge`` which does both.
    """
    rng = rng or random.Random(0)
    steps = challenge.steps
    digits = challenge.kind.value == "digits"
    if challenge.timed:
        prompts = list(challenge.schedule)
    else:
        slot = UNTIMED_DIGIT_SLOT if digits else UNTIMED_ACTION_SLOT
        prompts = [0.5 + i * slot for i in range(len(steps))]
    parts: list[str] = []
    busy: list[tuple[float, float]] = []
    free_from = 0.0
    # A reader's latency is steady: one draw per subject, +-0.1 s per digit; actions vary per step.
    steady = latency if isinstance(latency, int | float) else rng.uniform(*latency)
    for step, prompt in zip(steps, prompts, strict=True):
        if isinstance(latency, int | float):
            delay = float(latency)
        elif digits:
            delay = float(steady) + rng.uniform(-0.1, 0.1)
        else:
            delay = rng.uniform(*latency)
        start = max(prompt + float(delay), free_from)
        if digits:
            parts.append(f"say_{step}@{start:.2f}")
            busy.append((start - 0.1, start + 0.5))
            free_from = start + 0.55
        else:
            end = start + SCRIPT_ACTIONS[step][0]
            parts.append(f"{step}@{start:.2f}-{end:.2f}")
            busy.append((start - 0.15, end + 0.15))
            free_from = end + 0.1
    if blink_every:
        end_of_clip = max(b for _, b in busy) + 2.0 if busy else 4.0
        at = rng.uniform(0.2, blink_every)
        while at < end_of_clip:
            blink = (at, at + SCRIPT_ACTIONS["blink"][0])
            clash = [b for a, b in busy if blink[0] < b and a < blink[1]]
            if clash:  # a blink held back until the action is over
                at = max(clash) + 0.05
                continue
            parts.append(f"blink@{blink[0]:.2f}-{blink[1]:.2f}")
            busy.append((blink[0] - 0.1, blink[1] + 0.1))
            at += rng.uniform(0.6, 1.4) * blink_every
    parts.sort(key=lambda p: float(p.split("@")[1].split("-")[0]))
    return ",".join(parts)


def render_for_challenge(
    photo: PhotoLike,
    challenge: Challenge,
    *,
    latency: Latency = (0.4, 1.2),
    blink_every: float | None = 3.5,
    rng: random.Random | None = None,
    seed: int = 0,
    duration: float | None = None,
    out_dir: str | Path | None = None,
    formats: Sequence[str] = FORMATS,
    name: str = "genuine",
    glasses: bool = False,
    hat: bool = False,
    identity: str = "subject",
) -> Clip:
    """Render the person in ``photo`` answering ``challenge`` as a genuine user would.

    The script comes from ``follow_schedule_script`` (same ``latency``, ``blink_every``, ``rng``);
    the clip lasts ``duration`` seconds, by default as long as the page records for this
    challenge (``challenge.record_seconds``). With ``out_dir`` the ``formats`` (y4m, wav, webm,
    mp4) and ``<name>.json`` are written there, as ``render_subject`` does.
    """
    from pensioncert.settings import get_settings

    script = follow_schedule_script(challenge, latency=latency, blink_every=blink_every, rng=rng)
    if duration is None:
        duration = challenge.record_seconds(get_settings().liveness)
    return render_subject(photo, script=script, language=challenge.language, seed=seed, duration=duration,
                          out_dir=out_dir, formats=formats, name=name, glasses=glasses, hat=hat,
                          identity=identity)
