"""Geometry of the second-generation resident ID card (GB 19556), in millimetres.

One template serves both the generator (where to print) and the reader (where
the portrait and card corners are once OCR has located the printed labels), so
the two cannot drift apart. Positions approximate the public specimen card.
"""

from __future__ import annotations

from dataclasses import dataclass

CARD_W_MM = 85.6
CARD_H_MM = 54.0


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle on the card, in mm from the top-left corner."""

    x: float
    y: float
    w: float
    h: float

    @property
    def corners(self) -> list[tuple[float, float]]:
        return [(self.x, self.y), (self.x + self.w, self.y), (self.x + self.w, self.y + self.h),
                (self.x, self.y + self.h)]  # fmt: skip


# Front (portrait side). Label boxes: left edge and vertical extent of the printed label.
LABEL_X = 6.5
VALUE_X = 17.0
TEXT_H = 3.0  # cap height of labels and values
FRONT_LABELS: dict[str, Box] = {
    "name": Box(LABEL_X, 6.5, 8.0, TEXT_H),
    "sex": Box(LABEL_X, 13.0, 8.0, TEXT_H),
    "ethnicity": Box(26.5, 13.0, 8.0, TEXT_H),
    "birth": Box(LABEL_X, 19.5, 8.0, TEXT_H),
    "address": Box(LABEL_X, 26.0, 8.0, TEXT_H),
    "id_number": Box(LABEL_X, 44.5, 20.0, TEXT_H),
}
ETHNICITY_VALUE_X = 37.0
ADDRESS_LINE_PITCH = 4.6
ADDRESS_MAX_LINES = 3
ADDRESS_LINE_CHARS = 11
ADDRESS_FULL_LINE_MM = 30.0  # a line whose text reaches this far right of VALUE_X is full (wraps)
ID_NUMBER_BOX = Box(29.0, 44.0, 49.0, 3.8)
PORTRAIT_BOX = Box(53.5, 5.0, 26.0, 33.0)

# Back (national-emblem side).
EMBLEM_CENTRE = (14.5, 14.5)
EMBLEM_RADIUS = 9.5
BACK_TITLE_BOX = Box(29.0, 7.0, 48.0, 4.5)  # 中华人民共和国
BACK_SUBTITLE_BOX = Box(27.0, 17.0, 52.0, 7.0)  # 居民身份证
BACK_LABELS: dict[str, Box] = {
    "authority": Box(17.5, 38.5, 12.0, TEXT_H),
    "validity": Box(17.5, 45.0, 12.0, TEXT_H),
}
BACK_VALUE_X = 33.0

# Landmarks for locating the card: (side, labelled line, end) -> where, in mm, the
# recogniser's text box for that line ends. Box ends sit a little outside the ink
# (the detector pads boxes), so these were measured once, as medians over generated
# cards whose true position is known (script in docs/ocr.md), not taken from the ink.
# Only ends that do not move with the content: all left ends, and the right ends of
# fixed texts (the title lines, the 18-character ID number).
ANCHORS_MM: dict[tuple[str, str, str], tuple[float, float]] = {
    ("front", "name", "left"): (6.06, 7.91),
    ("front", "sex", "left"): (6.19, 14.31),
    ("front", "birth", "left"): (6.40, 20.86),
    ("front", "address", "left"): (6.56, 27.37),
    ("front", "id_number", "left"): (6.19, 45.82),
    ("front", "id_number", "right"): (79.70, 45.25),
    ("back", "title", "left"): (29.06, 9.11),
    ("back", "title", "right"): (74.39, 9.11),
    ("back", "subtitle", "left"): (27.21, 20.17),
    ("back", "subtitle", "right"): (73.85, 20.14),
    ("back", "authority", "left"): (17.31, 39.80),
    ("back", "validity", "left"): (17.30, 46.41),
}
