"""Where the card is in the photo, from where its printed labels were found.

The label lines sit at fixed places on every card (``layout.ANCHORS_MM``), so
the ends of the recognised lines are landmarks: a least-squares affine map from
card millimetres to photo pixels follows. It places the portrait for the crop
and the card corners for the "cut off" check, with no edge detection that a
patterned table cloth could fool.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pensioncert.documents import layout as L
from pensioncert.documents.parse import Layout, rotate_points


@dataclass(frozen=True)
class CardFrame:
    """Affine map card-mm -> image-px (2x3) and its RMS landmark residual in mm."""

    matrix: np.ndarray
    residual_mm: float
    landmarks: int

    def to_image(self, points_mm: np.ndarray | list[tuple[float, float]]) -> np.ndarray:
        pts = np.asarray(points_mm, np.float64).reshape(-1, 2)
        return pts @ self.matrix[:, :2].T + self.matrix[:, 2]

    def to_card(self, points_px: np.ndarray) -> np.ndarray:
        inv = cv2.invertAffineTransform(self.matrix)
        pts = np.asarray(points_px, np.float64).reshape(-1, 2)
        return pts @ inv[:, :2].T + inv[:, 2]

    @property
    def px_per_mm(self) -> float:
        return float(np.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    def corners(self) -> np.ndarray:
        """Card corners TL, TR, BR, BL in image pixels."""
        return self.to_image(L.Box(0, 0, L.CARD_W_MM, L.CARD_H_MM).corners)


def landmarks(layout: Layout) -> list[tuple[np.ndarray, tuple[float, float]]]:
    """(image point, card point) pairs: the left and right ends of labelled lines.

    The end of a line is taken along the deskewed text direction, so a merged
    "label + value" box and a label box on its own give the same left end.
    """
    pairs = []
    side = layout.side or ""
    for key, line in layout.labelled.items():
        mid_left = edge_mid(line.boxes[0].points, layout.angle, left=True)
        mid_right = edge_mid(line.boxes[-1].points, layout.angle, left=False)
        for end, point in (("left", mid_left), ("right", mid_right)):
            card = L.ANCHORS_MM.get((side, key, end))
            if card is not None:
                pairs.append((point, card))
    return pairs


def edge_mid(points: np.ndarray, angle: float, left: bool) -> np.ndarray:
    """Midpoint of a box's left (or right) edge in the deskewed text direction."""
    flat = rotate_points(points, angle)
    order = np.argsort(flat[:, 0])
    pick = order[:2] if left else order[2:]
    return np.asarray(points[pick].mean(axis=0))


def fit_frame(pairs: list[tuple[np.ndarray, tuple[float, float]]], angle: float) -> CardFrame | None:
    """Least-squares affine from >= 3 landmarks, dropping any more than 2.5 mm off while >= 4 remain.

    With landmarks on one column only (an affine would be degenerate) the map is
    a similarity whose rotation is the measured text angle.
    """
    if len(pairs) < 2:
        return None
    img = np.array([p for p, _ in pairs], np.float64)
    card = np.array([c for _, c in pairs], np.float64)
    keep = np.ones(len(pairs), bool)
    while True:
        matrix = _fit(card[keep], img[keep], angle)
        frame = CardFrame(matrix, 0.0, int(keep.sum()))
        resid = np.linalg.norm(frame.to_image(card) - img, axis=1) / max(frame.px_per_mm, 1e-6)
        worst = int(np.argmax(np.where(keep, resid, -1)))
        if keep.sum() >= 4 and resid[worst] > 2.5:
            keep[worst] = False
            continue
        return CardFrame(matrix, float(np.sqrt(np.mean(resid[keep] ** 2))), int(keep.sum()))


def _fit(card: np.ndarray, img: np.ndarray, angle: float) -> np.ndarray:
    spread = np.linalg.svd(card - card.mean(axis=0), compute_uv=False)
    if len(card) >= 3 and spread[-1] > 3.0:  # landmarks span both directions (mm)
        a = np.hstack([card, np.ones((len(card), 1))])
        sol, *_ = np.linalg.lstsq(a, img, rcond=None)
        return np.asarray(sol.T)
    # similarity with known rotation: scale + translation by least squares
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    rc = card @ rot.T
    dc, di = rc - rc.mean(axis=0), img - img.mean(axis=0)
    scale = float((dc * di).sum() / max((dc * dc).sum(), 1e-9))
    t = img.mean(axis=0) - scale * rc.mean(axis=0)
    return np.hstack([scale * rot, t[:, None]])


def crop_card_region(image: np.ndarray, frame: CardFrame, box: L.Box, px_per_mm: float,
                     margin_mm: float = 0.0) -> np.ndarray:
    """Warp one card region (mm box, grown by ``margin_mm``) out of the photo."""
    grown = L.Box(box.x - margin_mm, box.y - margin_mm, box.w + 2 * margin_mm, box.h + 2 * margin_mm)
    src = frame.to_image(grown.corners).astype(np.float32)
    w, h = round(grown.w * px_per_mm), round(grown.h * px_per_mm)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
