"""Interval arithmetic of the pilot report against known values."""

from __future__ import annotations

import math

import pytest

from pensioncert.evaluation.pilot.stats import (
    attempts_for_zero_error_claim,
    clopper_pearson,
    det_points,
    match_errors,
    percentile,
    rate,
    rule_of_three,
)


@pytest.mark.parametrize(("errors", "n", "low", "high"), [
    # Published exact intervals (e.g. Clopper & Pearson 1934 tables; R binom.test(k, n)$conf.int).
    (5, 10, 0.187086, 0.812914),
    (1, 100, 0.000253, 0.054460),
    (0, 10, 0.0, 0.308497),
    (10, 10, 0.691503, 1.0),
])
def test_clopper_pearson_matches_published_intervals(errors: int, n: int, low: float, high: float) -> None:
    got_low, got_high = clopper_pearson(errors, n)
    assert got_low == pytest.approx(low, abs=2e-6)
    assert got_high == pytest.approx(high, abs=2e-6)


def _binomial_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


@pytest.mark.parametrize(("errors", "n"), [(3, 20), (1, 100), (7, 50), (0, 30), (29, 30)])
def test_bounds_solve_the_defining_binomial_equations(errors: int, n: int) -> None:
    # Independent of the Beta quantile: P(X >= k | low) = alpha/2 and P(X <= k | high) = alpha/2.
    low, high = clopper_pearson(errors, n)
    if errors > 0:
        assert 1 - _binomial_cdf(errors - 1, n, low) == pytest.approx(0.025, abs=1e-9)
    if errors < n:
        assert _binomial_cdf(errors, n, high) == pytest.approx(0.025, abs=1e-9)


def test_zero_errors_have_the_closed_form_upper_bound() -> None:
    # For k = 0 the exact upper bound is 1 - (alpha/2)^(1/n).
    for n in (1, 7, 300, 1000):
        assert clopper_pearson(0, n)[1] == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-9)


def test_rule_of_three_and_sample_size() -> None:
    assert rule_of_three(1000) == pytest.approx(0.002991, abs=1e-6)  # "< 0.3 % at 95 %"
    assert rule_of_three(1000) < 3 / 1000
    assert attempts_for_zero_error_claim(0.003) == 998
    assert attempts_for_zero_error_claim(0.01) == 299


def test_rate_and_bad_counts() -> None:
    r = rate(2, 8)
    assert r.value == 0.25 and r.low < 0.25 < r.high
    assert rate(0, 0).as_dict()["rate"] is None
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


def test_match_errors_and_det_points() -> None:
    genuine = [0.2, 0.3, 0.5]
    impostor = [0.45, 0.7, 0.9]
    fnmr, fmr = match_errors(genuine, impostor, 0.48)
    assert (fnmr.errors, fnmr.n, fmr.errors, fmr.n) == (1, 3, 1, 3)
    points = det_points(genuine, impostor)
    assert points[0] == (0.2, 0.0, pytest.approx(2 / 3))
    assert points[-1] == (0.9, 1.0, 0.0)
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5 and math.isnan(percentile([], 50))
