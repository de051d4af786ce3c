"""Identity documents: reading the resident ID card offline (issue 6).

``read_id_card`` reads one photographed side; ``cross_check`` compares both
sides with each other, with what the user typed, and with the calendar.
``cardgen`` makes realistic test cards. See docs/ocr.md.
"""

from __future__ import annotations

from pensioncert.documents.checks import cross_check
from pensioncert.documents.reader import IdCardReading, Side, read_id_card

__all__ = ["IdCardReading", "Side", "cross_check", "read_id_card"]
