"""Photo quality measures that explain a failed reading: blur, glare, card cut off.

Measured where it matters (on the recognised text, inside the located card),
so a sharp background or a white table does not mask a blurred or glaring card.
"""

from __future__ import annotations

import cv2
import numpy as np

from pensioncert.documents import layout as L
from pensioncert.documents.engine import TextBox, _crop
from pensioncert.documents.frame import CardFrame

_TEXT_HEIGHT = 32  # px: text crops are compared at one scale


def _sharpness_of(gray: np.ndarray) -> float:
    """Edge energy relative to contrast: falls as blur spreads strokes, independent of exposure."""
    lap = cv2.Laplacian(gray.astype(np.float32), cv2.CV_32F)
    return float(lap.std() / (gray.std() + 8.0))


def text_sharpness(image: np.ndarray, boxes: list[TextBox]) -> float:
    """Median sharpness of the text lines, each rescaled to a 32 px line height."""
    scores = []
    for box in boxes:
        crop = _crop(image, box.points)
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            continue
        gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        scale = _TEXT_HEIGHT / gray.shape[0]
        gray = cv2.resize(gray, (max(1, round(gray.shape[1] * scale)), _TEXT_HEIGHT), interpolation=cv2.INTER_AREA)
        scores.append(_sharpness_of(gray))
    return float(np.median(scores)) if scores else 0.0


def text_at_edge(boxes: list[TextBox], shape: tuple[int, ...], margin: float = 0.01) -> bool:
    """Does any text box touch the photo's border (within ``margin`` of its size)?"""
    h, w = shape[:2]
    for box in boxes:
        p = box.points
        if (p[:, 0] < margin * w).any() or (p[:, 0] > (1 - margin) * w).any() or (p[:, 1] < margin * h).any() \
                or (p[:, 1] > (1 - margin) * h).any():
            return True
    return False


def glare_fraction(image: np.ndarray, frame: CardFrame | None, exclude: L.Box | None = None) -> float:
    """Largest blown-out highlight inside the card, as a fraction of the card's area.

    ``exclude`` leaves out a region that may be white by design: the portrait's
    background is white on real cards.
    """
    h, w = image.shape[:2]
    card = np.zeros((h, w), np.uint8)
    if frame is not None:
        cv2.fillConvexPoly(card, frame.corners().astype(np.int32), (255,))
        if exclude is not None:
            cv2.fillConvexPoly(card, frame.to_image(exclude.corners).astype(np.int32), (0,))
    else:
        card[:] = 255
    area = max(int(np.count_nonzero(card)), 1)
    saturated = ((image.min(axis=2) >= 245) & (card > 0)).astype(np.uint8)
    saturated = cv2.morphologyEx(saturated, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(saturated, connectivity=8)
    if count <= 1:
        return 0.0
    return float(stats[1:, cv2.CC_STAT_AREA].max() / area)


def cut_off(frame: CardFrame, shape: tuple[int, ...], margin_mm: float) -> bool:
    """Does a card corner lie more than ``margin_mm`` outside the photo?"""
    h, w = shape[:2]
    margin = margin_mm * frame.px_per_mm
    c = frame.corners()
    return bool((c[:, 0] < -margin).any() or (c[:, 0] > w - 1 + margin).any()
                or (c[:, 1] < -margin).any() or (c[:, 1] > h - 1 + margin).any())  # fmt: skip
