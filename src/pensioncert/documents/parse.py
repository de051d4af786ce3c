"""From OCR text boxes to ID-card fields: line grouping, side detection, field parsing.

Pure functions (no model), so each rule is unit-tested on hand-made boxes. The
parser relies on the card's fixed line order and printed labels, and tolerates
what PP-OCR does to them: labels merged with values or split from them, a
misread label character, Latin look-alikes in digit runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from pensioncert.documents.engine import TextBox
from pensioncert.documents.vocab import DIGIT_CONFUSIONS, ETHNICITIES

FRONT_LABELS = {"name": "姓名", "sex": "性别", "birth": "出生", "address": "住址", "id_number": "公民身份号码"}
BACK_LABELS = {"title": "中华人民共和国", "subtitle": "居民身份证", "authority": "签发机关", "validity": "有效期限"}
_SPACE = re.compile(r"\s+")
_DIGITS_TABLE = str.maketrans(DIGIT_CONFUSIONS | {c: str(i) for i, c in enumerate("０１２３４５６７８９")})


@dataclass(eq=False)
class Line:
    """Boxes sharing one printed line, left to right (in the deskewed frame)."""

    boxes: list[TextBox]
    y: float
    label: str | None = None  # key of FRONT_LABELS / BACK_LABELS once identified

    @property
    def text(self) -> str:
        return _SPACE.sub("", "".join(b.text for b in self.boxes))


@dataclass
class Layout:
    """Lines of one side, in reading order, with the angle used to deskew them."""

    lines: list[Line]
    angle: float  # radians; text direction in the image
    side: str | None = None
    labelled: dict[str, Line] = field(default_factory=dict)


def text_angle(boxes: list[TextBox]) -> float:
    """Dominant text direction (radians, in (-pi/2, pi/2]) from the long edges of wide boxes."""
    angles, weights = [], []
    for b in boxes:
        p = b.points
        top, left = p[1] - p[0], p[3] - p[0]
        edge = top if np.linalg.norm(top) >= np.linalg.norm(left) else left
        if np.linalg.norm(edge) < 1.5 * min(np.linalg.norm(top), np.linalg.norm(left)):
            continue  # squarish boxes say little about direction
        a = float(np.arctan2(edge[1], edge[0]))
        a = (a + np.pi / 2) % np.pi - np.pi / 2
        angles.append(a)
        weights.append(float(np.linalg.norm(edge)))
    if not angles:
        return 0.0
    # weighted circular mean on doubled angles (direction is defined modulo pi)
    c = float(np.average(np.cos(2 * np.array(angles)), weights=weights))
    s = float(np.average(np.sin(2 * np.array(angles)), weights=weights))
    return float(np.arctan2(s, c) / 2)


def rotate_points(points: np.ndarray, angle: float) -> np.ndarray:
    """Rotate (N, 2) points by ``-angle`` about the origin: text at ``angle`` becomes horizontal."""
    c, s = np.cos(-angle), np.sin(-angle)
    return np.asarray(points) @ np.array([[c, s], [-s, c]])


def group_lines(boxes: list[TextBox], angle: float) -> list[Line]:
    """Group boxes into printed lines after undoing ``angle``; lines top to bottom."""
    if not boxes:
        return []
    centres = rotate_points(np.array([b.centre for b in boxes]), angle)
    height = float(np.median([b.height for b in boxes]))
    order = np.argsort(centres[:, 1])
    lines: list[tuple[list[int], list[float]]] = []
    for i in order:
        y = float(centres[i, 1])
        if lines and abs(y - float(np.mean(lines[-1][1]))) < 0.5 * height:
            lines[-1][0].append(int(i))
            lines[-1][1].append(y)
        else:
            lines.append(([int(i)], [y]))
    out = []
    for idx, ys in lines:
        idx.sort(key=lambda k: centres[k, 0])
        out.append(Line([boxes[k] for k in idx], float(np.mean(ys))))
    return out


def label_match(text: str, label: str) -> bool:
    """Does ``text`` start with ``label``, allowing one misread character (two for long labels)?"""
    if text.startswith(label):
        return True
    head = text[: len(label)]
    if len(head) < len(label):
        return False
    wrong = sum(a != b for a, b in zip(head, label, strict=True))
    return wrong <= (1 if len(label) <= 4 else 2)


def strip_label(text: str, label: str) -> str:
    """``text`` without its leading ``label``, also when a label character was dropped or misread.

    For two-character labels a matching first (or second) character alone means
    the other one was dropped: a name is more precious than a label character.
    """
    if text.startswith(label):
        return text[len(label) :]
    if len(label) == 2 and text[:1] in (label[0], label[1]):
        return text[1:]
    if label_match(text, label):
        return text[len(label) :]
    return text


def _label_of(text: str, labels: dict[str, str]) -> str | None:
    for key, label in labels.items():
        if label_match(text, label) or (len(label) >= 5 and label[1:5] in text[:7]):
            return key
    return None


_FRONT_CUES = (re.compile(r"[0-9X]{15,}"), re.compile(r"\d{4}年\d{1,2}月"), re.compile(r"[省市区县].*[路街道号村]"))
_BACK_CUES = (re.compile(r"公安局|分局"), re.compile(r"\d{4}\.\d{2}\.\d{2}"), re.compile(r"长期"),
              re.compile(r"人民共和|居民身份"))  # fmt: skip


def _cues(lines: list[Line], cues: tuple[re.Pattern[str], ...]) -> int:
    """How many of ``cues`` the side's text shows (look-alike letters read as digits)."""
    text = "\n".join(ln.text for ln in lines).translate(_DIGITS_TABLE)
    return sum(bool(c.search(text)) for c in cues)


def layout_lines(boxes: list[TextBox]) -> Layout:
    """Deskew, group into lines, identify the side and its labelled lines.

    The side comes from the printed labels (two are enough), or, when the
    labels are off the photo, from content only an ID card side carries
    together (an 18-character number, a "公安局" authority, a validity date).
    A card photographed upside down reads correctly box by box (the direction
    classifier turns each crop) but its lines come out bottom-up; the known
    label order reveals that, and the lines are regrouped after a half turn.
    """
    angle = text_angle(boxes)
    for turn in (0.0, np.pi):
        lines = group_lines(boxes, angle + turn)
        front = {k: ln for ln in lines if (k := _label_of(ln.text, FRONT_LABELS))}
        back = {k: ln for ln in lines if (k := _label_of(ln.text, BACK_LABELS))}
        front_score, back_score = len(front) + _cues(lines, _FRONT_CUES), len(back) + _cues(lines, _BACK_CUES)
        side: str | None = "front" if front_score > back_score else "back"
        found, order = (front, list(FRONT_LABELS)) if side == "front" else (back, list(BACK_LABELS))
        if max(front_score, back_score) < 2 or front_score == back_score:
            side = None
        # lines keep reading order: labels must appear in template order
        ys = [found[k].y for k in order if k in found]
        if side and ys != sorted(ys) and turn == 0.0:
            continue
        layout = Layout(lines, angle + turn, side, found if side else {})
        for key, line in layout.labelled.items():
            line.label = key
        return layout
    return Layout(group_lines(boxes, angle), angle, None, {})  # pragma: no cover - loop always returns


# --------------------------------------------------------------------------- fields


def to_digits(text: str) -> str:
    """Map Latin look-alikes to digits and keep only [0-9X]."""
    return re.sub(r"[^0-9X]", "", text.translate(_DIGITS_TABLE))


def id_candidate(line_text: str) -> str:
    """The longest run of ID characters on the ID-number line (label removed)."""
    rest = strip_label(line_text, FRONT_LABELS["id_number"])
    runs = re.findall(r"[0-9X]+", _SPACE.sub("", rest).translate(_DIGITS_TABLE))
    return max(runs, key=len) if runs else ""


def parse_birth(line_text: str) -> date | None:
    """ISO date from "出生1942年10月14日" (label optional, look-alikes mapped)."""
    rest = strip_label(line_text, FRONT_LABELS["birth"]).translate(_DIGITS_TABLE)
    m = re.search(r"(\d{4})\D{0,3}?(\d{1,2})\D{1,3}?(\d{1,2})", rest)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_sex_ethnicity(line_text: str) -> tuple[str | None, str | None]:
    """("male"|"female"|None, ethnicity|None) from "性别女民族汉"."""
    rest = strip_label(line_text, FRONT_LABELS["sex"])
    sex = None
    m = re.search("[男女]", rest[:3])
    if m:
        sex = "male" if m[0] == "男" else "female"
        rest = rest[m.end() :]
    eth_text = rest.split("族", 1)[1] if "族" in rest[:3] else strip_label(rest, "民族")
    return sex, snap_ethnicity(eth_text)


def snap_ethnicity(text: str) -> str | None:
    """Exact member of the closed set of 56, or the unique member one edit away (multi-character only)."""
    text = text.removesuffix("族")
    if text in ETHNICITIES:
        return text
    if len(text) >= 2:
        near = [e for e in ETHNICITIES if len(e) >= 2 and _edit_distance(text, e) <= 1]
        if len(near) == 1:
            return near[0]
    return None


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


_NAME_CHARS = re.compile(r"[\u4e00-\u9fff·]+")


def parse_name(line_text: str) -> str | None:
    """The holder's name: CJK characters after the label (2-15 of them; minority names use "·")."""
    rest = strip_label(line_text, FRONT_LABELS["name"])
    runs = _NAME_CHARS.findall(rest)
    name = runs[0] if runs else ""
    return name if 2 <= len(name) <= 15 else None


_DASH_BETWEEN_CJK = re.compile(r"(?<=[\u4e00-\u9fff])[-—－―_](?=[\u4e00-\u9fff])")


def clean_address(text: str) -> str:
    """Join address lines: drop spaces, full-width digits to ASCII, a dash between Chinese characters is 一."""
    text = _SPACE.sub("", text).translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return _DASH_BETWEEN_CJK.sub("一", text)


def parse_validity(line_text: str) -> tuple[date | None, date | None, bool]:
    """(valid_from, valid_until, long_term) from "有效期限2019.06.28-长期"."""
    rest = strip_label(line_text, BACK_LABELS["validity"])
    long_term = "长期" in rest or bool(re.search(r"\d[^\d]*[长期]\s*$", rest))
    digits = re.sub(r"\D", "", re.sub(r"[长期]", "", rest).translate(_DIGITS_TABLE))
    dates: list[date] = []
    for k in range(0, len(digits) - 7, 8):
        try:
            dates.append(date(int(digits[k : k + 4]), int(digits[k + 4 : k + 6]), int(digits[k + 6 : k + 8])))
        except ValueError:
            return None, None, long_term
    expected = 1 if long_term else 2
    if len(digits) != 8 * expected or len(dates) != expected:
        return None, None, long_term
    return dates[0], (None if long_term else dates[1]), long_term


def parse_authority(line_text: str) -> str | None:
    """Issuing authority: the CJK text after 签发机关 (a public-security bureau)."""
    rest = strip_label(line_text, BACK_LABELS["authority"])
    runs = _NAME_CHARS.findall(rest)
    value = "".join(runs)
    return value if len(value) >= 3 else None
