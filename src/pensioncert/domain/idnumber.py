"""Resident identity card numbers (GB 11643-1999).

18 characters: 6-digit region code, 8-digit birth date, 3-digit sequence (odd =
male), check character. Legacy 15-digit numbers (YYMMDD, century 19, no check
character) are converted to 18 digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pensioncert.errors import CodedError

CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"

Sex = Literal["male", "female"]

_SEPARATORS = re.compile(r"[\s\-]")
_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＸ", "0123456789XXX")


class InvalidIdNumber(CodedError, ValueError):
    """An ID number that cannot be accepted; ``code`` is a message code (``id.*``)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail, code=code)


@dataclass(frozen=True)
class IdNumberInfo:
    """What an ID number tells about its holder."""

    normalized: str
    birth_date: date
    sex: Sex
    region_code: str

    def age_on(self, day: date) -> int:
        """Completed years of age on ``day``."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)


def check_character(first17: str) -> str:
    """The check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, CHECK_WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def convert_15_to_18(legacy: str) -> str:
    """Convert a legacy 15-digit number (century 19) to its 18-digit form."""
    if not re.fullmatch(r"\d{15}", legacy):
        raise InvalidIdNumber("id.bad_format")
    first17 = legacy[:6] + "19" + legacy[6:]
    return first17 + check_character(first17)


def _clean(text: str) -> str:
    return _SEPARATORS.sub("", text.translate(_FULLWIDTH)).upper()


def parse_id_number(text: str, today: date | None = None) -> IdNumberInfo:
    """Validate and normalise an ID number; raise ``InvalidIdNumber`` with the precise reason.

    ``today`` (default: no future-date check) rejects birth dates in the future.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise InvalidIdNumber("id.empty")
    if re.fullmatch(r"\d{15}", cleaned):
        cleaned = convert_15_to_18(cleaned)
    if len(cleaned) != 18:
        raise InvalidIdNumber("id.bad_length")
    if not re.fullmatch(r"\d{17}[\dX]", cleaned):
        raise InvalidIdNumber("id.bad_format")
    try:
        born = date(int(cleaned[6:10]), int(cleaned[10:12]), int(cleaned[12:14]))
    except ValueError as bad_date:
        raise InvalidIdNumber("id.bad_birth_date") from bad_date
    if today is not None and born > today:
        raise InvalidIdNumber("id.future_birth_date")
    if check_character(cleaned[:17]) != cleaned[17]:
        raise InvalidIdNumber("id.bad_checksum")
    sex: Sex = "male" if int(cleaned[16]) % 2 == 1 else "female"
    return IdNumberInfo(normalized=cleaned, birth_date=born, sex=sex, region_code=cleaned[:6])


def is_valid_id_number(text: str, today: date | None = None) -> bool:
    """True when ``parse_id_number`` accepts ``text``."""
    try:
        parse_id_number(text, today)
    except InvalidIdNumber:
        return False
    return True


def mask_id_number(normalized: str) -> str:
    """Show only region prefix and last four characters, as receipts and staff lists do."""
    if len(normalized) < 10:
        return "*" * len(normalized)
    return normalized[:4] + "*" * (len(normalized) - 8) + normalized[-4:]
