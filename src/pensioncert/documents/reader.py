"""Read one photographed side of a resident ID card: fields, portrait, problems.

Principle: a field is returned only when the card's own rules vouch for it.
The ID number must pass the GB 11643 checksum (``pensioncert.domain.idnumber``,
the one place for that rule), the validity period must be one the law allows;
a reading that fails is re-read from the same pixels under small changes, and
if it still fails the field is left out and a problem code says why.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import cv2
import numpy as np

from pensioncert.documents import engine as ocr
from pensioncert.documents import layout as L
from pensioncert.documents import parse
from pensioncert.documents import quality as q
from pensioncert.documents.engine import TextBox
from pensioncert.documents.frame import CardFrame, crop_card_region, edge_mid, fit_frame, landmarks
from pensioncert.domain.idnumber import InvalidIdNumber, parse_id_number
from pensioncert.settings import get_settings

Side = Literal["front", "back"]
PORTRAIT_PX_PER_MM = 10.0  # 280 x 350 px portrait: enough for a face engine's 112-160 px input


@dataclass
class IdCardReading:
    """What was read from one side. ``fields`` holds only values the reader vouches for.

    Front fields: name, sex ("male"/"female"), ethnicity, birth_date (ISO), address,
    id_number (18 characters, checksum verified). Back fields: authority,
    valid_from (ISO), valid_until (ISO or "long_term"). ``problems`` are message
    codes of ``messages/catalogue/ocr.toml``; ``portrait`` is a BGR crop of the
    photo on the front. ``uncertain`` names the fields read but not vouched for
    strongly (today only ``name``: no checksum protects it, so its recognition score
    decides, ``ocr.name_certain_score``); the card flow lets the user correct only those.
    """

    side: Side | None
    fields: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    portrait: np.ndarray | None = None
    card_corners: list[list[float]] | None = None  # TL, TR, BR, BL in photo pixels
    seconds: float = 0.0
    uncertain: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the portrait as its shape only)."""
        return {"side": self.side, "fields": dict(self.fields), "problems": list(self.problems),
                "portrait": None if self.portrait is None else list(self.portrait.shape),
                "card_corners": self.card_corners, "seconds": round(self.seconds, 3),
                "uncertain": list(self.uncertain)}  # fmt: skip


def decode_image(image: np.ndarray | bytes) -> np.ndarray | None:
    """BGR uint8 from encoded bytes or an array (gray, BGR or BGRA); None if undecodable."""
    if isinstance(image, bytes | bytearray | memoryview):
        arr = np.frombuffer(image, np.uint8)
        return cv2.imdecode(arr, cv2.IMREAD_COLOR) if arr.size else None
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or min(img.shape[:2]) < 16:
        return None
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(img) if img.shape[2] == 3 else None


def _add(problems: list[str], code: str) -> None:
    if code not in problems:
        problems.append(code)


def read_id_card(image: np.ndarray | bytes, expected_side: Side | None = None, *,
                 today: date | None = None) -> IdCardReading:
    """Read one side of an ID card photo (``bytes`` as uploaded, or a BGR array).

    ``expected_side`` adds ``ocr.wrong_side`` when the other side was uploaded;
    ``today`` (default: the system date) is for the expiry check.
    """
    started = time.perf_counter()
    reading = _read(image, expected_side, today or date.today())
    reading.seconds = time.perf_counter() - started
    return reading


def _read(image: np.ndarray | bytes, expected_side: Side | None, today: date) -> IdCardReading:
    settings = get_settings().ocr
    img = decode_image(image)
    if img is None:
        return IdCardReading(None, problems=["ocr.image_unreadable"])
    longest = max(img.shape[:2])
    if longest > settings.max_image_side:
        s = settings.max_image_side / longest
        img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)

    boxes = ocr.read_text(img)
    layout = parse.layout_lines(boxes)
    if layout.side is None and img.shape[0] > img.shape[1]:
        # a card photographed with the phone upright: a quarter turn each way, the one
        # that finds more labels wins (the half-turned one reads worse)
        best = 0
        for turn in (cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_90_CLOCKWISE):
            turned = cv2.rotate(img, turn)
            turned_boxes = ocr.read_text(turned)
            turned_layout = parse.layout_lines(turned_boxes)
            if turned_layout.side is not None and len(turned_layout.labelled) > best:
                img, boxes, layout = turned, turned_boxes, turned_layout
                best = len(layout.labelled)
            if best == len(parse.FRONT_LABELS if layout.side == "front" else parse.BACK_LABELS):
                break

    if layout.side is None:
        # text too soft to read is a blurred card; no text, or sharp text of another kind, is not a card
        blurred = bool(boxes) and q.text_sharpness(img, boxes) < settings.blur_threshold
        return IdCardReading(None, problems=["ocr.blurred" if blurred else "ocr.not_id_card"])

    side: Side = "front" if layout.side == "front" else "back"
    frame = fit_frame(landmarks(layout), layout.angle)
    if frame is not None:
        kept = _on_card(boxes, frame, side)
        if len(kept) < len(boxes):
            layout = parse.layout_lines(kept)
            boxes = kept
            frame = fit_frame(landmarks(layout), layout.angle) or frame

    reading = IdCardReading(side)
    if frame is not None:
        reading.card_corners = frame.corners().round(1).tolist()
    if side == "front":
        _read_front(img, layout, reading, frame)
        if frame is not None:
            reading.portrait = crop_card_region(img, frame, L.PORTRAIT_BOX, PORTRAIT_PX_PER_MM, margin_mm=1.0)
    else:
        _read_back(img, layout, reading, today)

    problems = reading.problems
    if expected_side is not None and side != expected_side:
        problems.insert(0, "ocr.wrong_side")
    if frame is not None and q.cut_off(frame, img.shape, settings.cut_off_margin_mm):
        _add(problems, "ocr.card_cut_off")
    elif frame is None and q.text_at_edge(boxes, img.shape):
        _add(problems, "ocr.card_cut_off")  # labels missing and text running off the photo
    portrait_box = L.PORTRAIT_BOX if side == "front" else None
    if q.glare_fraction(img, frame, portrait_box) > settings.glare_fraction:
        _add(problems, "ocr.glare")
    if q.text_sharpness(img, boxes) < settings.blur_threshold:
        _add(problems, "ocr.blurred")
    return reading


def _on_card(boxes: list[TextBox], frame: CardFrame, side: Side) -> list[TextBox]:
    """Boxes whose centre lies on the card and, on the front, outside the portrait."""
    centres = frame.to_card(np.array([b.centre for b in boxes]))
    p = L.PORTRAIT_BOX
    kept = []
    for box, (x, y) in zip(boxes, centres, strict=True):
        on_card = -1.0 <= x <= L.CARD_W_MM + 1.0 and -1.0 <= y <= L.CARD_H_MM + 1.0
        in_portrait = side == "front" and p.x + 1.0 <= x <= p.x + p.w and p.y <= y <= p.y + p.h
        if on_card and not in_portrait:
            kept.append(box)
    return kept


def _candidates(img: np.ndarray, line: parse.Line | None) -> list[str]:
    """The line's text as first read, then re-read variants of its last box (the value)."""
    if line is None:
        return []
    texts = [line.text]
    head = "".join(b.text for b in line.boxes[:-1])
    texts += [head + t for t, _ in ocr.reread(img, line.boxes[-1].points)]
    return texts


def _first(img: np.ndarray, line: parse.Line | None, accept: Any) -> Any:
    """The first candidate reading of ``line`` that ``accept`` maps to a value (re-reading lazily)."""
    if line is None:
        return None
    value = accept(line.text)
    if value is not None:
        return value
    for text in _candidates(img, line)[1:]:
        value = accept(text)
        if value is not None:
            return value
    return None


def _read_front(img: np.ndarray, layout: parse.Layout, reading: IdCardReading, frame: CardFrame | None) -> None:
    lines, fields, problems = layout.labelled, reading.fields, reading.problems
    name = _first(img, lines.get("name"), parse.parse_name)
    sex_eth = _first(img, lines.get("sex"), _both_sex_and_ethnicity)
    birth = _first(img, lines.get("birth"), parse.parse_birth)
    address = _address(img, layout, frame)

    def valid_id(text: str) -> Any:
        candidate = parse.id_candidate(text)
        if len(candidate) != 18:  # a 15-character run would be taken as a legacy number
            return None
        try:
            info = parse_id_number(candidate)
        except InvalidIdNumber:
            return None
        return info

    info = _first(img, lines.get("id_number"), valid_id)
    if info is not None and birth is not None and info.birth_date != birth:
        # a checksum-valid misreading is possible with two wrong digits: prefer a re-read that agrees
        for text in _candidates(img, lines["id_number"])[1:]:
            other = valid_id(text)
            if other is not None and other.birth_date == birth:
                info = other
                break

    if name:
        fields["name"] = name
        name_line = lines["name"]
        first_read = parse.parse_name(name_line.text) == name
        score = min(b.score for b in name_line.boxes) if first_read else 0.0
        if score < get_settings().ocr.name_certain_score:
            reading.uncertain.append("name")
    sex, ethnicity = sex_eth if sex_eth else (None, None)
    if sex is None and lines.get("sex") is not None:
        sex, ethnicity = parse.parse_sex_ethnicity(lines["sex"].text)
    if sex:
        fields["sex"] = sex
    if ethnicity:
        fields["ethnicity"] = ethnicity
    if birth:
        fields["birth_date"] = birth.isoformat()
    if address:
        fields["address"] = address
    if info is not None:
        fields["id_number"] = info.normalized
        if birth is not None and info.birth_date != birth:
            problems.append("ocr.birth_date_mismatch")
        if sex is not None and info.sex != sex:
            problems.append("ocr.sex_mismatch")
    else:
        problems.append("ocr.id_unreadable")
    if not all(k in fields for k in ("name", "sex", "ethnicity", "birth_date", "address")):
        problems.append("ocr.fields_unreadable")


def _both_sex_and_ethnicity(text: str) -> tuple[str, str] | None:
    sex, ethnicity = parse.parse_sex_ethnicity(text)
    return (sex, ethnicity) if sex and ethnicity else None


def _address(img: np.ndarray, layout: parse.Layout, frame: CardFrame | None) -> str | None:
    """Address lines: from the 住址 line down to the line before the ID number.

    A last line holding one narrow character ("7") can escape the detector; when
    the last line found is full and the card is located, the place of the next
    line is recognised directly and kept only if read with high confidence.
    """
    start = layout.labelled.get("address")
    if start is None:
        return None
    stop = layout.labelled.get("id_number")
    i = layout.lines.index(start)
    found = [start]
    for line in layout.lines[i + 1 : i + L.ADDRESS_MAX_LINES]:
        if line is stop or line.label is not None:
            break
        found.append(line)
    parts = [parse.strip_label(start.text, parse.FRONT_LABELS["address"])] + [ln.text for ln in found[1:]]
    if frame is not None and len(found) < L.ADDRESS_MAX_LINES:
        end = frame.to_card(edge_mid(found[-1].boxes[-1].points, layout.angle, left=False))[0, 0]
        full = end > L.VALUE_X + L.ADDRESS_FULL_LINE_MM or len(found[-1].text) >= L.ADDRESS_LINE_CHARS
        if full:
            parts.append(_probe_address_line(img, frame, len(found)))
    address = parse.clean_address("".join(parts))
    return address if len(address) >= 4 else None


_ADDRESS_TEXT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff\-]{1,11}")


def _probe_address_line(img: np.ndarray, frame: CardFrame, index: int) -> str:
    """Recognise address line ``index`` (0-based) where it must be; "" unless confidently read.

    The crop is narrowed to its dark ink first: a lone character in a wide blank
    strip is read with little confidence, alone it is read like any other.
    """
    y = L.FRONT_LABELS["address"].y + index * L.ADDRESS_LINE_PITCH
    region = L.Box(L.VALUE_X - 0.8, y - 0.9, L.ADDRESS_FULL_LINE_MM + 4.0, L.TEXT_H + 1.8)
    crop = crop_card_region(img, frame, region, max(frame.px_per_mm, 8.0))
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    dark = gray < 0.6 * float(np.median(gray))
    # the band of ink rows nearest the expected line centre (the line above may peek in)
    rows = np.flatnonzero(dark.sum(axis=1) >= 2)
    if rows.size == 0:
        return ""
    bands = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    centre = gray.shape[0] / 2
    band = min(bands, key=lambda b: 0.0 if b[0] <= centre <= b[-1] else min(abs(b[0] - centre), abs(b[-1] - centre)))
    if band.size < gray.shape[0] // 4:
        return ""
    pad = max(2, band.size // 4)
    top, bottom = max(0, band[0] - pad), band[-1] + pad + 1
    ink = np.flatnonzero(dark[band[0] : band[-1] + 1].sum(axis=0) >= 2)
    if ink.size == 0:
        return ""
    pad = band.size // 2
    tight = np.ascontiguousarray(crop[top:bottom, max(0, ink[0] - pad) : ink[-1] + pad + 1])
    (text, score), *_ = ocr.recognise([tight], classify=False)
    text = parse.clean_address(text)
    return text if score >= 0.8 and _ADDRESS_TEXT.fullmatch(text) else ""


def _lawful_validity(valid_from: date, valid_until: date | None) -> bool:
    """Validity periods the ID card law allows: 5, 10 or 20 years to the day, or long term."""
    if valid_until is None:
        return True
    if (valid_until.month, valid_until.day) != (valid_from.month, valid_from.day):
        return (valid_from.month, valid_from.day) == (2, 29) and (valid_until.month, valid_until.day) in (
            (2, 28), (3, 1))  # fmt: skip
    return valid_until.year - valid_from.year in (5, 10, 20)


def _read_back(img: np.ndarray, layout: parse.Layout, reading: IdCardReading, today: date) -> None:
    lines, fields, problems = layout.labelled, reading.fields, reading.problems
    authority = _first(img, lines.get("authority"), parse.parse_authority)

    def lawful(text: str) -> Any:
        start, until, long_term = parse.parse_validity(text)
        if start is None or not _lawful_validity(start, until):
            return None
        return start, until, long_term

    validity = _first(img, lines.get("validity"), lawful)
    if authority:
        fields["authority"] = authority
    else:
        problems.append("ocr.fields_unreadable")
    if validity is None:
        problems.append("ocr.validity_unreadable")
        return
    start, until, _ = validity
    fields["valid_from"] = start.isoformat()
    fields["valid_until"] = until.isoformat() if until else "long_term"
    if until is not None and until < today:
        problems.append("ocr.expired")
    if start > today:
        problems.append("ocr.not_yet_valid")
