from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pensioncert import biometrics
from pensioncert.biometrics.devset import build_devset
from pensioncert.biometrics.evaluation import equal_error_rate, evaluate, pair_distances, plot_roc_det, rates


def test_rates_count_accepts_at_or_below_the_threshold() -> None:
    genuine = np.array([0.1, 0.2, 0.3, 0.6])
    impostor = np.array([0.45, 0.7, 0.8, 0.9, 1.0])
    assert rates(genuine, impostor, 0.5) == (pytest.approx(0.2), pytest.approx(0.25))
    assert rates(genuine, impostor, 0.3) == (0.0, pytest.approx(0.25))


def test_eer_is_zero_for_separated_scores_and_half_for_identical_ones() -> None:
    rng = np.random.default_rng(0)
    assert equal_error_rate(rng.uniform(0, 0.4, 200), rng.uniform(0.6, 1, 200))[0] == 0.0
    same = rng.uniform(0, 1, 2000)
    assert equal_error_rate(same, rng.permutation(same))[0] == pytest.approx(0.5, abs=0.05)


def test_pairs_split_by_folder() -> None:
    from pensioncert.biometrics.evaluation import Sample

    e = np.eye(128)
    embedded = {
        "a": [Sample(Path("a0"), e[0], True), Sample(Path("a1"), e[0], True), Sample(Path("a2"), e[1], True)],
        "b": [Sample(Path("b0"), e[2], True)],
    }
    genuine, impostor = pair_distances(embedded)
    assert genuine.size == 3 and impostor.size == 3
    assert sorted(np.round(genuine, 6)) == [0.0, pytest.approx(np.sqrt(2)), pytest.approx(np.sqrt(2))]


def test_devset_and_eval_end_to_end(tmp_path: Path) -> None:
    photos = [p for p in biometrics.sample_photos() if p.name in {"astronaut", "grace_hopper"}]
    written = build_devset(tmp_path / "dev", variants=2, photos=photos)
    assert written == {"eileen_collins": 3, "grace_hopper": 3}
    again = build_devset(tmp_path / "dev2", variants=2, photos=photos)
    assert again == written
    first = (tmp_path / "dev" / "grace_hopper" / "grace_hopper_02.jpg").read_bytes()
    assert first == (tmp_path / "dev2" / "grace_hopper" / "grace_hopper_02.jpg").read_bytes()  # deterministic

    report = evaluate(tmp_path / "dev", gated=False)
    summary = report.as_dict()
    images = report.images
    assert summary["genuine_pairs"] + summary["impostor_pairs"] == images * (images - 1) // 2
    assert {"far", "frr", "eer", "threshold", "genuine_pairs", "impostor_pairs"} <= set(summary)
    assert report.genuine.max() < report.impostor.min()  # two very different people, mild degradations
    png = plot_roc_det(report, tmp_path / "roc.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pair_kinds_separate_copies_of_one_photo_from_different_photos() -> None:
    from pensioncert.biometrics.evaluation import Sample, pair_kinds, source_photo

    e = np.eye(128)
    embedded = {
        "a": [Sample(Path("a/x_00.png"), e[0], True), Sample(Path("a/x_01.jpg"), e[0], True),
              Sample(Path("a/y_00.png"), e[1], True)],
        "b": [Sample(Path("b/z_00.png"), e[2], True)],
    }
    genuine, impostor = pair_distances(embedded)
    kinds = pair_kinds(embedded)
    # genuine order: (x00, x01), (x00, y00), (x01, y00)
    assert kinds["genuine_same_photo"].tolist() == [True, False, False]
    assert kinds["genuine_cross_photo"].tolist() == [False, True, True]
    assert kinds["genuine_cross_photo_originals"].tolist() == [False, True, False]
    assert genuine[kinds["genuine_same_photo"]].tolist() == [0.0]
    # impostor order: (x00, z00), (x01, z00), (y00, z00)
    assert kinds["impostor_originals"].tolist() == [True, False, True]
    assert impostor.size == 3
    assert source_photo(Path("p/holiday.jpg")) == ("holiday", True)  # not a dev-set name: its own photo
