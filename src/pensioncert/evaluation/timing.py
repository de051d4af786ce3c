"""``pensioncert eval timing``: how often does a genuine answer recorded for one schedule fit another?

The timed prompts are the freshness proof of a challenge (docs/liveness.md): a recording made
for an earlier challenge (last year's, a relative's screen capture) must not fit today's
schedule. When the content matches (the same actions in the same order, or any four Mandarin
digits, whose content no offline recognizer checks), only the timing stands between the
replay and a pass. This simulation measures that rate with the production rules
(``liveness.timing``) and the production schedule draw (``liveness.challenges.draw_schedule``),
on onsets from the genuine behaviour model of ``eval attacks`` (``synth.subject``): actions
after a latency drawn per step from ``GENUINE_LATENCY`` (never before the previous action
ended), the movement showing 0.05–0.2 s later; digits after a steady per-reader latency
±0.1 s, voiced 0.02–0.08 s later.

It is a simulation of the timing rule only (no rendering, no signal noise): it bounds what
timing contributes, and sizes the schedule; the whole-path rates are in ``eval attacks``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Protocol

from pensioncert.liveness.challenges import ChallengeKind, ChallengeRules, draw_schedule
from pensioncert.liveness.timing import TimingRules, actions_in_time, digit_timing

GENUINE_LATENCY = (0.3, 2.0)  # the same as evaluation.attacks.GENUINE_LATENCY (elderly, slow)
SPLIT_SEEDS = {"tuning": 0, "report": 100}


class Rules(ChallengeRules, TimingRules, Protocol):
    """Both halves of ``LivenessSettings`` the simulation reads."""


@dataclass(frozen=True)
class TimingReport:
    trials: int
    genuine_fit: dict[str, float]  # share of genuine answers that fit their own schedule
    replay_fit: dict[str, float]  # share that fit a fresh schedule with the same content
    mean_record_seconds: dict[str, float]
    max_record_seconds: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {"trials": self.trials, "genuine_fit": self.genuine_fit, "replay_fit": self.replay_fit,
                "mean_record_seconds": self.mean_record_seconds, "max_record_seconds": self.max_record_seconds}


def _action_onsets(schedule: tuple[float, ...], rng: random.Random) -> list[float]:
    """A step starts after its latency, never before the previous action (0.3-1.4 s long) ended."""
    onsets: list[float] = []
    free_from = 0.0
    for prompt in schedule:
        start = max(prompt + rng.uniform(*GENUINE_LATENCY), free_from)
        free_from = start + rng.uniform(0.3, 1.4) + 0.1
        onsets.append(start + rng.uniform(0.05, 0.2))
    return onsets


def _digit_onsets(schedule: tuple[float, ...], rng: random.Random) -> list[float]:
    steady = rng.uniform(*GENUINE_LATENCY)
    return [p + steady + rng.uniform(-0.1, 0.1) + rng.uniform(0.02, 0.08) for p in schedule]


def simulate(rules: Rules, *, trials: int = 20000, seed: int = 0) -> TimingReport:
    """Genuine and same-content replay fit rates for 2- and 3-action challenges and 4 digits."""
    rng = random.Random(seed)
    variants = {"actions_2": (ChallengeKind.ACTIONS, 2), "actions_3": (ChallengeKind.ACTIONS, 3),
                "digits_4": (ChallengeKind.DIGITS, 4)}
    genuine: dict[str, float] = {}
    replay: dict[str, float] = {}
    mean_len: dict[str, float] = {}
    max_len: dict[str, float] = {}
    for name, (kind, steps) in variants.items():
        own = fresh = 0
        lengths = []
        for _ in range(trials):
            earlier = draw_schedule(kind, steps, rng, rules)
            today = draw_schedule(kind, steps, rng, rules)
            lengths.append(earlier[-1] + rules.record_tail_seconds)
            if kind is ChallengeKind.ACTIONS:
                onsets = _action_onsets(earlier, rng)
                own += actions_in_time(onsets, earlier, rules)
                fresh += actions_in_time(onsets, today, rules)
            else:
                onsets = _digit_onsets(earlier, rng)
                own += digit_timing(onsets, earlier, rules).in_time
                fresh += digit_timing(onsets, today, rules).in_time
        genuine[name] = own / trials
        replay[name] = fresh / trials
        mean_len[name] = round(sum(lengths) / trials, 2)
        max_len[name] = round(max(lengths), 2)
    return TimingReport(trials, genuine, replay, mean_len, max_len)
