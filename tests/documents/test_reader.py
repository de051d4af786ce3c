"""read_id_card on generated cards (runs the OCR model: each read is ~0.5-2 s, so reads are shared)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import cv2
import numpy as np
import pytest

from pensioncert.documents import IdCardReading, read_id_card
from pensioncert.documents import layout as L
from pensioncert.documents.cardgen import GeneratedCard, generate_card, problem_case, random_identity, with_changes
from pensioncert.domain.idnumber import check_character, is_valid_id_number

TODAY = date(2025, 6, 1)


@cache
def card(seed: int, side: str, distorted: bool = False) -> GeneratedCard:
    return generate_card(seed, side, distorted=distorted, today=TODAY)  # type: ignore[arg-type]


@cache
def reading(seed: int, side: str, distorted: bool = False) -> IdCardReading:
    return read_id_card(card(seed, side, distorted).jpeg(), today=TODAY)


@pytest.mark.parametrize("side", ["front", "back"])
def test_clean_side_reads_exactly(side: str) -> None:
    r = reading(11, side)
    assert r.side == side
    assert r.fields == card(11, side).truth
    assert r.problems == []


def test_distorted_photos_read_field_by_field() -> None:
    """Four phone-like photos: nearly every field exact, and never an ID failing its checksum."""
    right = total = 0
    for seed in (21, 22, 23, 24):
        side = "front" if seed % 2 else "back"
        r, truth = reading(seed, side, True), card(seed, side, True).truth
        assert r.side == side
        right += sum(r.fields.get(k) == v for k, v in truth.items())
        total += len(truth)
        if "id_number" in r.fields:
            assert is_valid_id_number(r.fields["id_number"])
    assert right >= total - 1


def test_portrait_is_the_printed_photo() -> None:
    c, r = card(21, "front", True), reading(21, "front", True)
    assert r.portrait is not None
    printed = c.flat_region(L.PORTRAIT_BOX)
    # the crop has a 1 mm margin; compare its inner part with the printed photo
    m = round(r.portrait.shape[1] / (L.PORTRAIT_BOX.w + 2))
    inner = cv2.resize(r.portrait[m:-m, m:-m], printed.shape[1::-1])
    corr = np.corrcoef(cv2.cvtColor(inner, cv2.COLOR_BGR2GRAY).ravel(),
                       cv2.cvtColor(printed, cv2.COLOR_BGR2GRAY).ravel())[0, 1]  # fmt: skip
    assert corr > 0.8
    assert reading(11, "back").portrait is None
    assert r.card_corners is not None
    assert np.abs(np.array(r.card_corners) - c.corners).max() < 6 * c.image.shape[1] / 856


def test_upside_down_and_upright_phone_photos() -> None:
    image = card(11, "front").image
    flipped = read_id_card(cv2.rotate(image, cv2.ROTATE_180), today=TODAY)
    assert flipped.fields == card(11, "front").truth
    for turn in (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE):
        upright = read_id_card(cv2.rotate(card(11, "back").image, turn), today=TODAY)
        assert upright.fields == card(11, "back").truth


def test_wrong_side_is_reported_with_the_reading() -> None:
    r = read_id_card(card(11, "back").image, "front", today=TODAY)
    assert r.side == "back"
    assert r.problems[0] == "ocr.wrong_side"
    assert r.fields == card(11, "back").truth


def test_id_number_with_failing_checksum_is_never_returned() -> None:
    rng = np.random.default_rng(5)
    ident = random_identity(rng, TODAY)
    good = ident.id_number
    wrong_check = "0" if good[17] != "0" else "1"
    forged = with_changes(ident, id_number=good[:17] + wrong_check)
    r = read_id_card(generate_card(5, "front", identity=forged).image, today=TODAY)
    assert "id_number" not in r.fields
    assert "ocr.id_unreadable" in r.problems
    assert r.fields["name"] == ident.name  # the rest is still read


def test_printed_birth_date_and_sex_must_agree_with_the_number() -> None:
    rng = np.random.default_rng(6)
    ident = random_identity(rng, TODAY)
    first17 = ident.id_number[:16] + str((int(ident.id_number[16]) + 1) % 10)  # flips the sex digit parity
    other = with_changes(ident, birth_date=ident.birth_date + timedelta(days=400),
                         id_number=first17 + check_character(first17))  # fmt: skip
    r = read_id_card(generate_card(6, "front", identity=other).image, today=TODAY)
    assert r.fields["id_number"] == other.id_number
    assert {"ocr.birth_date_mismatch", "ocr.sex_mismatch"} <= set(r.problems)


def test_expired_card() -> None:
    rng = np.random.default_rng(8)
    ident = random_identity(rng, TODAY, expired=True)
    r = read_id_card(generate_card(8, "back", identity=ident).image, today=TODAY)
    assert r.fields["valid_until"] == ident.valid_until.isoformat()  # type: ignore[union-attr]
    assert "ocr.expired" in r.problems


@pytest.mark.parametrize("kind", ["blurred", "glare", "card_cut_off", "not_id_card"])
def test_problem_photos_are_explained(kind: str) -> None:
    image, expected_side, _ = problem_case(kind, 31)
    r = read_id_card(image, expected_side, today=TODAY)
    assert f"ocr.{kind}" in r.problems
    if "id_number" in r.fields:
        assert is_valid_id_number(r.fields["id_number"])


def test_face_photo_is_not_an_id_card_and_garbage_is_unreadable() -> None:
    from skimage import data

    r = read_id_card(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    assert (r.side, r.problems) == (None, ["ocr.not_id_card"])
    assert read_id_card(b"not an image").problems == ["ocr.image_unreadable"]
    assert read_id_card(b"").problems == ["ocr.image_unreadable"]


def test_address_ending_in_a_lone_character_on_its_own_line() -> None:
    """A third address line holding one narrow digit can escape the detector; it must not be lost."""
    ident = with_changes(random_identity(np.random.default_rng(9), TODAY),
                         address="广东省深圳市宝安区沙河西路百花园33栋1207")  # 11 + 11 + "7"  # fmt: skip
    c = generate_card(9, "front", distorted=True, identity=ident)
    assert read_id_card(c.jpeg(), today=TODAY).fields.get("address") == ident.address
