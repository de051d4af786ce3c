"""Real face photos to build subjects from, all shipped inside installed packages (offline)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

PhotoLike = str | Path | NDArray[np.uint8]
DEFAULT_PHOTOS = ("grace_hopper", "astronaut")  # clean, large, unannotated portraits


def sample_photos() -> dict[str, NDArray[np.uint8]]:
    """Named RGB face photos without drawn annotations, from ``pensioncert.biometrics`` when present."""
    try:
        from pensioncert.biometrics.samples import sample_photos as biometric_photos
    except ImportError:
        return {"astronaut": _astronaut(), "grace_hopper": _grace_hopper()}
    return {p.name: np.ascontiguousarray(p.load()) for p in biometric_photos() if not p.annotated}


def _astronaut() -> NDArray[np.uint8]:
    import skimage.data

    return np.asarray(skimage.data.astronaut(), dtype=np.uint8)


def _grace_hopper() -> NDArray[np.uint8]:
    import matplotlib

    return load_photo(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")


def load_photo(photo: PhotoLike) -> NDArray[np.uint8]:
    """An RGB uint8 image from an array, an image file, or a sample name (``grace_hopper``, ``astronaut`` …)."""
    if isinstance(photo, np.ndarray):
        img = photo
    else:
        name = str(photo)
        if name == "astronaut":
            return _astronaut()
        if name == "grace_hopper":
            return _grace_hopper()
        if not Path(name).exists():
            samples = sample_photos()
            if name in samples:
                return samples[name]
            raise FileNotFoundError(f"no image file or sample photo named {name!r}")
        bgr = cv2.imread(name, cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f"cannot read an image from {name!r}")
        img = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=2)
    if img.shape[2] == 4:
        img = img[:, :, :3]
    return np.ascontiguousarray(img.astype(np.uint8))


def other_photo_for(photo: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A different person's photo (for two-faces and face-swap attacks)."""
    for name in DEFAULT_PHOTOS:
        candidate = load_photo(name)
        if candidate.shape != photo.shape or not np.array_equal(candidate, photo):
            return candidate
    return np.ascontiguousarray(cv2.flip(photo, 1))
