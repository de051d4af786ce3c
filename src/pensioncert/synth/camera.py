"""A plausible room behind the subject and a phone camera's imperfections in front of it."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]


def background(rng: np.random.Generator, height: int = 480, width: int = 640) -> F32:
    """An out-of-focus indoor wall with a door or window, a picture and a shelf, seeded."""
    wall = rng.uniform([150, 140, 120], [225, 215, 200]).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    lx, ly = rng.uniform(0, width), rng.uniform(-height, 0)
    fall = 1.0 - 0.35 * np.hypot(xx - lx, yy - ly) / np.hypot(width, height)
    img = fall[:, :, None] * wall[None, None, :]
    for _ in range(int(rng.integers(2, 5))):  # door, window, picture, shelf
        w, h = int(rng.uniform(60, 220)), int(rng.uniform(40, 300))
        x, y = int(rng.uniform(-40, width - 20)), int(rng.uniform(-40, height - 60))
        colour = rng.uniform(40, 240, 3)
        cv2.rectangle(img, (x, y), (x + w, y + h), colour.tolist(), -1)
        cv2.rectangle(img, (x, y), (x + w, y + h), (colour * 0.6).tolist(), int(rng.integers(2, 8)))
    if rng.random() < 0.7:  # floor or sofa edge
        y = int(rng.uniform(0.7, 0.9) * height)
        img[y:] = img[y:] * 0.55 + rng.uniform(30, 120, 3).astype(np.float32) * 0.45
    return cv2.GaussianBlur(img, (0, 0), 4.0).astype(np.float32)


@dataclass
class PhoneCamera:
    """Exposure drift, white balance, hand shake, sensor noise and soft optics, all seeded per clip."""

    rng: np.random.Generator
    n_frames: int
    height: int = 480
    width: int = 640
    noise: float = 3.0
    shake_px: float = 2.5
    hand_held: bool = True

    def __post_init__(self) -> None:
        n = self.n_frames
        walk = np.cumsum(self.rng.normal(0, 1, (n, 4)), axis=0)
        k = np.hanning(9) / np.hanning(9).sum()
        smooth = np.stack([np.convolve(walk[:, i], k, mode="same") for i in range(4)], axis=1)
        smooth -= smooth.mean(axis=0)
        scale = np.maximum(np.abs(smooth).max(axis=0), 1e-9)
        self.shake = smooth[:, :3] / scale[:3] * ([self.shake_px, self.shake_px, 0.6] if self.hand_held else 0.0)
        self.exposure = 1.0 + 0.05 * smooth[:, 3] / scale[3]
        self.balance = self.rng.uniform(0.94, 1.06, 3).astype(np.float32)
        yy, xx = np.mgrid[0 : self.height, 0 : self.width].astype(np.float32)
        r = np.hypot((xx - self.width / 2) / self.width, (yy - self.height / 2) / self.height)
        self.gain = ((1.0 - 0.35 * r**2)[:, :, None] * self.balance[None, None, :]).astype(np.float32)

    def affine(self, k: int) -> NDArray[np.float64]:
        """The 2×3 shake transform of frame ``k`` (also applied to the truth boxes)."""
        dx, dy, rot = self.shake[k]
        m = np.asarray(cv2.getRotationMatrix2D((self.width / 2, self.height / 2), float(rot), 1.0), np.float64)
        m[:, 2] += (dx, dy)
        return m

    def capture(self, scene: F32, k: int) -> NDArray[np.uint8]:
        """What the phone records of ``scene`` (float RGB 0..255) as frame ``k``."""
        moved = cv2.warpAffine(scene, self.affine(k), (self.width, self.height), borderMode=cv2.BORDER_REFLECT)
        img = np.asarray(cv2.GaussianBlur(moved, (3, 3), 0.7), np.float32)
        img *= self.gain
        # Sensor noise after the phone's denoiser is grainy rather than per-pixel white: draw it at
        # half resolution (also 4x cheaper), mostly in luma, stronger in the shadows.
        h, w = img.shape[:2]
        small = self.rng.standard_normal((h // 2, w // 2, 4), dtype=np.float32)
        small[:, :, :3] = small[:, :, 3:4] + 0.4 * small[:, :, :3]
        noise = cv2.resize(small[:, :, :3], (w, h), interpolation=cv2.INTER_LINEAR)
        img += noise * (1.6 * self.noise) * (1.3 - img * (0.6 / 255.0))
        return np.asarray(cv2.convertScaleAbs(np.maximum(img, 0.0), alpha=float(self.exposure[k])), np.uint8)
