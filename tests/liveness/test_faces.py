"""Faces per frame: the mesh tracks one face; a second face is looked for on sampled frames and followed."""

from __future__ import annotations

import random
from typing import Any

import cv2
import numpy as np
import pytest

from pensioncert.liveness.landmarks import track_faces


@pytest.fixture(scope="module")
def second_face() -> Any:
    from pensioncert.biometrics.matching import face_chip
    from pensioncert.synth import load_photo

    return cv2.resize(face_chip(load_photo("astronaut")), (200, 200))


@pytest.mark.parametrize("every", [1, 3])
def test_a_second_face_that_stays_is_counted_in_every_frame(digits_suite: dict[str, Any], second_face: Any,
                                                             every: int) -> None:
    clip = digits_suite["genuine"]
    frames = clip.frames.copy()
    h, w = frames.shape[1:3]
    frames[20:25, h - 210:h - 10, w - 210:w - 10] = second_face  # 5 frames: 2 x 3 - 1
    times = np.arange(len(frames)) / clip.fps
    for seed in range(3):
        track = track_faces(frames, times, second_face_every=every, rng=random.Random(seed))
        assert np.flatnonzero(track.face_counts >= 2).tolist() == [20, 21, 22, 23, 24]
        assert track.present.all()


def test_one_face_is_one_face(digits_suite: dict[str, Any]) -> None:
    clip = digits_suite["genuine"]
    track = track_faces(clip.frames, np.arange(len(clip.frames)) / clip.fps, second_face_every=3)
    assert track.present.all() and set(track.face_counts.tolist()) == {1}
    with pytest.raises(ValueError):
        track_faces(clip.frames, np.arange(len(clip.frames)) / clip.fps, second_face_every=0)


def test_landmarks_read_from_bytes_are_the_fields(digits_suite: dict[str, Any]) -> None:
    from pensioncert.liveness.landmarks import _landmarks, _mesh

    mesh = _mesh(1)
    try:
        face = mesh.process(np.ascontiguousarray(digits_suite["genuine"].frames[0])).multi_face_landmarks[0]
    finally:
        mesh.close()
    fields = np.array([(p.x, p.y) for p in face.landmark[:468]], dtype=np.float64)
    assert np.array_equal(_landmarks(face.SerializeToString()), fields)
    face.landmark[3].visibility = 0.5  # another layout: parsed and read field by field, same values
    assert np.array_equal(_landmarks(face.SerializeToString()), fields)


def test_the_graph_run_directly_gives_what_process_gives(digits_suite: dict[str, Any], second_face: Any) -> None:
    """``_run_graph`` skips ``process``'s Python wrapping: over a tracked run the outputs are the same bytes."""
    from pensioncert.liveness.landmarks import _detector, _mesh, _run_graph

    frames = digits_suite["genuine"].frames[:12].copy()
    h, w = frames.shape[1:3]
    frames[6:9, h - 210:h - 10, w - 210:w - 10] = second_face
    for make, stream, field in ((lambda: _mesh(1), "multi_face_landmarks", "multi_face_landmarks"),
                                (_detector, "detections", "detections")):
        direct, wrapped = make(), make()
        try:
            for frame in frames:
                ours = _run_graph(direct, frame, stream)
                theirs = getattr(wrapped.process(np.ascontiguousarray(frame)), field) or []
                assert ours == [message.SerializeToString() for message in theirs]
                assert ours  # a face in every frame: the comparison compared something
        finally:
            direct.close()
            wrapped.close()


def test_restarted_graphs_track_as_new_ones(digits_suite: dict[str, Any], second_face: Any) -> None:
    """The graphs are kept between recordings and restarted: nothing of one recording reaches the next."""
    from pensioncert.liveness import landmarks

    first = digits_suite["genuine"].frames[:20]
    second = first[::-1].copy()
    h, w = second.shape[1:3]
    second[5:12, h - 210:h - 10, w - 210:w - 10] = second_face
    times = np.arange(20) / 15.0

    def track(frames: np.ndarray, fresh: bool) -> Any:
        if fresh:
            landmarks._graphs.clear()  # the next track_faces builds new graphs
        return track_faces(frames, times, second_face_every=3, rng=random.Random(7))

    for frames in (first, second, first):
        kept, new = track(frames, fresh=False), track(frames, fresh=True)
        assert np.array_equal(kept.points, new.points, equal_nan=True)
        assert np.array_equal(kept.face_counts, new.face_counts)
    assert track(second, fresh=False).face_counts.max() == 2  # the comparison saw a second face
