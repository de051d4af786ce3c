"""The card generator: valid identities, lawful validity, reproducible images (no OCR: fast)."""

from __future__ import annotations

from datetime import date

import numpy as np

from pensioncert.documents.cardgen import PROBLEM_KINDS, generate_card, problem_case, random_identity
from pensioncert.domain.idnumber import parse_id_number

TODAY = date(2025, 6, 1)


def test_identities_are_valid_and_self_consistent() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        ident = random_identity(rng, TODAY)
        info = parse_id_number(ident.id_number, TODAY)
        assert (info.birth_date, info.sex) == (ident.birth_date, ident.sex)
        assert len(ident.address) <= 33 and 2 <= len(ident.name) <= 4
        assert ident.valid_from > ident.birth_date
        if ident.valid_until is None:
            assert (ident.valid_from - ident.birth_date).days >= 45 * 365
        else:
            assert ident.valid_until >= TODAY
            assert ident.valid_until.year - ident.valid_from.year in (10, 20)
    expired = random_identity(rng, TODAY, expired=True)
    assert expired.valid_until is not None and expired.valid_until < TODAY


def test_same_seed_same_photo_and_whole_card_in_frame() -> None:
    a, b = generate_card(3, "front", distorted=True), generate_card(3, "front", distorted=True)
    assert np.array_equal(a.image, b.image) and a.truth == b.truth
    assert not np.array_equal(a.image, generate_card(4, "front", distorted=True).image)
    for seed in range(5):
        photo = generate_card(seed, "back", distorted=True)
        c, (h, w) = photo.corners, photo.image.shape[:2]
        assert (c >= 0).all() and (c[:, 0] < w).all() and (c[:, 1] < h).all()


def test_problem_cases_exist_for_every_kind() -> None:
    for kind in PROBLEM_KINDS:
        image, expected, shown = problem_case(kind, 1)
        assert image.dtype == np.uint8 and image.ndim == 3
        assert (expected != shown) == (kind == "wrong_side")
