"""A few of issue #12's attacks through the harness (the API and the worker's job), on a tuning seed."""

from __future__ import annotations

import pytest

from pensioncert.evaluation.attacks import TUNING_SEEDS, AttemptRecord, run_seed, summarise
from pensioncert.settings import get_settings

pytestmark = pytest.mark.slow

KINDS = ("genuine_actions", "frames_2", "still_photo", "replay_earlier_session", "replay_same_actions",
         "genuine_again")


@pytest.fixture(scope="module")
def records() -> dict[str, AttemptRecord]:
    return {r.kind: r for r in run_seed(TUNING_SEEDS[0], KINDS)}


def test_genuine_subject_following_the_schedule_passes(records: dict[str, AttemptRecord]) -> None:
    outcome = records["genuine_actions"].outcome
    assert outcome.result == "passed", outcome
    assert outcome.challenge.startswith("actions:") and "@" in outcome.challenge


def test_last_years_recording_replayed_to_the_same_actions_is_recognised(records: dict[str, AttemptRecord]) -> None:
    """Last year's session (kept motion) and today's replay of it to a challenge asking its actions."""
    outcome = records["replay_same_actions"].outcome
    assert not outcome.passed and "liveness.replayed_recording" in outcome.reasons, outcome


def test_the_victim_answering_the_same_actions_again_passes(records: dict[str, AttemptRecord]) -> None:
    outcome = records["genuine_again"].outcome
    assert outcome.result == "passed", outcome
    # compared with last year's recording, and unlike it
    assert outcome.scores["replay_similarity"] < get_settings().liveness.replay_max_similarity


@pytest.mark.parametrize("kind", ["frames_2", "still_photo", "replay_earlier_session", "replay_same_actions"])
def test_attack_does_not_pass(records: dict[str, AttemptRecord], kind: str) -> None:
    outcome = records[kind].outcome
    assert not outcome.passed and outcome.reasons, outcome


def test_summary_counts_attacks_and_genuine(records: dict[str, AttemptRecord]) -> None:
    report = summarise(list(records.values()), [TUNING_SEEDS[0]])
    assert report.counts == {"frames_2": 1, "replay_earlier_session": 1, "replay_same_actions": 1, "still_photo": 1,
                             "genuine": 2}
    assert report.bpcer == 0.0 and report.apcer["still_photo"] == 0.0
