"""Accuracy and speed of the ID-card reader on a seeded generated set.

``pensioncert eval ocr`` and ``pensioncert bench ocr`` print what this computes.
A seed reproduces the set exactly; sides alternate front/back.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from pensioncert.documents.cardgen import PROBLEM_KINDS, generate_card, problem_case
from pensioncert.documents.reader import Side, read_id_card
from pensioncert.domain.idnumber import is_valid_id_number

FRONT_FIELDS = ("name", "sex", "ethnicity", "birth_date", "address", "id_number")
BACK_FIELDS = ("authority", "valid_from", "valid_until")
CONDITIONS = ("clean", "distorted")


@dataclass
class OcrEval:
    """Counts behind the printed figures."""

    correct: dict[str, dict[str, int]] = field(default_factory=lambda: {c: {} for c in CONDITIONS})
    total: dict[str, dict[str, int]] = field(default_factory=lambda: {c: {} for c in CONDITIONS})
    sides: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONDITIONS, 0))
    side_correct: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONDITIONS, 0))
    flagged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONDITIONS, 0))  # any problem
    bad_checksum_returned: int = 0
    wrong_id_returned: int = 0  # valid checksum but not the printed number
    seconds: list[float] = field(default_factory=list)
    decode_seconds: list[float] = field(default_factory=list)
    problems_detected: dict[str, int] = field(default_factory=dict)
    problems_total: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def accuracy(self, condition: str, name: str) -> float | None:
        n = self.total[condition].get(name, 0)
        return self.correct[condition].get(name, 0) / n if n else None

    def to_dict(self) -> dict[str, Any]:
        fields = {c: {f: self.accuracy(c, f) for f in FRONT_FIELDS + BACK_FIELDS} for c in CONDITIONS}
        ms = sorted(s * 1000 for s in self.seconds)
        decode_ms = statistics.median(self.decode_seconds) * 1000 if self.decode_seconds else None
        median_ms = statistics.median(ms) if ms else None
        return {
            "field_accuracy": fields,
            "sides": self.sides,
            "side_accuracy": {c: self.side_correct[c] / self.sides[c] if self.sides[c] else None
                              for c in CONDITIONS},  # fmt: skip
            "flagged_rate": {c: self.flagged[c] / self.sides[c] if self.sides[c] else None for c in CONDITIONS},
            "bad_checksum_returned": self.bad_checksum_returned,
            "wrong_id_returned": self.wrong_id_returned,
            "ms_per_side": {"median": median_ms, "p95": ms[int(0.95 * (len(ms) - 1))] if ms else None,
                            "decode_median": decode_ms,
                            "ratio_to_decode": median_ms / decode_ms if median_ms and decode_ms else None},
            "problem_detection": {k: {"detected": self.problems_detected.get(k, 0), "total": n}
                                  for k, n in self.problems_total.items()},  # fmt: skip
            "failures": self.failures[:50],
        }


def evaluate(clean: int = 100, distorted: int = 100, problems_each: int = 10, seed: int = 2024,
             progress: Callable[[], None] | None = None) -> OcrEval:
    """Read ``clean`` + ``distorted`` generated sides (and ``problems_each`` photos per problem kind)."""
    result = OcrEval()
    jobs = [("clean", i) for i in range(clean)] + [("distorted", i) for i in range(distorted)]
    for condition, i in jobs:
        side: Side = "front" if i % 2 == 0 else "back"
        card = generate_card(seed * 1_000_003 + i * 2 + (condition == "distorted"), side,
                             distorted=condition == "distorted")  # fmt: skip
        jpeg = card.jpeg(95)
        started = time.perf_counter()
        cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        result.decode_seconds.append(time.perf_counter() - started)
        reading = read_id_card(jpeg)
        result.seconds.append(reading.seconds)
        result.sides[condition] += 1
        result.side_correct[condition] += reading.side == side
        result.flagged[condition] += bool(reading.problems)
        wrong = {}
        for name, expected in card.truth.items():
            got = reading.fields.get(name)
            result.total[condition][name] = result.total[condition].get(name, 0) + 1
            result.correct[condition][name] = result.correct[condition].get(name, 0) + (got == expected)
            if got != expected:
                wrong[name] = {"expected": expected, "got": got}
        number = reading.fields.get("id_number")
        if number is not None and not is_valid_id_number(number):
            result.bad_checksum_returned += 1
        if number is not None and number != card.truth.get("id_number"):
            result.wrong_id_returned += 1
        if wrong or reading.problems or reading.side != side:
            result.failures.append({"condition": condition, "index": i, "side": side, "read_side": reading.side,
                                    "wrong": wrong, "problems": reading.problems})  # fmt: skip
        if progress:
            progress()
    for k, kind in enumerate(PROBLEM_KINDS):
        for j in range(problems_each):
            image, expected_side, _ = problem_case(kind, seed * 7919 + k * 1000 + j)
            reading = read_id_card(image, expected_side)
            result.problems_total[kind] = result.problems_total.get(kind, 0) + 1
            result.problems_detected[kind] = result.problems_detected.get(kind, 0) + (
                f"ocr.{kind}" in reading.problems)
            if progress:
                progress()
    return result
