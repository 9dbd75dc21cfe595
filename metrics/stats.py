"""Statistics as pure functions (numpy in, numpy out): confidence intervals and significance.

Methods follow OHID Fingertips / PHEindicatormethods: Wilson score intervals for proportions
(``phe_proportion``) and exact Poisson / Byar's intervals for rates (``phe_rate``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps


def _z(confidence: float) -> float:
    confidence = confidence / 100 if confidence > 1 else confidence
    return float(sps.norm.ppf(1 - (1 - confidence) / 2))


def _alpha(confidence: float) -> float:
    confidence = confidence / 100 if confidence > 1 else confidence
    return 1 - confidence


def proportion_ci(numerator: ArrayLike, denominator: ArrayLike, confidence: float = 0.95,
                  multiplier: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value and Wilson score limits, as PHEindicatormethods ``phe_proportion``.

    >>> [round(float(v), 6) for v in proportion_ci(65, 100)]
    [0.65, 0.552544, 0.736358]
    """
    x = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.clip(x / n, 0.0, 1.0)
        centre = 2 * x + z**2
        spread = z * np.sqrt(z**2 + 4 * x * (1 - p))
        lower = (centre - spread) / (2 * (n + z**2))
        upper = (centre + spread) / (2 * (n + z**2))
        bad = ~(n > 0)
    return tuple(np.where(bad, np.nan, a * multiplier) for a in (x / np.where(n > 0, n, np.nan), lower, upper))


def rate_ci(count: ArrayLike, denominator: ArrayLike, confidence: float = 0.95,
            multiplier: float = 100_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crude rate with exact Poisson limits below 10 events and Byar's method from 10, as ``phe_rate``.

    >>> [round(float(v), 4) for v in rate_ci(65, 100_000)]
    [65.0, 50.1632, 82.8491]
    """
    x = np.asarray(count, dtype=float)
    n = np.asarray(denominator, dtype=float)
    z = _z(confidence)
    alpha = _alpha(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact_lower = np.where(x > 0, sps.chi2.ppf(alpha / 2, 2 * x) / 2, 0.0)
        exact_upper = sps.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
        byar_lower = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        byar_upper = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
        small = x < 10
        lower = np.where(small, exact_lower, byar_lower) / n * multiplier
        upper = np.where(small, exact_upper, byar_upper) / n * multiplier
        value = x / n * multiplier
        bad = ~(n > 0) | np.isnan(x)
    return tuple(np.where(bad, np.nan, a) for a in (value, lower, upper))


def value_ci(unit: str, numerator: ArrayLike, denominator: ArrayLike,
             confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value and limits on the metric's own scale: percent (Wilson) or per 100,000 (Byar)."""
    if unit == "percent":
        return proportion_ci(numerator, denominator, confidence, multiplier=100.0)
    return rate_ci(numerator, denominator, confidence, multiplier=100_000.0)


def compare_to_benchmark(lower: ArrayLike, upper: ArrayLike, benchmark: ArrayLike,
                         polarity: str) -> np.ndarray:
    """Fingertips-style comparison: 'better', 'worse', 'similar' (CI overlaps) or 'higher'/'lower'.

    An area differs significantly when its confidence interval excludes the benchmark value.
    """
    lo, hi, bench = (np.asarray(a, dtype=float) for a in (lower, upper, benchmark))
    above, below = lo > bench, hi < bench
    if polarity == "neutral":
        return np.select([above, below], ["higher", "lower"], "similar")
    good_high = polarity == "higher_is_better"
    return np.select([above, below], ["better" if good_high else "worse", "worse" if good_high else "better"],
                     "similar")
