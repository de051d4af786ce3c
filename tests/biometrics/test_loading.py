from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pensioncert import biometrics
from pensioncert.biometrics import ImageUnreadable, ImageUnsuitable


def _jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def test_bytes_path_and_array_give_the_same_rgb_pixels(tmp_path: Path, hopper: np.ndarray) -> None:
    data = _jpeg(hopper)
    path = tmp_path / "hopper.jpg"
    path.write_bytes(data)
    from_bytes, from_path = biometrics.load_image(data), biometrics.load_image(path)
    assert from_bytes.dtype == np.uint8 and from_bytes.shape == hopper.shape
    assert np.array_equal(from_bytes, from_path)
    # RGB order, not OpenCV's BGR: the decoded JPEG stays close to the source in every channel.
    assert np.abs(from_bytes.astype(int) - hopper.astype(int)).mean(axis=(0, 1)).max() < 6


def test_grey_and_rgba_arrays_become_rgb() -> None:
    grey = np.full((64, 64), 100, np.uint8)
    assert biometrics.load_image(grey).shape == (64, 64, 3)
    assert biometrics.load_image(np.zeros((64, 64, 4), np.uint8)).shape == (64, 64, 3)


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\xff\xd8\xff\xe0" + b"\x00" * 50])
def test_garbage_is_unreadable_with_its_code(data: bytes) -> None:
    with pytest.raises(ImageUnreadable) as caught:
        biometrics.load_image(data)
    assert caught.value.code == "face.image_unreadable"


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ImageUnreadable):
        biometrics.load_image(tmp_path / "absent.jpg")


def test_tiny_image_is_unsuitable(hopper: np.ndarray) -> None:
    with pytest.raises(ImageUnsuitable) as caught:
        biometrics.load_image(_jpeg(cv2.resize(hopper, (20, 24))))
    assert caught.value.code == "face.image_unsuitable"


def test_float_array_is_unsuitable() -> None:
    with pytest.raises(ImageUnsuitable):
        biometrics.load_image(np.zeros((64, 64, 3), np.float32))
