"""Per-frame face-mesh landmarks and the scalar signals the action checks read.

Signals are ratios of landmark distances, so they do not depend on how far the phone is:
eye-aspect ratio (blink), inner-lip gap over mouth width (open mouth, speech), nose offset
across the face (yaw) and nose height between eyes and chin (pitch).
"""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

# MediaPipe face-mesh indices (468-point topology).
LEFT_EYE = (33, 160, 158, 133, 153, 144)  # image-left eye: outer, upper×2, inner, lower×2
RIGHT_EYE = (263, 387, 385, 362, 380, 373)
MOUTH_UPPER, MOUTH_LOWER, MOUTH_LEFT, MOUTH_RIGHT = 13, 14, 78, 308
NOSE_TIP, CHIN, FACE_LEFT, FACE_RIGHT = 1, 152, 234, 454
# Points on bone (forehead, nose bridge, cheekbones, eye corners, face outline): they move
# rigidly with the skull, so any non-planar motion among them is 3D head motion, not expression.
RIGID = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 234, 454, 127, 356, 93, 323,
         33, 133, 362, 263, 116, 345, 50, 280, 205, 425, 103, 332, 67, 297)

_lock = threading.Lock()


@dataclass
class FaceTrack:
    """Landmarks of the main face per analysed frame (NaN where none) and face counts."""

    times: F64  # seconds
    points: F64  # (N, 468, 2) pixels
    face_counts: NDArray[np.int64]
    frame_size: tuple[int, int]  # (width, height)

    @property
    def present(self) -> NDArray[np.bool_]:
        return ~np.isnan(self.points[:, 0, 0])


@dataclass
class Signals:
    """Per-frame scalar signals (NaN where no face)."""

    ear: F64
    mouth: F64
    yaw: F64
    pitch: F64
    iod: F64  # inter-ocular distance in pixels
    centre: F64  # (N, 2) nose tip position


def _mesh(max_faces: int) -> Any:
    import mediapipe as mp  # heavy import: only when a video is analysed

    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False, max_num_faces=max_faces, refine_landmarks=True,
        min_detection_confidence=0.5, min_tracking_confidence=0.5,
    )


def _detector() -> Any:
    """BlazeFace short range at the mesh's own detection confidence: the mesh's face detector, alone."""
    import mediapipe as mp

    return mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5)


_graphs: dict[int, tuple[Any, Any]] = {}  # process id -> (mesh, detector); graphs do not survive a fork


def _fresh_graphs() -> tuple[Any, Any]:
    """This process's face mesh and detector graphs, each started on a fresh run (call under ``_lock``).

    A restarted run (``SolutionBase.reset``) has no state from the previous recording: its tracker
    starts from detection and its timestamps from zero, exactly as a new graph's, so the landmarks
    are the same to the bit (``tests/liveness/test_faces.py``). Restarting the mesh costs ~11 ms
    of CPU against ~21 ms to build and close a new one (issue 15, measured in one process).
    """
    pid = os.getpid()
    graphs = _graphs.get(pid)
    if graphs is None:
        _graphs.clear()  # a parent's graphs, inherited by a fork: unusable here, never closed
        graphs = _graphs[pid] = (_mesh(1), _detector())
        return graphs
    for graph in graphs:
        graph.reset()
        if hasattr(graph, "_simulated_timestamp"):
            graph._simulated_timestamp = 0  # as a new graph: _run_graph counts from zero
    return graphs


def track_faces(frames: NDArray[np.uint8], times: F64, second_face_every: int = 1,
                rng: random.Random | None = None) -> FaceTrack:
    """Run the face mesh in tracking mode over ``frames`` (a fresh tracker per recording); count faces.

    The mesh tracks one face (``max_num_faces=1``): once it has a face it follows it from frame
    to frame without running a detector (the main face's landmarks are the same, to the bit, as
    with ``max_num_faces=2`` on the whole synthetic suite). Other faces are looked for by the
    mesh's own detector (BlazeFace short range, same confidence) on one frame drawn at random
    (``random.SystemRandom``) from each group of ``second_face_every`` consecutive frames, and
    wherever it finds two or more, on the neighbouring frames in both directions for as long
    as they show two too: a second face that stays ``2 × second_face_every − 1`` frames is always
    found and then counted in every frame it stays. ``second_face_every=1`` looks on every frame.
    Measured (issue 15, one process): the mesh tracking two faces 14-15 ms a frame (it runs its
    detector on every frame while it has fewer than two), one face 9 ms, the detector ~6 ms.
    Refined (attention) landmarks: the plain mesh saw a full synthetic blink as an eye-aspect
    drop to 0.75 of baseline, the refined one to 0.54, for +1 ms/frame.
    """
    if second_face_every < 1:
        raise ValueError("second_face_every must be at least 1")
    rng = rng or random.SystemRandom()
    n, h, w = frames.shape[:3]
    points = np.full((n, 468, 2), np.nan)
    counts = np.zeros(n, dtype=np.int64)
    scale = np.array([w, h], dtype=np.float64)
    with _lock:  # MediaPipe graphs are not re-entrant; keep one analysis at a time per process
        mesh, detector = _fresh_graphs()
        try:
            for i in range(n):
                faces = _run_graph(mesh, frames[i], "multi_face_landmarks")
                counts[i] = len(faces)
                if faces:
                    points[i] = _landmarks(faces[0]) * scale
            looked: dict[int, int] = {}

            def detected(i: int) -> int:
                if i not in looked:
                    looked[i] = len(_run_graph(detector, frames[i], "detections"))
                return looked[i]

            for start in range(0, n, second_face_every):
                i = start + rng.randrange(min(second_face_every, n - start))
                if detected(i) < 2:
                    continue
                for step in (-1, 1):  # follow the second face both ways
                    j = i + step
                    while 0 <= j < n and j not in looked and detected(j) >= 2:
                        j += step
            for i, found in looked.items():
                counts[i] = max(counts[i], found)
        except BaseException:
            _graphs.pop(os.getpid(), None)  # in an unknown state: the next recording builds new graphs
            mesh.close()
            detector.close()
            raise
    return FaceTrack(times=np.asarray(times, dtype=np.float64), points=points, face_counts=counts,
                     frame_size=(w, h))


# A NormalizedLandmarkList as the mesh serialises it: each landmark is field 1, 15 bytes long,
# holding x, y, z as fixed32 fields 1-3 (tags 0x0d, 0x15, 0x1d); nothing else is set.
_LANDMARK = np.dtype([("head", "u1", 2), ("tx", "u1"), ("x", "<f4"), ("ty", "u1"), ("y", "<f4"),
                      ("tz", "u1"), ("z", "<f4")])
_TAGS = (bytes([0x0A, 0x0F]), 0x0D, 0x15, 0x1D)


def _run_graph(solution: Any, image: NDArray[np.uint8], stream: str) -> list[bytes]:
    """One frame through a MediaPipe solution's graph: the output ``stream``'s messages, serialised.

    What ``SolutionBase.process`` (mediapipe 0.10.21, pinned) does, without what it costs in
    Python around the graph: it builds a new namedtuple class on every call (~0.4 ms) and
    parses every output message, which ``_landmarks`` would serialise again (~0.2 ms a frame).
    Same graph, same packets, same timestamps: the landmarks are the same to the bit
    (``tests/liveness/test_faces.py``). A MediaPipe without these internals takes ``process``.
    """
    from mediapipe.python import packet_creator
    from mediapipe.python._framework_bindings import _packet_getter, image_frame

    image = np.ascontiguousarray(image)
    graph, outputs = getattr(solution, "_graph", None), getattr(solution, "_graph_outputs", None)
    if graph is None or not isinstance(outputs, dict) or not hasattr(solution, "_simulated_timestamp"):
        found = getattr(solution.process(image), stream, None) or []
        return [message.SerializeToString() for message in found]
    outputs.clear()
    solution._simulated_timestamp += 33333  # as process(): a simulated 30 fps clock
    packet = packet_creator.create_image_frame(image, image_format=image_frame.ImageFormat.SRGB)
    graph.add_packet_to_input_stream(stream="image", packet=packet.at(solution._simulated_timestamp))
    graph.wait_until_idle()
    result = outputs.get(stream)
    if result is None or result.is_empty():
        return []
    return list(_packet_getter._get_serialized_proto_list(result))


def _landmarks(raw: bytes) -> F64:
    """The first 468 landmarks' normalised (x, y) of one face, from its serialised message.

    Read from the bytes in one go (0.1 ms a frame) instead of 468 attribute reads in Python
    (0.5 ms); any other layout than the expected one is parsed and read field by field.
    """
    if len(raw) % _LANDMARK.itemsize == 0:
        rows = np.frombuffer(raw, dtype=_LANDMARK)
        head, tx, ty, tz = _TAGS
        if (len(rows) >= 468 and (rows["head"] == np.frombuffer(head, np.uint8)).all()
                and (rows["tx"] == tx).all() and (rows["ty"] == ty).all() and (rows["tz"] == tz).all()):
            return np.stack([rows["x"][:468], rows["y"][:468]], axis=1).astype(np.float64)
    from mediapipe.framework.formats import landmark_pb2

    face = landmark_pb2.NormalizedLandmarkList.FromString(raw)
    return np.array([(p.x, p.y) for p in face.landmark[:468]], dtype=np.float64)


def _dist(a: F64, b: F64) -> F64:
    return np.asarray(np.linalg.norm(a - b, axis=-1), dtype=np.float64)


def _ear(p: F64, eye: tuple[int, ...]) -> F64:
    o, u1, u2, i, l2, l1 = (p[:, k] for k in eye)
    return (_dist(u1, l1) + _dist(u2, l2)) / (2.0 * _dist(o, i) + 1e-9)


def signals(track: FaceTrack) -> Signals:
    """Scalar signals from landmarks; roll is removed by measuring along the face's own axes."""
    p = track.points
    ear = 0.5 * (_ear(p, LEFT_EYE) + _ear(p, RIGHT_EYE))
    mouth = _dist(p[:, MOUTH_UPPER], p[:, MOUTH_LOWER]) / (_dist(p[:, MOUTH_LEFT], p[:, MOUTH_RIGHT]) + 1e-9)
    left, right, nose, chin = p[:, FACE_LEFT], p[:, FACE_RIGHT], p[:, NOSE_TIP], p[:, CHIN]
    axis = right - left
    width = np.linalg.norm(axis, axis=1) + 1e-9
    u = axis / width[:, None]
    v = np.stack([-u[:, 1], u[:, 0]], axis=1)  # points down the face when u points image-right
    mid = 0.5 * (left + right)
    yaw = np.einsum("ij,ij->i", nose - mid, u) / width  # > 0: nose towards image right (turn to own left)
    eyes = 0.25 * (p[:, LEFT_EYE[0]] + p[:, LEFT_EYE[3]] + p[:, RIGHT_EYE[0]] + p[:, RIGHT_EYE[3]])
    span = np.einsum("ij,ij->i", chin - eyes, v) + 1e-9
    pitch = np.einsum("ij,ij->i", nose - eyes, v) / span  # grows as the chin goes down
    iod = _dist(0.5 * (p[:, LEFT_EYE[0]] + p[:, LEFT_EYE[3]]), 0.5 * (p[:, RIGHT_EYE[0]] + p[:, RIGHT_EYE[3]]))
    return Signals(ear=ear, mouth=mouth, yaw=yaw, pitch=pitch, iod=iod, centre=nose.copy())
