"""cross_check on constructed readings (no model: fast)."""

from __future__ import annotations

from datetime import date

from pensioncert.documents import IdCardReading, cross_check
from pensioncert.domain.idnumber import check_character

FIRST17 = "44030419500308123"
NUMBER = FIRST17 + check_character(FIRST17)  # born 1950-03-08, sequence 123 (odd): male
TODAY = date(2025, 6, 1)


def front(**fields: str) -> IdCardReading:
    base = {"name": "张三丰", "sex": "male", "ethnicity": "汉", "birth_date": "1950-03-08",
            "address": "广东省深圳市福田区莲花路1号", "id_number": NUMBER}  # fmt: skip
    return IdCardReading("front", base | fields)


def back(**fields: str) -> IdCardReading:
    base = {"authority": "深圳市公安局福田分局", "valid_from": "2010-01-02", "valid_until": "long_term"}
    return IdCardReading("back", base | fields)


def test_consistent_card_passes() -> None:
    assert cross_check(front(), back(), typed_name="张三丰", typed_id=NUMBER.lower(), today=TODAY) == []
    assert cross_check(front(), back(), typed_name=" 张三丰 ", today=TODAY) == []


def test_typed_name_and_number_must_match() -> None:
    assert cross_check(front(), back(), typed_name="张三", today=TODAY) == ["ocr.name_mismatch"]
    other17 = "44030419500308125"
    assert cross_check(front(), back(), typed_id=other17 + check_character(other17), today=TODAY) == [
        "ocr.id_mismatch"]  # fmt: skip
    assert cross_check(front(), back(), typed_id="123", today=TODAY) == ["ocr.id_mismatch"]


def test_sides_swapped_or_missing() -> None:
    problems = cross_check(back(), front(), today=TODAY)
    assert "ocr.wrong_side" in problems
    assert "ocr.not_id_card" in cross_check(IdCardReading(None, problems=["ocr.not_id_card"]), back(), today=TODAY)


def test_number_agreement_with_printed_fields() -> None:
    assert cross_check(front(birth_date="1950-03-09"), back(), today=TODAY) == ["ocr.birth_date_mismatch"]
    assert cross_check(front(sex="female"), back(), today=TODAY) == ["ocr.sex_mismatch"]
    no_number = IdCardReading("front", {"name": "张三丰"}, ["ocr.id_unreadable"])
    assert cross_check(no_number, back(), today=TODAY) == ["ocr.id_unreadable"]


def test_expiry_is_judged_on_the_given_day() -> None:
    dated = back(valid_from="2005-07-01", valid_until="2025-07-01")
    assert cross_check(front(), dated, today=date(2025, 7, 1)) == []
    assert cross_check(front(), dated, today=date(2025, 7, 2)) == ["ocr.expired"]
    assert cross_check(front(), back(valid_from="2026-01-01"), today=TODAY) == ["ocr.not_yet_valid"]
    assert cross_check(front(), back(valid_from="1949-01-01"), today=TODAY) == ["ocr.validity_inconsistent"]


def test_side_problems_are_carried_over_once() -> None:
    blurred = IdCardReading("front", front().fields, ["ocr.blurred"])
    assert cross_check(blurred, IdCardReading("back", back().fields, ["ocr.blurred"]), today=TODAY) == [
        "ocr.blurred"]  # fmt: skip
