"""``pensioncert eval mandarin``: the Mandarin digit verifier on espeak-ng digits, per digit and per reading.

Each digit is synthesised alone (``espeak-ng -v VOICE -s SPEED -p PITCH``, 16 kHz, the phone
band-pass and noise floor of ``pensioncert.synth.audio``), found by ``speech.voice_segments``
as the timed analysis finds it, and scored by
:class:`~pensioncert.liveness.speech.PocketsphinxMandarinDigits`: the free one-of-ten decode's
best digit and the forced score of every digit, so that every margin can be tried on the same
decodes.

Splits: ``tuning`` (the plain ``cmn`` voice at several speeds and pitches) is the only one the
lexicon, the margin and k were chosen on; ``report`` (held-out espeak voice variants) gives the
figures and chooses nothing.

Four-digit readings are computed exactly from the per-digit outcomes, one voice condition
(voice, speed, pitch) per reading and the digits drawn uniformly: a genuine reading passes when
at least k of its four digits verify; a *replay* is a reading of four random digits (the
attacker's earlier recording) against a fresh random challenge, position by position.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from pensioncert.liveness.speech import PocketsphinxMandarinDigits, SegmentScores, voice_segments
from pensioncert.synth.audio import SAMPLE_RATE, noise_floor, speak


@dataclass(frozen=True)
class Split:
    voices: tuple[str, ...]
    speeds: tuple[int, ...]
    pitches: tuple[int, ...]

    def conditions(self) -> list[tuple[str, int, int]]:
        return list(itertools.product(self.voices, self.speeds, self.pitches))


SPLITS = {
    "tuning": Split(("cmn",), (110, 130, 150, 170, 190), (25, 40, 55, 70)),
    "report": Split(("cmn+f2", "cmn+m3", "cmn+klatt", "cmn+whisper", "cmn+Andy", "cmn+steph"),
                    (120, 150, 175), (30, 50, 70)),
}
MARGINS = (0.0, 0.5, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100)  # log units per 10 ms
GENUINE_TARGET = 0.99  # tuning: the genuine four-digit pass rate the rule must keep
K = 3  # digits of four that must verify


@dataclass(frozen=True)
class Sample:
    voice: str
    speed: int
    pitch: int
    digit: str
    segments: int  # voice segments found in the one-digit clip (1 expected)
    scores: SegmentScores

    @property
    def condition(self) -> tuple[str, int, int]:
        return (self.voice, self.speed, self.pitch)


def render_digit(digit: str, voice: str, speed: int, pitch: int, seed: int) -> NDArray[np.float32]:
    """One digit said alone: 0.6 s of room noise, the digit (gain 0.3, phone band-pass), 0.6 s of noise."""
    rng = np.random.default_rng(seed)
    x = speak(digit, voice, speed, pitch)
    x = x / (np.abs(x).max() + 1e-9) * 0.3
    pad = np.zeros(int(0.6 * SAMPLE_RATE), np.float32)
    y = np.concatenate([pad, x, pad])
    b, a = signal.butter(2, [120 / (SAMPLE_RATE / 2), 6000 / (SAMPLE_RATE / 2)], "band")
    y = signal.lfilter(b, a, y).astype(np.float32) + noise_floor(len(y), rng)
    return np.clip(y, -1, 1).astype(np.float32)


def measure(split: str, recognizer: PocketsphinxMandarinDigits | None = None,
            progress: Callable[[str], None] | None = None) -> list[Sample]:
    """Every digit in every condition of ``split``, scored against all ten digits."""
    recognizer = recognizer or PocketsphinxMandarinDigits()
    samples = []
    for n, (voice, speed, pitch) in enumerate(SPLITS[split].conditions()):
        if progress:
            progress(f"{voice} -s {speed} -p {pitch}")
        for d in range(10):
            audio = render_digit(str(d), voice, speed, pitch, seed=1000 * n + d)
            segments = voice_segments(audio, SAMPLE_RATE)
            if not segments:
                scores = SegmentScores("", {}, 1)
            else:
                # a digit split in two (a stop, a dip) is judged from its first onset to its last offset
                span = [(segments[0][0], segments[-1][1])]
                scores = recognizer.score_segment(audio, SAMPLE_RATE, span, 0)
            samples.append(Sample(voice, speed, pitch, str(d), len(segments), scores))
    return samples


def _at_least(k: int, p: float, n: int = 4) -> float:
    return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k, n + 1))


def verified(samples: Sequence[Sample], margin: float) -> dict[tuple[str, int, int], NDArray[np.bool_]]:
    """Per condition, a 10x10 table: [said, asked] -> the asked-for digit verifies on the digit said."""
    table: dict[tuple[str, int, int], NDArray[np.bool_]] = {}
    for s in samples:
        t = table.setdefault(s.condition, np.zeros((10, 10), bool))
        for asked in range(10):
            t[int(s.digit), asked] = s.scores.check(str(asked), margin).verified
    return table


@dataclass
class RuleFigures:
    margin: float
    k: int
    digit_verified: float  # P(the digit said verifies)
    digit_other_accepted: float  # P(another digit verifies on it)
    genuine_pass: float  # four-digit reading of the challenge
    replay_pass: float  # a reading of four random digits against a random challenge
    replay_other_pass: float  # ... with every position a different digit

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def figures(samples: Sequence[Sample], margin: float, k: int) -> RuleFigures:
    tables = verified(samples, margin)
    eye = np.eye(10, dtype=bool)
    genuine, replay, other, own, foreign = [], [], [], [], []
    for t in tables.values():
        g = float(t[eye].mean())
        o = float(t[~eye].mean())
        r = float(t.mean())
        own.append(g)
        foreign.append(o)
        genuine.append(_at_least(k, g))
        replay.append(_at_least(k, r))
        other.append(_at_least(k, o))
    return RuleFigures(margin, k, float(np.mean(own)), float(np.mean(foreign)), float(np.mean(genuine)),
                       float(np.mean(replay)), float(np.mean(other)))


def choose(samples: Sequence[Sample]) -> RuleFigures:
    """The rule chosen on the tuning split: k = ``K`` (fixed beforehand: one voice cannot show how
    many digits a new voice loses, so one misheard digit in four is tolerated, as for English
    ``digits_min_matching``) and the smallest margin whose genuine four-digit pass rate reaches
    ``GENUINE_TARGET`` (the largest margin tried when none does)."""
    rules = [figures(samples, m, K) for m in MARGINS]
    return next((r for r in rules if r.genuine_pass >= GENUINE_TARGET), rules[-1])


@dataclass
class Report:
    split: str
    conditions: int
    samples: int
    one_best_accuracy: float
    per_digit_accuracy: dict[str, float]
    confusion: list[list[int]]  # [said][heard], column 10 = nothing decoded
    segment_counts: dict[int, int]
    rule: RuleFigures
    by_k: list[RuleFigures]
    by_voice: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"split": self.split, "conditions": self.conditions, "samples": self.samples,
                "one_best_accuracy": round(self.one_best_accuracy, 4),
                "per_digit_accuracy": {d: round(v, 4) for d, v in self.per_digit_accuracy.items()},
                "confusion": {"rows_said_cols_heard": [*[str(d) for d in range(10)], "none"],
                              "matrix": self.confusion},
                "segments_found": {str(k): v for k, v in sorted(self.segment_counts.items())},
                "rule": self.rule.as_dict(), "by_k": [r.as_dict() for r in self.by_k],
                "by_voice": self.by_voice}


def report(split: str, samples: Sequence[Sample], margin: float, k: int) -> Report:
    confusion = np.zeros((10, 11), int)
    for s in samples:
        confusion[int(s.digit), int(s.scores.best) if s.scores.best else 10] += 1
    per_digit = {str(d): float(confusion[d, d] / max(1, confusion[d].sum())) for d in range(10)}
    counts: dict[int, int] = {}
    for s in samples:
        counts[s.segments] = counts.get(s.segments, 0) + 1
    by_voice = {}
    for voice in dict.fromkeys(s.voice for s in samples):
        mine = [s for s in samples if s.voice == voice]
        f = figures(mine, margin, k)
        by_voice[voice] = {"one_best_accuracy": round(sum(s.scores.best == s.digit for s in mine) / len(mine), 4),
                           "digit_verified": round(f.digit_verified, 4), "genuine_pass": round(f.genuine_pass, 4),
                           "replay_pass": round(f.replay_pass, 4)}
    return Report(split=split, conditions=len({s.condition for s in samples}), samples=len(samples),
                  one_best_accuracy=float(np.trace(confusion[:, :10]) / max(1, confusion.sum())),
                  per_digit_accuracy=per_digit, confusion=confusion.tolist(), segment_counts=counts,
                  rule=figures(samples, margin, k), by_k=[figures(samples, margin, kk) for kk in (1, 2, 3, 4)],
                  by_voice=by_voice)
