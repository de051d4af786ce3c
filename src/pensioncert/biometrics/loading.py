"""Decoding images from paths, bytes or arrays into the one format the engine uses."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pensioncert.biometrics.errors import ImageUnreadable, ImageUnsuitable
from pensioncert.biometrics.results import RGBImage
from pensioncert.media.images import ImageRejected, decode_image_bgr
from pensioncert.settings import get_settings

MIN_SIDE_PX = 32  # below this no detector finds a face; reject early with a clear code


def _max_pixels() -> int:
    return get_settings().upload.max_image_pixels


def load_image(source: str | Path | bytes | np.ndarray) -> RGBImage:
    """Decode ``source`` into an RGB ``uint8`` array (EXIF rotation applied by OpenCV).

    Raises :class:`ImageUnreadable` (``face.image_unreadable``) for missing, empty or
    corrupt input and :class:`ImageUnsuitable` (``face.image_unsuitable``) for images
    too small or too large to hold a face we could verify.
    """
    if isinstance(source, np.ndarray):
        return _validate(_as_rgb_array(source))
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ImageUnreadable(f"cannot read {path.name}: {error.strerror}") from error
    try:
        decoded = decode_image_bgr(data, _max_pixels())
    except ImageRejected as rejected:
        if rejected.code == "media.image_too_large":
            raise ImageUnsuitable(str(rejected)) from rejected
        raise ImageUnreadable(str(rejected)) from rejected
    return _validate(np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), dtype=np.uint8))


def _as_rgb_array(array: np.ndarray) -> RGBImage:
    """Accept grayscale, RGB or RGBA arrays already in memory (frames, test images)."""
    if array.dtype != np.uint8:
        raise ImageUnsuitable(f"expected uint8 pixels, got {array.dtype}")
    if array.ndim == 2:
        return np.ascontiguousarray(np.repeat(array[:, :, None], 3, axis=2))
    if array.ndim == 3 and array.shape[2] == 4:
        return np.ascontiguousarray(array[:, :, :3])
    if array.ndim == 3 and array.shape[2] == 3:
        return np.ascontiguousarray(array)
    raise ImageUnsuitable(f"expected H×W×3 pixels, got shape {array.shape}")


def _validate(image: RGBImage) -> RGBImage:
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE_PX:
        raise ImageUnsuitable(f"image is {width}×{height}, smaller than {MIN_SIDE_PX} px")
    if height * width > _max_pixels():
        raise ImageUnsuitable(f"image is {width}×{height}, larger than {_max_pixels()} pixels")
    return image
