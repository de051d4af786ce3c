import struct
import zlib

import cv2
import numpy as np
import pytest

from pensioncert.media.images import ImageRejected, decode_image_bgr, image_dimensions


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` 1-bit pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 64)  # only the first rows: enough to look real
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [10_000, 30_000])
def test_bomb_is_refused_from_its_header(side: int) -> None:
    bomb = png_declaring(side, side)
    assert len(bomb) < 4_000
    with pytest.raises(ImageRejected) as error:
        decode_image_bgr(bomb, max_pixels=50_000_000)
    assert error.value.code == "media.image_too_large"


def test_dimensions_come_from_the_header() -> None:
    assert image_dimensions(png_declaring(9_000, 7_000)) == (9_000, 7_000)


def test_normal_image_decodes() -> None:
    ok, jpeg = cv2.imencode(".jpg", np.full((480, 640, 3), 128, np.uint8))
    assert ok
    assert decode_image_bgr(jpeg.tobytes(), max_pixels=50_000_000).shape == (480, 640, 3)


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20])
def test_garbage_is_unreadable(data: bytes) -> None:
    with pytest.raises(ImageRejected) as error:
        decode_image_bgr(data, max_pixels=50_000_000)
    assert error.value.code == "media.image_unreadable"


def test_truncated_jpeg_is_unreadable_or_decodes_partially_but_never_crashes() -> None:
    ok, jpeg = cv2.imencode(".jpg", np.full((480, 640, 3), 90, np.uint8))
    assert ok
    try:
        image = decode_image_bgr(jpeg.tobytes()[:200], max_pixels=50_000_000)
    except ImageRejected as error:
        assert error.code == "media.image_unreadable"
    else:
        assert image.shape == (480, 640, 3)
