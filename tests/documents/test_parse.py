"""Parsing rules on hand-made OCR boxes (no model: fast)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from pensioncert.documents.engine import TextBox
from pensioncert.documents.parse import (
    clean_address,
    id_candidate,
    label_match,
    layout_lines,
    parse_birth,
    parse_name,
    parse_sex_ethnicity,
    parse_validity,
    snap_ethnicity,
    strip_label,
    text_angle,
)


def box(x: float, y: float, w: float, text: str, h: float = 30.0, angle_deg: float = 0.0) -> TextBox:
    """An axis-aligned box at (x, y) rotated by ``angle_deg`` about the origin."""
    pts = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return TextBox((pts @ rot.T).astype(np.float32), text, 0.99)


FRONT = [
    (60, 60, "姓名", 80), (170, 60, "张三丰", 120), (60, 130, "性别男民族汉", 300), (60, 200, "出生1950年3月8日", 330),
    (60, 270, "住址广东省深圳市福田区", 400), (170, 320, "莲花路1号", 200), (60, 440, "公民身份号码", 200),
    (290, 440, "440304195003081234", 500),
]  # fmt: skip


def front_boxes(angle: float = 0.0) -> list[TextBox]:
    return [box(x, y, w, t, angle_deg=angle) for x, y, t, w in FRONT]


@pytest.mark.parametrize("angle", [0.0, -11.0, 9.0, 180.0, 172.0, 90.0, -88.0])
def test_front_lines_are_found_at_any_tilt_and_upside_down(angle: float) -> None:
    layout = layout_lines(front_boxes(angle))
    assert layout.side == "front"
    texts = [line.text for line in layout.lines]
    assert texts[0] == "姓名张三丰"  # label and value boxes joined left to right
    assert texts[-1] == "公民身份号码440304195003081234"
    assert set(layout.labelled) == {"name", "sex", "birth", "address", "id_number"}


def test_text_angle_is_measured_from_wide_boxes() -> None:
    assert text_angle(front_boxes(10.0)) == pytest.approx(np.deg2rad(10.0), abs=1e-3)


def test_back_side_and_unknown_text() -> None:
    back = [box(300, 60, 400, "中华人民共和国"), box(280, 160, 450, "居民身份证", h=60),
            box(170, 380, 500, "签发机关深圳市公安局福田分局"),
            box(170, 450, 400, "有效期限2010.01.02-2030.01.02")]  # fmt: skip
    assert layout_lines(back).side == "back"
    notice = [box(60, 60, 500, "深圳市社会保险基金管理局"), box(60, 150, 500, "养老金领取资格认证通知")]
    assert layout_lines(notice).side is None
    assert layout_lines([]).side is None


def test_side_from_content_when_labels_are_off_the_photo() -> None:
    cut = [box(10, 60, 120, "张三丰"), box(10, 200, 330, "1950年3月8日"), box(5, 440, 500, "40304195003081234X")]
    assert layout_lines(cut).side == "front"


def test_labels_tolerate_one_misread_character() -> None:
    assert label_match("娃名张三", "姓名")
    assert not label_match("刘超芬", "姓名")
    assert label_match("公民身分号码4403", "公民身份号码")
    assert strip_label("姓名张三", "姓名") == "张三"
    assert strip_label("姓张三", "姓名") == "张三"  # a dropped label character


def test_id_candidate_maps_latin_look_alikes() -> None:
    assert id_candidate("公民身份号码44O3O4I95OO3O8I23x") == "44030419500308123X"
    assert id_candidate("公民身份号码 4403041950 03081234") == "440304195003081234"


def test_birth_sex_ethnicity_name() -> None:
    assert parse_birth("出生1950年3月8日") == date(1950, 3, 8)
    assert parse_birth("出生 1950 年 12 月 31 日") == date(1950, 12, 31)
    assert parse_birth("出生1950年2月30日") is None  # not a real date
    assert parse_sex_ethnicity("性别女民族汉") == ("female", "汉")
    assert parse_sex_ethnicity("性别男民族维吾尔") == ("male", "维吾尔")
    assert parse_sex_ethnicity("性别男民族") == ("male", None)
    assert parse_name("姓名欧阳建国") == "欧阳建国"
    assert parse_name("姓名张") is None  # one character is not a name


def test_ethnicity_snaps_only_inside_the_closed_set() -> None:
    assert snap_ethnicity("维吾儿") == "维吾尔"  # one edit from exactly one member
    assert snap_ethnicity("汉族") == "汉"
    assert snap_ethnicity("汊") is None  # single characters are never guessed
    assert snap_ethnicity("火星") is None


def test_validity_periods() -> None:
    assert parse_validity("有效期限2010.01.02-2030.01.02") == (date(2010, 1, 2), date(2030, 1, 2), False)
    assert parse_validity("有效期限2008.05.06-长期") == (date(2008, 5, 6), None, True)
    assert parse_validity("2008.05.06-长期") == (date(2008, 5, 6), None, True)
    assert parse_validity("有效期限20100102-20300102") == (date(2010, 1, 2), date(2030, 1, 2), False)
    assert parse_validity("有效期限2010.01.02-2030.01") == (None, None, False)  # a digit group lost
    assert parse_validity("有效期限2010.13.02-2030.13.02")[0] is None


def test_address_cleaning() -> None:
    assert clean_address("广东省深圳市梅林-村 3栋") == "广东省深圳市梅林一村3栋"
    assert clean_address("莲花路３-2号") == "莲花路3-2号"
