"""Decoding uploaded still images without trusting their headers.

A small PNG can declare 30 000 × 30 000 pixels and inflate to gigabytes in the
decoder (a decompression bomb). The header's dimensions are read first, with
Pillow, which does not decode pixels to do so; only images within the limit
are handed to OpenCV.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from pensioncert.errors import CodedError


class ImageRejected(CodedError, ValueError):
    """An image we refuse to decode; ``code`` is a message code (``media.*``)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail, code=code)


def image_dimensions(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone; raise ImageRejected when there is no image header."""
    try:
        with Image.open(io.BytesIO(data)) as header:
            return int(header.width), int(header.height)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        if isinstance(error, Image.DecompressionBombError):
            raise ImageRejected("media.image_too_large", str(error)) from error
        raise ImageRejected("media.image_unreadable", "no image header") from error


def decode_image_bgr(data: bytes, max_pixels: int) -> np.ndarray:
    """BGR uint8 pixels of ``data``, refusing anything above ``max_pixels`` before decoding."""
    if not data:
        raise ImageRejected("media.image_unreadable", "empty image")
    width, height = image_dimensions(data)
    if width * height > max_pixels:
        raise ImageRejected("media.image_too_large", f"{width}×{height} exceeds {max_pixels} pixels")
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise ImageRejected("media.image_unreadable", "corrupt image data")
    return decoded
