"""Cross-checks between the two sides, what the user typed, and the calendar.

Each side's own rules (checksum, date/sex agreement) are checked by the reader;
these are the checks that need more than one source.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from pensioncert.documents.reader import IdCardReading
from pensioncert.domain.idnumber import InvalidIdNumber, parse_id_number


def _normalise_name(name: str) -> str:
    """Names compare without spaces and with full-width/half-width forms folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def cross_check(front: IdCardReading, back: IdCardReading, typed_name: str | None = None,
                typed_id: str | None = None, today: date | None = None) -> list[str]:
    """Problem codes for a front/back pair; an empty list means the card is acceptable.

    ``typed_name`` / ``typed_id`` are what the user entered (or the registry holds);
    ``today`` defaults to the system date.
    """
    today = today or date.today()
    problems: list[str] = []

    def add(code: str) -> None:
        if code not in problems:
            problems.append(code)

    for reading, expected in ((front, "front"), (back, "back")):
        if reading.side is None:
            add("ocr.not_id_card")
        elif reading.side != expected:
            add("ocr.wrong_side")
        for code in reading.problems:
            if code != "ocr.expired":  # recomputed below against ``today``
                add(code)

    number = front.fields.get("id_number") if front.side == "front" else None
    info = None
    if number:
        try:
            info = parse_id_number(number, today)
        except InvalidIdNumber:
            add("ocr.id_unreadable")
    elif front.side == "front":
        add("ocr.id_unreadable")

    if info is not None:
        birth = front.fields.get("birth_date")
        if birth and birth != info.birth_date.isoformat():
            add("ocr.birth_date_mismatch")
        sex = front.fields.get("sex")
        if sex and sex != info.sex:
            add("ocr.sex_mismatch")

    if back.side == "back":
        start, until = back.fields.get("valid_from"), back.fields.get("valid_until")
        if until and until != "long_term" and date.fromisoformat(until) < today:
            add("ocr.expired")
        if start and date.fromisoformat(start) > today:
            add("ocr.not_yet_valid")
        if start and info is not None and date.fromisoformat(start) <= info.birth_date:
            add("ocr.validity_inconsistent")

    if typed_name is not None:
        name = front.fields.get("name")
        if name is not None and _normalise_name(name) != _normalise_name(typed_name):
            add("ocr.name_mismatch")
    if typed_id is not None:
        try:
            typed = parse_id_number(typed_id).normalized
        except InvalidIdNumber:
            typed = None
        if info is not None and typed != info.normalized:  # unreadable is already reported
            add("ocr.id_mismatch")
    return problems
