"""``eval pilot --propose-thresholds``: what the thresholds would be for a target APCER/BPCER.

On purpose, on a split: the recordings are divided by ``subject`` (a volunteer's or red-team
member's recordings stay on one side) into a *tuning* half, where the thresholds are chosen,
and a *held-out* half, where the result is reported. Choosing and reporting on the same
recordings would report a figure the agency cannot expect in production.

Nothing is applied: the proposal is printed as settings lines for a person to review.

Face threshold: the largest distance whose FMR on the tuning half's impostor pairs
(``other_person`` attacks) is at most the target APCER (the most lenient threshold that still
keeps impostors out), or, without impostor pairs, the genuine distances' (1 − target BPCER)
quantile. Liveness thresholds: each score with a threshold in ``settings.liveness`` gets the
value that rejects at most its share of the BPCER budget (target BPCER / number of checks) of
the tuning half's genuine recordings, unless that is stricter than the current setting and
stops no more of the tuning half's attacks (then the current value stays: strictness that
buys nothing only costs genuine users); for each, the held-out half shows its genuine
rejection and the share of attacks that this check alone stops.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pensioncert.evaluation.pilot.report import face_distances
from pensioncert.evaluation.pilot.run import RowDecision
from pensioncert.evaluation.pilot.stats import attempts_for_zero_error_claim, match_errors, percentile, rate


@dataclass(frozen=True)
class ScoreThreshold:
    """A job score and the setting it is compared with; ``lower``: a score below the setting fails."""

    score: str
    section: str
    setting: str
    lower: bool


# The scores the job stores and the settings that judge them (pensioncert.liveness.analyse).
LIVENESS_SCORES = (
    ScoreThreshold("moire", "liveness", "max_moire", lower=False),
    ScoreThreshold("frame_motion", "liveness", "min_frame_motion", lower=True),
    ScoreThreshold("loop_ratio", "liveness", "loop_ratio", lower=True),
    ScoreThreshold("frozen_seconds", "liveness", "max_frozen_seconds", lower=False),
    ScoreThreshold("face_missing_fraction", "liveness", "max_missing_face_fraction", lower=False),
    ScoreThreshold("av_sync", "liveness", "min_av_sync", lower=True),
    ScoreThreshold("mouth_range", "liveness", "min_mouth_range", lower=True),
)


def split_by_subject(decisions: Sequence[RowDecision]) -> tuple[list[RowDecision], list[RowDecision]]:
    """(tuning, held-out): by a hash of the subject, so the split does not depend on row order."""
    tuning: list[RowDecision] = []
    held_out: list[RowDecision] = []
    for d in decisions:
        digest = hashlib.sha256(f"pilot-split/{d.subject}".encode()).digest()
        (tuning if digest[0] % 2 == 0 else held_out).append(d)
    return tuning, held_out


def _scores(decisions: Sequence[RowDecision], key: str, attack: bool) -> list[float]:
    out = []
    for d in decisions:
        value = d.scores.get(key)
        if d.is_attack == attack and isinstance(value, int | float) and not math.isnan(float(value)):
            out.append(float(value))
    return out


def propose(decisions: Sequence[RowDecision], *, target_apcer: float = 0.01, target_bpcer: float = 0.05,
            settings: Any = None) -> dict[str, Any]:
    """The proposal (tuning half) and how it does on the held-out half; settings lines to apply by hand."""
    from pensioncert.settings import get_settings

    settings = settings or get_settings()
    tuning, held_out = split_by_subject(decisions)
    g_tune, i_tune = face_distances(tuning)
    g_hold, i_hold = face_distances(held_out)
    current = settings.face.match_threshold
    if i_tune:
        allowed = math.floor(target_apcer * len(i_tune))
        ordered = sorted(i_tune)
        # below the (allowed+1)-th smallest impostor distance at most ``allowed`` impostors match
        face_t = (ordered[allowed] - 1e-6) if allowed < len(ordered) else max(ordered)
        basis = f"FMR <= {target_apcer:g} on {len(i_tune)} impostor pairs of the tuning half"
    elif g_tune:
        face_t = percentile(g_tune, 100 * (1 - target_bpcer))
        basis = f"genuine (1 - {target_bpcer:g}) quantile of {len(g_tune)} pairs; no impostor pairs: FMR unknown"
    else:
        face_t, basis = math.nan, "no face distances in the tuning half"
    face: dict[str, Any] = {"setting": "PENSIONCERT_FACE__MATCH_THRESHOLD", "current": current, "basis": basis,
                            "proposed": None if math.isnan(face_t) else round(face_t, 4)}
    if not math.isnan(face_t):
        fnmr, fmr = match_errors(g_hold, i_hold, face_t)
        face["held_out"] = {"fnmr": fnmr.as_dict(), "fmr": fmr.as_dict()}
    present = [s for s in LIVENESS_SCORES if _scores(tuning, s.score, attack=False)]
    budget = target_bpcer / max(1, len(present))
    checks = []
    for s in present:
        genuine = _scores(tuning, s.score, attack=False)
        value = percentile(genuine, 100 * budget) if s.lower else percentile(genuine, 100 * (1 - budget))
        held_genuine = _scores(held_out, s.score, attack=False)
        held_attack = _scores(held_out, s.score, attack=True)

        def fails(x: float, t: float = value, lower: bool = s.lower) -> bool:
            return x < t if lower else x > t

        current_value = float(getattr(getattr(settings, s.section), s.setting))
        tune_attack = _scores(tuning, s.score, attack=True)
        stricter = value > current_value if s.lower else value < current_value
        gained = sum(fails(x) for x in tune_attack) - sum(fails(x, current_value) for x in tune_attack)
        # A stricter value that stops no more attacks of the tuning half only costs genuine users
        # (e.g. 0.0 frozen seconds because no genuine recording froze): keep the current one.
        keep = stricter and gained <= 0
        checks.append({
            "score": s.score,
            "setting": f"PENSIONCERT_{s.section.upper()}__{s.setting.upper()}",
            "current": getattr(getattr(settings, s.section), s.setting),
            "proposed": round(value, 4),
            "keep_current": keep,
            "tuning_attacks_gained": gained,
            "held_out_genuine_rejected": rate(sum(fails(x) for x in held_genuine), len(held_genuine)).as_dict(),
            "held_out_attacks_stopped_alone": rate(sum(fails(x) for x in held_attack), len(held_attack)).as_dict(),
        })
    warnings = []
    needed = attempts_for_zero_error_claim(target_apcer)
    face_line = face["proposed"] is not None
    if len(i_tune) < needed:
        face_line = False  # a lenient face threshold on a handful of impostors would be a gift to attackers
        warnings.append(f"only {len(i_tune)} impostor pairs in the tuning half: an FMR below {target_apcer:g} "
                        f"needs at least {needed} (docs/validation.md); no face threshold line is printed")
    needed = attempts_for_zero_error_claim(target_bpcer)
    if len(_scores(tuning, "frame_motion", attack=False)) < needed:
        warnings.append(f"fewer than {needed} genuine recordings in the tuning half: the liveness quantiles "
                        f"for BPCER {target_bpcer:g} rest on too few values")
    lines = [f"{face['setting']}={face['proposed']}"] if face_line else []
    lines += [f"{c['setting']}={c['proposed']}" for c in checks if not c["keep_current"]]
    return {"targets": {"apcer": target_apcer, "bpcer": target_bpcer},
            "split": {"tuning": len(tuning), "held_out": len(held_out), "by": "subject"},
            "face": face, "liveness": checks, "settings_lines": lines, "warnings": warnings,
            "note": "Proposed only; nothing was changed. Review, then set these in the environment."}
