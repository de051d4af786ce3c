"""The multi-frame decision: is the person throughout this capture the reference person?

Cheap work on many frames, expensive work on few: every analysed frame gets BlazeFace
short-range detection and the quality gates (a few ms); only the best frame of each
time segment gets the full detectors (a second, smaller face) and is embedded (~80 ms).
Identity consistency then rests on two checks:

* every analysed frame with a face shows exactly one face, and the face track has no
  jump (a cut to another person moves the box) — each jump starts a new track piece
  whose best frame is embedded too;
* all embedded frames are within the match threshold of each other and of the reference.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import numpy as np

from pensioncert.biometrics.detection import detect_faces
from pensioncert.biometrics.matching import face_distance, face_embedding, match_threshold
from pensioncert.biometrics.quality import Circle, assess_quality
from pensioncert.biometrics.results import Embedding, FaceBox, QualityReport, RGBImage, VideoMatchDecision
from pensioncert.settings import FaceSettings, get_settings

MAX_JUMP = 0.5  # box-centre move between analysed frames, in face widths, that we call a cut
MAX_EMBEDDED = 6  # cap on embeddings per video whatever the number of track pieces


def decide_video(
    reference_embedding: Embedding,
    frames: Sequence[RGBImage],
    *,
    circle: Circle | None = None,
    threshold: float | None = None,
    settings: FaceSettings | None = None,
) -> VideoMatchDecision:
    """Decide whether ``frames`` show the person of ``reference_embedding``, and only them."""
    config = settings or get_settings().face
    limit = match_threshold() if threshold is None else threshold
    analysed = _analysed_indices(len(frames), config.video_max_analysed_frames)
    reports: dict[int, QualityReport] = {}
    reasons: list[str] = []
    for index in analysed:
        faces = detect_faces(frames[index], fast=True)
        reports[index] = assess_quality(frames[index], circle, faces=faces, settings=config)

    consistent = True
    if any("face.multiple_faces" in r.reasons for r in reports.values()):
        consistent = False
        reasons.append("face.multiple_faces")
    pieces = _track_pieces([(i, reports[i].face) for i in analysed])
    usable = [i for i in analysed if reports[i].ok]

    def result(
        distance: float, same: bool, best: int | None, embedded: list[int], dists: list[float]
    ) -> VideoMatchDecision:
        return VideoMatchDecision(
            same_person=same,
            identity_consistent=consistent,
            distance=distance,
            threshold=limit,
            best_frame_index=best,
            frames_total=len(frames),
            frames_analysed=len(analysed),
            frames_usable=len(usable),
            embedded_frames=embedded,
            frame_distances=dists,
            reasons=list(dict.fromkeys(reasons)),
        )

    if len(usable) < config.video_min_usable_frames:
        counts = Counter(code for i in analysed for code in reports[i].reasons)
        reasons.extend(code for code, _ in counts.most_common(3))
        reasons.append("face.too_few_usable_frames")
        return result(float("inf"), False, None, [], [])

    chosen = _choose_frames(usable, pieces, reports, config.video_segments)
    # The fast path cannot see small faces in the background; the embedded frames get the full detector.
    if any(
        len(detect_faces(frames[i])) > 1
        and "face.multiple_faces" in assess_quality(frames[i], circle, settings=config).reasons
        for i in chosen
    ):
        consistent = False
        reasons.append("face.multiple_faces")
    embeddings = {i: face_embedding(frames[i], reports[i].face) for i in chosen}
    distances = [face_distance(reference_embedding, embeddings[i]) for i in chosen]
    mutual = [face_distance(embeddings[a], embeddings[b]) for a, b in itertools.combinations(chosen, 2)]
    if mutual and max(mutual) > limit:
        consistent = False
        reasons.append("face.identity_changed")
    fused = float(np.mean(distances))
    matches = all(d <= limit for d in distances)
    if not matches:
        reasons.append("face.not_same_person")
    best = max(chosen, key=lambda i: reports[i].measures.get("score", 0.0))
    return result(fused, consistent and matches, best, chosen, distances)


def _analysed_indices(total: int, limit: int) -> list[int]:
    """All frames, or ``limit`` evenly spaced ones (first and last included)."""
    if total <= limit:
        return list(range(total))
    return sorted({int(round(x)) for x in np.linspace(0, total - 1, limit)})


def _track_pieces(track: list[tuple[int, FaceBox | None]]) -> list[list[int]]:
    """Split the face track where the face vanishes or jumps: each piece may be another person."""
    pieces: list[list[int]] = []
    previous: FaceBox | None = None
    for index, face in track:
        if face is None:
            previous = None
            continue
        jumped = previous is not None and (
            np.hypot(face.center[0] - previous.center[0], face.center[1] - previous.center[1])
            > MAX_JUMP * max(face.width, previous.width)
            or not 0.67 <= face.width / max(1, previous.width) <= 1.5
        )
        if previous is None or jumped:
            pieces.append([])
        pieces[-1].append(index)
        previous = face
    return pieces


def _choose_frames(
    usable: list[int], pieces: list[list[int]], reports: dict[int, QualityReport], segments: int
) -> list[int]:
    """The best usable frame of each time segment and of each track piece, best first, capped."""

    def score(i: int) -> float:
        return reports[i].measures.get("score", 0.0)

    chosen: list[int] = []
    for part in np.array_split(np.asarray(usable), max(1, min(segments, len(usable)))):
        chosen.append(max(part.tolist(), key=score))
    usable_set = set(usable)
    for piece in pieces:
        candidates = [i for i in piece if i in usable_set]
        if candidates and not set(candidates) & set(chosen):
            chosen.append(max(candidates, key=score))
    return sorted(sorted(set(chosen), key=score, reverse=True)[:MAX_EMBEDDED])
