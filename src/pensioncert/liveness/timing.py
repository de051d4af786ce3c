"""Timing rules of timed challenges, pure (no signals, no I/O): when does an answer count as *now*?

A step is answered in time when its onset (an action's movement, a digit's voice) falls in
the response window after its prompt. Spoken digits must also keep the reader's rhythm: a
reader's latency is steady, so consecutive latencies may differ by at most
``digit_gap_tolerance_seconds`` (a recording read at its own pace, or for another schedule,
drifts off). ``liveness.actions`` and ``liveness.analyse`` decide with these functions, and
``pensioncert eval timing`` replays genuine answers against fresh schedules with the same
functions, so the replay rates it prints are the rates of the production rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol


class TimingRules(Protocol):
    """The part of ``LivenessSettings`` these rules read."""

    action_response_min_seconds: float
    action_response_max_seconds: float
    digit_response_min_seconds: float
    digit_response_max_seconds: float
    digit_gap_tolerance_seconds: float


def action_window(prompt: float, rules: TimingRules) -> tuple[float, float]:
    """Where the onset of the action prompted at ``prompt`` must fall (seconds after the start)."""
    return prompt + rules.action_response_min_seconds, prompt + rules.action_response_max_seconds


def actions_in_time(onsets: Sequence[float], prompts: Sequence[float], rules: TimingRules) -> bool:
    """Every requested action began inside its window, in order (the timing part of the action check)."""
    if len(onsets) != len(prompts):
        return False
    previous = float("-inf")
    for onset, prompt in zip(onsets, prompts, strict=True):
        low, high = action_window(prompt, rules)
        if not (low <= onset <= high) or onset <= previous:
            return False
        previous = onset
    return True


@dataclass(frozen=True)
class DigitTiming:
    latencies: tuple[float, ...]  # voice onset minus the digit's prompt time
    gap_error: float  # largest change of latency between consecutive digits
    in_time: bool


def digit_timing(onsets: Sequence[float], prompts: Sequence[float], rules: TimingRules) -> DigitTiming:
    """Latencies of the voiced digits; in time when each is in its window and the rhythm holds."""
    if len(onsets) != len(prompts) or not prompts:
        return DigitTiming((), float("inf"), False)
    latencies = tuple(float(o) - float(p) for o, p in zip(onsets, prompts, strict=True))
    gap_error = max((abs(b - a) for a, b in pairwise(latencies)), default=0.0)
    in_window = all(rules.digit_response_min_seconds <= x <= rules.digit_response_max_seconds for x in latencies)
    return DigitTiming(latencies, gap_error, in_window and gap_error <= rules.digit_gap_tolerance_seconds)
