"""A few of issue #12's attacks through the harness (the API and the worker's job), on a tuning seed."""

from __future__ import annotations

import pytest

from pensioncert.evaluation.attacks import TUNING_SEEDS, AttemptRecord, run_seed, summarise

pytestmark = pytest.mark.slow

KINDS = ("genuine_actions", "frames_2", "still_photo", "replay_earlier_session")


@pytest.fixture(scope="module")
def records() -> dict[str, AttemptRecord]:
    return {r.kind: r for r in run_seed(TUNING_SEEDS[0], KINDS)}


def test_genuine_subject_following_the_schedule_passes(records: dict[str, AttemptRecord]) -> None:
    outcome = records["genuine_actions"].outcome
    assert outcome.result == "passed", outcome
    assert outcome.challenge.startswith("actions:") and "@" in outcome.challenge


@pytest.mark.parametrize("kind", ["frames_2", "still_photo", "replay_earlier_session"])
def test_attack_does_not_pass(records: dict[str, AttemptRecord], kind: str) -> None:
    outcome = records[kind].outcome
    assert not outcome.passed and outcome.reasons, outcome


def test_summary_counts_attacks_and_genuine(records: dict[str, AttemptRecord]) -> None:
    report = summarise(list(records.values()), [TUNING_SEEDS[0]])
    assert report.counts == {"frames_2": 1, "replay_earlier_session": 1, "still_photo": 1, "genuine": 1}
    assert report.bpcer == 0.0 and report.apcer["still_photo"] == 0.0
