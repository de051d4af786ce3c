from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pensioncert.domain.idnumber import (
    CHECK_CHARACTERS,
    InvalidIdNumber,
    check_character,
    convert_15_to_18,
    mask_id_number,
    parse_id_number,
)

regions = st.sampled_from(["440301", "440303", "440304", "110101", "310104"])
births = st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


def build(region: str, born: date, seq: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


def test_known_published_example() -> None:
    # GB 11643-1999's worked example: 11010519491231002X
    info = parse_id_number("11010519491231002x")
    assert info.normalized == "11010519491231002X"
    assert info.birth_date == date(1949, 12, 31)
    assert info.sex == "female"
    assert info.region_code == "110105"


@given(regions, births, sequences)
def test_valid_numbers_roundtrip(region: str, born: date, seq: int) -> None:
    number = build(region, born, seq)
    info = parse_id_number(number.lower())
    assert info.normalized == number
    assert info.birth_date == born
    assert info.sex == ("male" if seq % 2 else "female")


@given(regions, births, sequences, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_any_single_digit_error_is_caught(region: str, born: date, seq: int, position: int, delta: int) -> None:
    number = build(region, born, seq)
    wrong_digit = str((int(number[position]) + delta) % 10)
    corrupted = number[:position] + wrong_digit + number[position + 1 :]
    with pytest.raises(InvalidIdNumber) as error:
        parse_id_number(corrupted)
    assert error.value.code in {"id.bad_checksum", "id.bad_birth_date"}


@given(regions, st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)), sequences)
def test_15_to_18_conversion(region: str, born: date, seq: int) -> None:
    legacy = f"{region}{born:%y%m%d}{seq:03d}"
    converted = convert_15_to_18(legacy)
    assert converted == build(region, born, seq)
    assert parse_id_number(legacy).normalized == converted


def test_check_character_alphabet_is_complete() -> None:
    seen = {check_character(f"44030119500101{n:03d}") for n in range(1000)}
    assert seen == set(CHECK_CHARACTERS)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "id.empty"),
        ("   ", "id.empty"),
        ("4403011950010112", "id.bad_length"),
        ("44030119500101123A", "id.bad_format"),
        ("440301195002301234", "id.bad_birth_date"),
        ("440301195001011230", "id.bad_checksum"),
    ],
)
def test_precise_errors(text: str, code: str) -> None:
    with pytest.raises(InvalidIdNumber) as error:
        parse_id_number(text)
    assert error.value.code == code


def test_future_birth_date_rejected() -> None:
    today = date(2026, 11, 27)
    number = build("440301", today + timedelta(days=1), 11)
    with pytest.raises(InvalidIdNumber) as error:
        parse_id_number(number, today=today)
    assert error.value.code == "id.future_birth_date"


def test_fullwidth_and_spaces_are_normalised() -> None:
    number = build("440301", date(1950, 1, 1), 123)
    spaced = " ".join([number[:6], number[6:14], number[14:]])
    assert parse_id_number(spaced).normalized == number


def test_mask_hides_the_middle() -> None:
    assert mask_id_number("11010519491231002X") == "1101**********002X"
