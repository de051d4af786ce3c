"""Our ResNet (numpy or onnxruntime) computes dlib's descriptors: same weights, same network, float32 rounding apart."""

from __future__ import annotations

import dlib
import numpy as np
import pytest

from pensioncert.biometrics import RGBImage, engines
from pensioncert.biometrics.matching import face_chip, normalise_chip
from pensioncert.biometrics.resnet import FaceResNet, ModelFormatError

MODEL = "dlib_face_recognition_resnet_model_v1.dat"


@pytest.fixture(scope="module", params=["numpy", "onnx"])
def nets(request: pytest.FixtureRequest) -> tuple[FaceResNet, object]:
    path = engines.model_path(MODEL)
    return FaceResNet(path, runtime=request.param), dlib.face_recognition_model_v1(str(path))


@pytest.mark.parametrize("name", ["hopper", "astronaut"])
def test_descriptors_match_dlib_on_real_chips(nets: tuple[FaceResNet, object], name: str,
                                              request: pytest.FixtureRequest) -> None:
    ours, theirs = nets
    photo: RGBImage = request.getfixturevalue(name)
    chip = face_chip(photo)
    for variant in (chip, normalise_chip(chip, "clahe"), np.ascontiguousarray(chip[:, ::-1])):
        expected = np.asarray(theirs.compute_face_descriptor(variant, 0))  # type: ignore[attr-defined]
        got = ours.compute_face_descriptor(variant)
        assert got.shape == (128,)
        assert np.linalg.norm(got - expected) < 1e-5, "descriptor differs from dlib's"


def test_a_batch_gives_each_chip_its_own_descriptor(nets: tuple[FaceResNet, object], hopper: RGBImage,
                                                     astronaut: RGBImage) -> None:
    ours, _ = nets
    chips = [face_chip(hopper), face_chip(astronaut)]
    chips.append(np.ascontiguousarray(chips[0][:, ::-1]))
    batch = ours.compute_face_descriptors(chips)
    assert batch.shape == (3, 128)
    for chip, got in zip(chips, batch, strict=True):
        assert np.linalg.norm(got - ours.compute_face_descriptor(chip)) < 1e-5
    assert ours.compute_face_descriptors([]).shape == (0, 128)


def test_different_people_stay_apart(nets: tuple[FaceResNet, object], hopper: RGBImage,
                                     astronaut: RGBImage) -> None:
    ours, _ = nets
    a = ours.compute_face_descriptor(face_chip(hopper))
    b = ours.compute_face_descriptor(face_chip(astronaut))
    assert np.linalg.norm(a - b) > 0.6


def test_refuses_other_files_and_inputs(tmp_path: object, nets: tuple[FaceResNet, object]) -> None:
    from pathlib import Path

    bogus = Path(str(tmp_path)) / "other.dat"
    bogus.write_bytes(b"\x01\x05hello" + bytes(100))
    with pytest.raises(ModelFormatError):
        FaceResNet(bogus)
    with pytest.raises(ValueError):
        nets[0].compute_face_descriptor(np.zeros((100, 100, 3), np.uint8))


def test_the_engine_uses_it_by_default() -> None:
    engines.face_encoder.cache_clear()
    try:
        encoder = engines.face_encoder()
        assert isinstance(encoder, FaceResNet) and encoder.runtime == "onnx"
    finally:
        engines.face_encoder.cache_clear()


def test_the_onnx_session_runs_in_a_forked_worker(hopper: RGBImage) -> None:
    """The worker pool loads the encoder once and forks (docs/scaling.md): the children use it as is."""
    import os

    ours = FaceResNet(engines.model_path(MODEL), runtime="onnx")
    chip = face_chip(hopper)
    expected = ours.compute_face_descriptor(chip)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute and send, then leave without pytest's teardown
        try:
            os.write(write, ours.compute_face_descriptor(chip).astype("<f4").tobytes())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 4096):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    assert np.array_equal(np.frombuffer(data, "<f4"), expected)
