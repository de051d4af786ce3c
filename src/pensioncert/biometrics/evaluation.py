"""Accuracy measurement on a folder of people: genuine/impostor distances, FAR, FRR, EER, plots."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pensioncert.biometrics.errors import FaceEngineError, NoFaceFound
from pensioncert.biometrics.loading import load_image
from pensioncert.biometrics.matching import face_distance, face_embedding, match_threshold
from pensioncert.biometrics.quality import assess_quality
from pensioncert.biometrics.results import Embedding

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
TARGET_FAR = 0.001  # the operating point: accept >= 98 % of genuine pairs at FAR <= 0.1 %
_VARIANT_NAME = re.compile(r"^(?P<photo>.+)_(?P<k>\d{2})$")  # devset.py writes <photo>_<k>.{png,jpg}


def source_photo(path: Path) -> tuple[str, bool]:
    """(source photo, is the original) of a dev-set file; any other file is its own original photo."""
    match = _VARIANT_NAME.match(path.stem)
    if match is None:
        return path.stem, True
    return match["photo"], match["k"] == "00"


@dataclass(frozen=True)
class Sample:
    """One evaluated image: its embedding and whether it passed the capture-quality gates."""

    path: Path
    embedding: Embedding
    quality_ok: bool


@dataclass
class EvalReport:
    """Everything ``pensioncert eval faces`` prints; distances kept for the plot."""

    threshold: float
    people: int
    images: int
    failed_images: list[str]
    genuine: np.ndarray
    impostor: np.ndarray
    far: float
    frr: float
    eer: float
    eer_threshold: float
    threshold_at_target_far: float
    frr_at_target_far: float
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def stats(values: np.ndarray) -> dict[str, float]:
            if not values.size:
                return {}
            return {
                "mean": round(float(values.mean()), 4),
                "std": round(float(values.std()), 4),
                "min": round(float(values.min()), 4),
                "p01": round(float(np.percentile(values, 1)), 4),
                "p50": round(float(np.percentile(values, 50)), 4),
                "p99": round(float(np.percentile(values, 99)), 4),
                "max": round(float(values.max()), 4),
            }

        return {
            "threshold": self.threshold,
            "far": self.far,
            "frr": self.frr,
            "eer": round(self.eer, 6),
            "eer_threshold": round(self.eer_threshold, 4),
            "target_far": TARGET_FAR,
            "threshold_at_target_far": round(self.threshold_at_target_far, 4),
            "frr_at_target_far": round(self.frr_at_target_far, 6),
            "genuine_pairs": int(self.genuine.size),
            "impostor_pairs": int(self.impostor.size),
            "people": self.people,
            "images": self.images,
            "failed_images": self.failed_images,
            "genuine": stats(self.genuine),
            "impostor": stats(self.impostor),
            **self.extra,
        }


def list_people(directory: Path) -> dict[str, list[Path]]:
    """``{person: [image paths]}`` from one sub-folder per person."""
    people = {}
    for sub in sorted(p for p in directory.iterdir() if p.is_dir()):
        images = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if images:
            people[sub.name] = images
    return people


def embed_folder(
    people: dict[str, list[Path]], progress: Callable[[int, int], None] | None = None
) -> tuple[dict[str, list[Sample]], list[str]]:
    """Embedding and quality verdict of every image; images without any face are listed apart."""
    total = sum(len(v) for v in people.values())
    done = 0
    embedded: dict[str, list[Sample]] = {}
    failed: list[str] = []
    for person, paths in people.items():
        for path in paths:
            try:
                image = load_image(path)
                report = assess_quality(image)
                if report.face is None:
                    raise NoFaceFound(str(path))
                embedded.setdefault(person, []).append(Sample(path, face_embedding(image, report.face), report.ok))
            except FaceEngineError:
                failed.append(str(path))
            done += 1
            if progress is not None:
                progress(done, total)
    return embedded, failed


def pair_distances(embedded: dict[str, list[Sample]]) -> tuple[np.ndarray, np.ndarray]:
    """All genuine (same folder) and impostor (different folders) pair distances."""
    names = [n for n in embedded if embedded[n]]
    matrix = np.stack([s.embedding for n in names for s in embedded[n]]) if names else np.zeros((0, 128))
    labels = np.array([i for i, n in enumerate(names) for _ in embedded[n]])
    squared = (matrix**2).sum(1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * matrix @ matrix.T, 0.0))
    upper = np.triu_indices(len(labels), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    values = distances[upper]
    return values[same], values[~same]


def pair_kinds(embedded: dict[str, list[Sample]]) -> dict[str, np.ndarray]:
    """Masks over :func:`pair_distances`' genuine / impostor pairs, by how the pair was made.

    ``genuine_same_photo``: two degraded copies of one photo (or a copy and its original):
    same pose, expression and moment, so easier than real life. ``genuine_cross_photo``:
    two different original photos of the person (another session, light or pose) and
    their copies: the pairs that resemble a registry photo against today's selfie.
    ``impostor_originals``: different people, both photos as shipped (no augmentation).
    """
    names = [n for n in embedded if embedded[n]]
    labels = np.array([i for i, n in enumerate(names) for _ in embedded[n]])
    sources = [source_photo(s.path) for n in names for s in embedded[n]]
    photo = np.array([name for name, _ in sources])
    original = np.array([flag for _, flag in sources], dtype=bool)
    upper = np.triu_indices(len(labels), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    same_photo = (photo[upper[0]] == photo[upper[1]])
    both_original = original[upper[0]] & original[upper[1]]
    return {
        "genuine_same_photo": same_photo[same],
        "genuine_cross_photo": ~same_photo[same],
        "genuine_cross_photo_originals": (~same_photo & both_original)[same],
        "impostor_originals": both_original[~same],
    }


def rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(FAR, FRR) at ``threshold``: impostors at or below it, genuines above it."""
    far = float((impostor <= threshold).mean()) if impostor.size else 0.0
    frr = float((genuine > threshold).mean()) if genuine.size else 0.0
    return far, frr


def error_curves(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FAR and FRR over every candidate threshold (the sorted distinct scores)."""
    thresholds = np.unique(np.concatenate([genuine, impostor, [0.0, 2.0]]))
    far = np.searchsorted(np.sort(impostor), thresholds, side="right") / max(1, impostor.size)
    frr = 1.0 - np.searchsorted(np.sort(genuine), thresholds, side="right") / max(1, genuine.size)
    return thresholds, far, frr


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold) where FAR and FRR cross."""
    thresholds, far, frr = error_curves(genuine, impostor)
    index = int(np.argmin(np.abs(far - frr)))
    return float((far[index] + frr[index]) / 2), float(thresholds[index])


def evaluate(
    directory: Path,
    threshold: float | None = None,
    *,
    gated: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Embed every image under ``directory`` and measure the verifier on all pairs.

    With ``gated`` (the default, as in service) images that fail the capture-quality
    gates are left out of the pairs — the user is asked to retry instead of being
    compared — and their share is reported as ``failure_to_acquire``. The ungated
    figures are reported alongside.
    """
    limit = match_threshold() if threshold is None else threshold
    embedded, failed = embed_folder(list_people(directory), progress)
    passing = {p: [s for s in v if s.quality_ok] for p, v in embedded.items()}
    chosen = passing if gated else embedded
    genuine, impostor = pair_distances(chosen)
    far, frr = rates(genuine, impostor, limit)
    eer, eer_threshold = equal_error_rate(genuine, impostor)
    thresholds, far_curve, frr_curve = error_curves(genuine, impostor)
    allowed = np.nonzero(far_curve <= TARGET_FAR)[0]
    at = int(allowed[-1]) if allowed.size else 0
    images = sum(len(v) for v in embedded.values())
    extra: dict[str, Any] = {
        "gated": gated,
        "failure_to_acquire": round(1 - sum(len(v) for v in passing.values()) / max(1, images + len(failed)), 4),
    }
    other_g, other_i = pair_distances(embedded if gated else passing)
    other_far, other_frr = rates(other_g, other_i, limit)
    extra["ungated" if gated else "gated_figures"] = {
        "far": other_far, "frr": other_frr, "genuine_pairs": int(other_g.size), "impostor_pairs": int(other_i.size),
        "eer": round(equal_error_rate(other_g, other_i)[0], 6),
    }
    masks = pair_kinds(chosen)
    by_kind: dict[str, Any] = {}
    for kind, mask in masks.items():
        values = genuine[mask] if kind.startswith("genuine") else impostor[mask]
        entry: dict[str, Any] = {"pairs": int(values.size)}
        if values.size and kind.startswith("genuine"):
            entry["frr"] = round(rates(values, impostor, limit)[1], 6)
            entry["frr_at_target_far"] = round(rates(values, impostor, float(thresholds[at]))[1], 6)
        elif values.size:
            entry["far"] = round(rates(genuine, values, limit)[0], 6)
        by_kind[kind] = entry
    extra["by_kind"] = by_kind
    # Genuine pairs between different real photos (the _00 originals of one folder): the hardest we have.
    originals = {p: [s.embedding for s in v if s.path.stem.endswith("_00")] for p, v in embedded.items()}
    extra["real_photo_genuine_distances"] = [
        round(face_distance(a, b), 4) for v in originals.values() for a, b in itertools.combinations(v, 2)
    ]
    return EvalReport(
        threshold=limit,
        people=sum(1 for v in chosen.values() if v),
        images=sum(len(v) for v in chosen.values()),
        failed_images=failed,
        genuine=genuine,
        impostor=impostor,
        far=far,
        frr=frr,
        eer=eer,
        eer_threshold=eer_threshold,
        threshold_at_target_far=float(thresholds[at]),
        frr_at_target_far=float(frr_curve[at]),
        extra=extra,
    )


def plot_roc_det(report: EvalReport, path: Path) -> Path:
    """Write a two-panel PNG: ROC (TAR vs FAR, log x) and DET (FRR vs FAR, log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, far, frr = error_curves(report.genuine, report.impostor)
    floor = 1.0 / max(10, report.impostor.size)
    figure, (roc, det) = plt.subplots(1, 2, figsize=(11, 4.5))
    roc.plot(np.maximum(far, floor), 1 - frr)
    roc.set_xscale("log")
    roc.set_xlabel("false accept rate")
    roc.set_ylabel("genuine accept rate")
    roc.set_title("ROC")
    roc.axvline(TARGET_FAR, ls="--", c="grey", lw=0.8)
    det.plot(np.maximum(far, floor), np.maximum(frr, 1.0 / max(10, report.genuine.size)))
    det.set_xscale("log")
    det.set_yscale("log")
    det.set_xlabel("false accept rate")
    det.set_ylabel("false reject rate")
    det.set_title(f"DET (EER {report.eer:.2%} at {report.eer_threshold:.3f})")
    op_far, op_frr = rates(report.genuine, report.impostor, report.threshold)
    point = ([max(op_far, floor)], [max(op_frr, 1.0 / max(10, report.genuine.size))])
    det.plot(*point, "o", label=f"threshold {report.threshold}")
    det.legend()
    for axis in (roc, det):
        axis.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"{report.people} people, {report.genuine.size} genuine / {report.impostor.size} impostor pairs")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
