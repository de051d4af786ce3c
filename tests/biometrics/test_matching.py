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
