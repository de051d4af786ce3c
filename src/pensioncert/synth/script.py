"""Event scripts (``blink@1.0,turn_left@2.0-2.8,say_7@3.1``) and the per-frame head controls they produce.

``say_<d>@t`` speaks digit ``d`` with its voice onset at ``t`` seconds (the renderer's speech track,
see ``subject.render_subject``); every other event moves the head.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# action -> (default duration s, channel, amplitude). Channels add up; amplitudes in degrees or 0..1.
ACTIONS: dict[str, tuple[float, str, float]] = {
    "blink": (0.4, "eye", 1.0),
    "open_mouth": (0.8, "mouth", 1.0),
    "turn_left": (1.0, "yaw", 30.0),
    "turn_right": (1.0, "yaw", -30.0),
    "look_up": (1.0, "pitch", 18.0),
    "look_down": (1.0, "pitch", -18.0),
    "nod": (1.0, "nod", 16.0),
    "shake": (1.2, "shake", 25.0),
    "tilt_left": (1.0, "roll", -15.0),
    "tilt_right": (1.0, "roll", 15.0),
}
# Spoken digits: the duration is nominal (the voice lasts as long as espeak-ng says the digit).
SAY = {f"say_{d}": (0.5, "speech", 1.0) for d in "0123456789"}

_EVENT = re.compile(r"^\s*([a-z_0-9]+)\s*@\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*s?\s*$")


@dataclass(frozen=True)
class Event:
    """One scripted action from ``start`` to ``end`` seconds."""

    action: str
    start: float
    end: float


def parse_script(script: str | None) -> list[Event]:
    """Parse ``"blink@1.0,turn_left@2.0-2.8"``; a bare time uses the action's default duration."""
    events: list[Event] = []
    for part in (script or "").split(","):
        if not part.strip():
            continue
        match = _EVENT.match(part)
        if not match:
            raise ValueError(f"bad script event {part!r}: expected action@start or action@start-end")
        action, start_s, end_s = match.groups()
        if action not in ACTIONS and action not in SAY:
            raise ValueError(f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}, say_0..say_9")
        start = float(start_s)
        end = float(end_s) if end_s else start + (ACTIONS.get(action) or SAY[action])[0]
        if end <= start:
            raise ValueError(f"event {part!r} ends before it starts")
        events.append(Event(action, start, end))
    return sorted(events, key=lambda e: e.start)


def _plateau(u: NDArray[np.float64], rise: float = 0.3) -> NDArray[np.float64]:
    """0 → 1 (smooth) over the first ``rise`` of the interval, hold, back to 0 over the last ``rise``."""
    up = np.clip(u / rise, 0.0, 1.0)
    down = np.clip((1.0 - u) / rise, 0.0, 1.0)
    s = np.minimum(up, down)
    return np.where((u >= 0) & (u <= 1), s * s * (3 - 2 * s), 0.0)


@dataclass
class Controls:
    """Per-frame head controls (arrays of length N)."""

    t: NDArray[np.float64]
    yaw: NDArray[np.float64]
    pitch: NDArray[np.float64]
    roll: NDArray[np.float64]
    eye: NDArray[np.float64]
    mouth: NDArray[np.float64]
    dx: NDArray[np.float64]  # head drift in screen px
    dy: NDArray[np.float64]


def controls(events: list[Event], n_frames: int, fps: float, seed: int, idle: float = 1.0) -> Controls:
    """Head controls per frame: the scripted events on top of a small, seeded idle sway."""
    rng = np.random.default_rng([seed, 101])
    t = np.arange(n_frames) / fps
    ph = rng.uniform(0, 2 * np.pi, 8)
    fr = rng.uniform(0.12, 0.35, 8)
    yaw = idle * 2.0 * np.sin(2 * np.pi * fr[0] * t + ph[0])
    pitch = idle * 1.5 * np.sin(2 * np.pi * fr[1] * t + ph[1])
    roll = idle * 1.5 * np.sin(2 * np.pi * fr[2] * t + ph[2])
    dx = idle * 6.0 * np.sin(2 * np.pi * fr[3] * t + ph[3])
    dy = idle * 4.0 * np.sin(2 * np.pi * fr[4] * t + ph[4])
    eye = np.zeros(n_frames)
    mouth = np.zeros(n_frames)
    for ev in events:
        if ev.action in SAY:
            continue  # speech: the renderer's audio track drives the mouth
        _, channel, amp = ACTIONS[ev.action]
        u = (t - ev.start) / (ev.end - ev.start)
        inside = (u >= 0) & (u <= 1)
        if channel == "eye":
            eye = np.maximum(eye, amp * _plateau(u, rise=0.35))
        elif channel == "mouth":
            mouth = np.maximum(mouth, amp * _plateau(u, rise=0.25))
        elif channel == "yaw":
            yaw = yaw + amp * _plateau(u)
        elif channel == "pitch":
            pitch = pitch + amp * _plateau(u)
        elif channel == "roll":
            roll = roll + amp * _plateau(u)
        elif channel == "nod":  # chin down then back up, twice as a person nods
            pitch = pitch - np.where(inside, amp * np.sin(np.pi * np.clip(u, 0, 1) * 2) ** 2, 0.0)
        elif channel == "shake":
            yaw = yaw + np.where(inside, amp * np.sin(2 * np.pi * np.clip(u, 0, 1)), 0.0)
    return Controls(t=t, yaw=yaw, pitch=pitch, roll=roll, eye=eye, mouth=mouth, dx=dx, dy=dy)


def spoken(events: list[Event]) -> list[Event]:
    """The ``say_<d>`` events, in time order."""
    return [e for e in events if e.action in SAY]
