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
from numpy.typing import NDArray

from pensioncert.biometrics import engines
from pensioncert.biometrics.detection import detect_faces
from pensioncert.biometrics.matching import (
    CHIP_PADDING,
    CHIP_PX,
    embed_chip,
    embed_chips,
    face_distance,
    face_embedding,
    match_threshold,
    normalise_chip,
)
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


def embed_aligned(image: RGBImage, five: NDArray[np.float64], settings: FaceSettings | None = None) -> Embedding:
    """The descriptor of the face whose five alignment points the caller already has (no detector, no predictor).

    ``five`` is (5, 2) in dlib's 5-point order: image-right eye outer and inner corner,
    image-left eye outer and inner corner, the base of the nose. The chip is cut, normalised
    and embedded exactly as ``face_embedding`` does after dlib's own predictor.
    """
    config = settings or get_settings().face
    return embed_chip(aligned_chip(image, five, config), flip_average=config.flip_average)


def aligned_chip(image: RGBImage, five: NDArray[np.float64], settings: FaceSettings | None = None) -> RGBImage:
    """The normalised 150×150 chip ``embed_aligned`` embeds (raises where dlib cannot cut it)."""
    import dlib

    config = settings or get_settings().face
    pts = [dlib.point(int(round(x)), int(round(y))) for x, y in five]
    xs, ys = five[:, 0], five[:, 1]
    rect = dlib.rectangle(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    shape = dlib.full_object_detection(rect, pts)
    with engines.DLIB_LOCK:
        chip = np.asarray(dlib.get_face_chip(np.ascontiguousarray(image), shape, CHIP_PX, CHIP_PADDING),
                          dtype=np.uint8)
    return normalise_chip(chip, config.chip_normalisation)


def decide_frames(
    reference_embedding: Embedding | None,
    frames: Sequence[RGBImage],
    alignment: Sequence[NDArray[np.float64]],
    *,
    threshold: float | None = None,
    frame_margin: float = 0.0,
    settings: FaceSettings | None = None,
) -> VideoMatchDecision:
    """Every given frame must show the reference person (the caller chose the frames and found the faces).

    The liveness analyser draws the frames at random across the whole recording and hands the
    five alignment points its face mesh already found (``embed_aligned``), so no detector or
    landmark model runs here: each frame is aligned, and the chips are embedded in one batch.
    ``same_person`` holds only when every frame is within the threshold of the reference *and*
    of every other frame (``identity_consistent``). Without a reference the frames are compared with each other
    only (``same_person`` = consistent): the caller decides what a recording of nobody in
    particular is worth. A frame whose face cannot be aligned counts as not the person.
    ``frame_margin`` loosens the limit for single video frames (a blink, a word, a slight turn
    move one frame's descriptor more than a still photo's); their mean must still be within
    the threshold itself.
    """
    config = settings or get_settings().face
    limit = match_threshold() if threshold is None else threshold
    chips: list[RGBImage] = []
    unusable = 0
    for frame, five in zip(frames, alignment, strict=True):
        try:
            chips.append(aligned_chip(frame, five, config))
        except Exception:  # alignment failed on this frame: no evidence that it is the person
            unusable += 1
    embeddings: list[Embedding] = []
    try:
        embeddings = embed_chips(chips, flip_average=config.flip_average) if chips else []
    except Exception:  # as before batching: a chip the encoder cannot embed is no evidence
        for chip in chips:
            try:
                embeddings.append(embed_chip(chip, flip_average=config.flip_average))
            except Exception:
                unusable += 1
    reasons: list[str] = []
    per_frame = limit + frame_margin
    mutual = [face_distance(a, b) for a, b in itertools.combinations(embeddings, 2)]
    consistent = not mutual or max(mutual) <= per_frame
    if not consistent:
        reasons.append("face.identity_changed")
    ref = reference_embedding if reference_embedding is not None else (embeddings[0] if embeddings else None)
    distances = [face_distance(ref, e) for e in embeddings] if ref is not None else []
    matches = (bool(distances) and unusable == 0 and all(d <= per_frame for d in distances)
               and float(np.mean(distances)) <= limit)
    if unusable:
        reasons.append("face.too_few_usable_frames")
    if not matches and reference_embedding is not None:
        reasons.append("face.not_same_person")
    worst = max(distances) if distances else float("inf")
    best = int(np.argmin(distances)) if distances and unusable == 0 else None
    return VideoMatchDecision(
        same_person=consistent and matches,
        identity_consistent=consistent,
        distance=worst,
        threshold=limit,
        best_frame_index=best,
        frames_total=len(frames),
        frames_analysed=len(frames),
        frames_usable=len(embeddings),
        embedded_frames=list(range(len(frames))),
        frame_distances=distances,
        reasons=list(dict.fromkeys(reasons)),
    )
