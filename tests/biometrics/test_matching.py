from __future__ import annotations

import numpy as np
import pytest

from pensioncert import biometrics
from pensioncert.biometrics import NoFaceFound, RGBImage
from pensioncert.biometrics.devset import augment
from tests.biometrics.conftest import on_canvas


def test_embedding_is_a_128d_descriptor_stable_for_the_same_pixels(hopper: RGBImage) -> None:
    first, second = biometrics.face_embedding(hopper), biometrics.face_embedding(hopper.copy())
    assert first.shape == (128,)
    assert 0.5 < np.linalg.norm(first) < 1.5
    assert biometrics.face_distance(first, second) == pytest.approx(0.0, abs=1e-9)


def test_two_different_people_are_far_apart(hopper: RGBImage, astronaut: RGBImage) -> None:
    result = biometrics.compare_images(hopper, astronaut)
    assert not result.same_person
    assert result.distance > result.threshold == biometrics.match_threshold()


def test_same_person_in_a_new_capture_matches(hopper: RGBImage) -> None:
    """A registry portrait against a selfie-like frame of the same face, degraded by the dev-set augmentations."""
    rng = np.random.default_rng(7)
    probes = [augment(on_canvas(hopper, 400), rng) for _ in range(3)]
    distances = [biometrics.compare_images(hopper, probe).distance for probe in probes]
    assert all(d < biometrics.match_threshold() for d in distances), distances


def test_compare_accepts_bytes_and_reports_quality_of_each(hopper: RGBImage, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import cv2

    path = tmp_path / "hopper.png"
    cv2.imwrite(str(path), cv2.cvtColor(hopper, cv2.COLOR_RGB2BGR))
    result = biometrics.compare_images(path.read_bytes(), path)
    assert result.same_person and result.quality_a.ok and result.quality_b.ok
    assert set(result.as_dict()) == {"distance", "same_person", "threshold", "quality"}


def test_threshold_comes_from_settings(hopper: RGBImage, astronaut: RGBImage, monkeypatch: pytest.MonkeyPatch) -> None:
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_FACE__MATCH_THRESHOLD", "5.0")
    get_settings.cache_clear()
    result = biometrics.compare_images(hopper, astronaut)
    assert result.threshold == 5.0 and result.same_person


def test_no_face_raises_a_named_error() -> None:
    from skimage import data

    with pytest.raises(NoFaceFound) as caught:
        biometrics.face_embedding(data.chelsea())
    assert caught.value.code == "face.no_face"


def test_clahe_raises_local_contrast_of_a_dim_chip_and_keeps_its_size(hopper: RGBImage) -> None:
    import cv2

    from pensioncert.biometrics.matching import face_chip, normalise_chip

    chip = face_chip(hopper)
    assert chip.shape == (150, 150, 3)
    dim = (chip.astype(np.float32) * 0.35).astype(np.uint8)
    out = normalise_chip(dim, "clahe")
    assert out.shape == dim.shape and out.dtype == np.uint8
    grey_in, grey_out = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float32) for x in (dim, out))
    assert grey_out.std() > 1.5 * grey_in.std()
    assert normalise_chip(dim, "none") is dim
    with pytest.raises(ValueError):
        normalise_chip(dim, "histogram-magic")


def test_flip_average_brings_a_mirrored_photo_closer(hopper: RGBImage) -> None:
    """Not exactly invariant: the mirrored photo is detected and aligned anew (measured 0.105 vs 0.156)."""
    from pensioncert.settings import FaceSettings

    mirrored = np.ascontiguousarray(hopper[:, ::-1])
    plain, flipped = FaceSettings(flip_average=False), FaceSettings(flip_average=True)
    d_plain = biometrics.face_distance(
        biometrics.face_embedding(hopper, settings=plain), biometrics.face_embedding(mirrored, settings=plain)
    )
    d_flip = biometrics.face_distance(
        biometrics.face_embedding(hopper, settings=flipped), biometrics.face_embedding(mirrored, settings=flipped)
    )
    assert d_flip < 0.8 * d_plain, (d_flip, d_plain)
