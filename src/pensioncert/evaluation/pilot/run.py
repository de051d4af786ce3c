"""Run every pilot recording through the production decision path (the harness), in parallel.

Each worker process holds one :class:`~pensioncert.evaluation.harness.Harness` (its own
temporary database) for its whole life; each row is a whole visit: a retiree with the row's
reference photo as registry photo, a session on the row's channel, the challenge the
recording answered (pinned: content and schedule), start, upload, the worker's job.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from pensioncert.evaluation.harness import Harness, Outcome
from pensioncert.evaluation.pilot.manifest import PilotRow

CONTENT_TYPES = {".webm": "video/webm", ".mkv": "video/x-matroska", ".mp4": "video/mp4", ".m4v": "video/mp4",
                 ".mov": "video/quicktime", ".3gp": "video/3gpp"}


@dataclass
class RowDecision:
    """What production decided about one pilot recording (one line of decisions.csv)."""

    line: int
    file: str
    kind: str
    subject: str
    subgroups: dict[str, str]
    result: str
    reasons: list[str]
    scores: dict[str, Any] = field(default_factory=dict)
    decision_seconds: float = 0.0

    @property
    def is_attack(self) -> bool:
        return self.kind != "genuine"

    @property
    def passed(self) -> bool:
        return self.result == "passed"

    @property
    def error(self) -> bool:
        """An error of the system: an attack that passed, or a genuine recording that did not."""
        return self.passed == self.is_attack


def decide_row(harness: Harness, row: PilotRow) -> RowDecision:
    """One row through the harness; refusals and job errors are decisions like any other."""
    from pensioncert.liveness.challenges import parse_challenge

    challenge = parse_challenge(row.challenge, language=row.language)
    person = harness.enrol(row.reference.read_bytes())
    video = row.file.read_bytes()
    outcome: Outcome = harness.attempt(
        person, lambda revealed: video, channel=row.channel, language="en" if row.language == "en" else "zh-CN",
        content_type=CONTENT_TYPES.get(row.file.suffix.lower(), "video/webm"), pin=challenge,
    )
    return RowDecision(row.line, str(row.file), row.kind, row.subject, dict(row.subgroups), outcome.result,
                       outcome.reasons, outcome.scores, outcome.decision_seconds)


_worker_harness: Harness | None = None


def _init_worker(settings_env: dict[str, str]) -> None:
    global _worker_harness
    _worker_harness = Harness(settings_env=settings_env)
    _worker_harness.__enter__()
    atexit.register(_worker_harness.__exit__, None, None, None)


def _decide_in_worker(row: PilotRow) -> RowDecision:
    assert _worker_harness is not None
    return decide_row(_worker_harness, row)


def run_pilot(rows: Sequence[PilotRow], *, workers: int = 1, settings_env: dict[str, str] | None = None,
              progress: Callable[[RowDecision], None] | None = None) -> list[RowDecision]:
    """Decide every row; ``workers`` > 1 runs processes, each with its own harness. Manifest order."""
    decisions: list[RowDecision] = []
    for decision in _decisions(rows, workers, settings_env or {}):
        decisions.append(decision)
        if progress:
            progress(decision)
    order = {row.line: i for i, row in enumerate(rows)}
    return sorted(decisions, key=lambda d: order[d.line])


def _decisions(rows: Sequence[PilotRow], workers: int, settings_env: dict[str, str]) -> Iterator[RowDecision]:
    if workers <= 1:
        with Harness(settings_env=settings_env) as harness:
            for row in rows:
                yield decide_row(harness, row)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(settings_env,)) as pool:
        futures = [pool.submit(_decide_in_worker, row) for row in rows]
        for future in as_completed(futures):
            yield future.result()
