"""Error rates with exact binomial (Clopper–Pearson) intervals, and face-distance error curves.

Pure functions over counts and scores: the report, the threshold proposal and the tests use
them. ISO/IEC 30107-3 reports APCER per attack species and BPCER; ISO/IEC 19795-1 reports
FNMR/FMR at the operating threshold. With few attempts the interval matters more than the
rate: 0 errors in 100 attempts still allows a true rate up to 3.6 % (95 %, two-sided).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """``errors`` out of ``n`` with its two-sided Clopper–Pearson interval (``confidence``)."""

    errors: int
    n: int
    low: float
    high: float
    confidence: float = 0.95

    @property
    def value(self) -> float:
        return self.errors / self.n if self.n else math.nan

    def as_dict(self) -> dict[str, float | int | None]:
        return {"errors": self.errors, "n": self.n, "rate": None if not self.n else round(self.value, 6),
                "ci_low": None if not self.n else round(self.low, 6),
                "ci_high": None if not self.n else round(self.high, 6), "confidence": self.confidence}


def beta_ppf(q: float, a: float, b: float) -> float:
    """Quantile of the Beta(a, b) distribution (scipy's, which the project's environment has)."""
    from scipy.stats import beta

    return float(beta.ppf(q, a, b))


def clopper_pearson(errors: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact two-sided interval for a binomial proportion.

    low = B(α/2; k, n−k+1) (0 when k = 0), high = B(1−α/2; k+1, n−k) (1 when k = n), with
    B the Beta quantile. For n = 0 the interval is the whole of [0, 1].
    """
    if not 0 <= errors <= n:
        raise ValueError(f"need 0 <= errors <= n, got {errors} of {n}")
    if n == 0:
        return 0.0, 1.0
    alpha = 1.0 - confidence
    low = 0.0 if errors == 0 else beta_ppf(alpha / 2, errors, n - errors + 1)
    high = 1.0 if errors == n else beta_ppf(1 - alpha / 2, errors + 1, n - errors)
    return low, high


def rate(errors: int, n: int, confidence: float = 0.95) -> Rate:
    low, high = clopper_pearson(errors, n, confidence)
    return Rate(errors, n, low, high, confidence)


def rule_of_three(n: int) -> float:
    """The one-sided 95 % upper bound on a rate after 0 errors in ``n`` attempts (≈ 3 / n)."""
    return 1.0 - 0.05 ** (1.0 / n) if n else 1.0


def attempts_for_zero_error_claim(rate_bound: float, confidence: float = 0.95) -> int:
    """Attempts with 0 errors needed to claim the rate is below ``rate_bound`` (one-sided)."""
    return math.ceil(math.log(1.0 - confidence) / math.log(1.0 - rate_bound))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def match_errors(genuine: Sequence[float], impostor: Sequence[float], threshold: float) -> tuple[Rate, Rate]:
    """FNMR (genuine distances above ``threshold``) and FMR (impostor distances at or below it)."""
    fnmr = rate(sum(d > threshold for d in genuine), len(genuine))
    fmr = rate(sum(d <= threshold for d in impostor), len(impostor))
    return fnmr, fmr


def det_points(genuine: Sequence[float], impostor: Sequence[float]) -> list[tuple[float, float, float]]:
    """(threshold, FMR, FNMR) at every distinct distance: the points of the DET curve."""
    thresholds = sorted(set(genuine) | set(impostor))
    points = []
    for t in thresholds:
        fmr = sum(d <= t for d in impostor) / len(impostor) if impostor else math.nan
        fnmr = sum(d > t for d in genuine) / len(genuine) if genuine else math.nan
        points.append((t, fmr, fnmr))
    return points
