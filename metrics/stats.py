"""Statistics as pure functions (numpy in, numpy out), following the NHS reference implementations.

* Confidence intervals, funnel limits and the slope index of inequality follow OHID Fingertips as coded in
  PHEindicatormethods (``phe_proportion``, ``phe_rate``, ``phe_funnels`` / ``calculate_funnel_limits``,
  ``phe_funnel_significance``, ``phe_sii``).
* XmR charts follow NHS England's Making Data Count as coded in NHSRplotthedots (``ptd_spc``).

Written from the published methods in numpy/scipy (not a wrapper round the GPL packages) so the project
can stay permissively licensed; tests/test_stats.py checks every function against the packages' own
published test values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special
from scipy import stats as sps

Triple = tuple[np.ndarray, np.ndarray, np.ndarray]

# Making Data Count constants, as in NHSRplotthedots' ptd_spc_standard().
XMR_LIMIT = 2.66                      # 3 sigma expressed in mean moving ranges
XMR_NEAR_LIMIT = 2 * (XMR_LIMIT / 3)  # two-thirds of the way to a limit (2 sigma)
MR_SCREEN = 3.267                     # moving ranges at or above 3.267 x their mean are screened out once
RUN_LENGTH = 7                        # points in a trend or a shift
SHORT_GROUP = 13                      # fewer points than this: limits are only trial limits


# --- confidence levels ------------------------------------------------------------------------------------

def _confidence(confidence: float) -> float:
    """0.95 or 95 -> 0.95; PHEindicatormethods accepts 0.9-1 or 90-100 and nothing else."""
    level = confidence / 100 if confidence >= 90 else confidence
    if not 0.9 <= level < 1:
        raise ValueError(f"confidence must be between 0.9 and 1 (or 90 and 100), got {confidence!r}")
    return float(level)


def _z(confidence: float) -> float:
    return float(sps.norm.ppf(0.5 + _confidence(confidence) / 2))


def _scalar_or_array(values: np.ndarray) -> np.ndarray:
    """0-d in, 0-d out: keeps ``float(result)`` working for scalar callers."""
    return values[()] if values.ndim == 0 else values


# --- proportions and rates ---------------------------------------------------------------------------------

def proportion_ci(numerator: ArrayLike, denominator: ArrayLike, confidence: float = 0.95,
                  multiplier: float = 1.0) -> Triple:
    """Proportion and Wilson score limits (no continuity correction), as ``phe_proportion``.

    NaN for a missing or non-positive denominator or a missing numerator; a negative numerator or one
    above its denominator is an error, because it is not a proportion.

    >>> [round(float(v), 8) for v in proportion_ci(65, 100, 99.8)]
    [0.65, 0.49549466, 0.77835406]
    """
    x = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    if np.any(x < 0) or np.any((x > n) & (n > 0)):
        raise ValueError("proportion numerators must be between 0 and their denominator")
    z = _z(confidence)
    bad = ~(n > 0) | np.isnan(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        lower = (2 * x + z**2 - spread) / 2 / (n + z**2)
        upper = (2 * x + z**2 + spread) / 2 / (n + z**2)
        value = x / n
    return tuple(_scalar_or_array(np.where(bad, np.nan, a * multiplier)) for a in (value, lower, upper))


def _poisson_count_limits(count: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Limits for a count: exact (chi-square) below 10 events, Byar's method from 10, as ``phe_rate``."""
    level, z = _confidence(confidence), _z(confidence)
    alpha = 1 - level
    x = np.where(np.isnan(count), 0.0, count)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact_lower = np.where(x > 0, sps.chi2.ppf(alpha / 2, 2 * x) / 2, 0.0)
        exact_upper = sps.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
        byar_lower = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        byar_upper = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    small = x < 10
    return np.where(small, exact_lower, byar_lower), np.where(small, exact_upper, byar_upper)


def rate_ci(count: ArrayLike, denominator: ArrayLike, confidence: float = 0.95,
            multiplier: float = 100_000) -> Triple:
    """Crude rate with exact Poisson limits below 10 events and Byar's method from 10, as ``phe_rate``.

    The count may exceed the denominator (a rate, not a proportion). NaN for a missing count or a missing
    or non-positive denominator; a negative count is an error.

    >>> [round(float(v), 9) for v in rate_ci(10, 20, multiplier=1)]
    [0.5, 0.239372496, 0.91957293]
    """
    x = np.asarray(count, dtype=float)
    n = np.asarray(denominator, dtype=float)
    if np.any(x < 0):
        raise ValueError("rate counts must be zero or more")
    lower, upper = _poisson_count_limits(x, confidence)
    bad = ~(n > 0) | np.isnan(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        triple = (x / n, lower / n, upper / n)
    return tuple(_scalar_or_array(np.where(bad, np.nan, a * multiplier)) for a in triple)


def value_ci(unit: str, numerator: ArrayLike, denominator: ArrayLike,
             confidence: float = 0.95) -> Triple:
    """Value and limits on the metric's own scale: percent (Wilson) or per 100,000 (exact / Byar's)."""
    if unit == "percent":
        return proportion_ci(numerator, denominator, confidence, multiplier=100.0)
    return rate_ci(numerator, denominator, confidence, multiplier=100_000.0)


def compare_to_benchmark(lower: ArrayLike, upper: ArrayLike, benchmark: ArrayLike,
                         polarity: str) -> np.ndarray:
    """Fingertips-style comparison: 'better', 'worse', 'similar' (CI overlaps) or 'higher'/'lower'.

    An area differs significantly when its confidence interval excludes the benchmark value.

    >>> compare_to_benchmark([60, 40], [70, 50], 52, "higher_is_better").tolist()
    ['better', 'worse']
    """
    lo, hi, bench = (np.asarray(a, dtype=float) for a in (lower, upper, benchmark))
    above, below = lo > bench, hi < bench
    if polarity == "neutral":
        return np.select([above, below], ["higher", "lower"], "similar")
    good_high = polarity == "higher_is_better"
    return np.select([above, below], ["better" if good_high else "worse", "worse" if good_high else "better"],
                     "similar")


# --- funnel plots ------------------------------------------------------------------------------------------

_FUNNEL_LEVELS = (("95", 0.975), ("998", 0.999))


def _proportion_funnel(p: float, population: np.ndarray, average: float, side: str) -> np.ndarray:
    """PHEindicatormethods' ``sigma_adjustment``: Wilson-type control limit for a proportion."""
    q2 = sps.norm.ppf(p) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        first = average * (population / q2 + 1)
        adj = np.sqrt((-8 * average * (population / q2 + 1)) ** 2 - 64 * (1 / q2 + 1 / population) * average
                      * (population * (average * (population / q2 + 2) - 1) + q2 * (average - 1)))
        last = 1 / q2 + 1 / population
        limit = (first - adj / 8) / last if side == "low" else (first + adj / 8) / last
        return limit / population


def _events_at(expected: float, p: float, side: str) -> float:
    """Observed events O on a rate funnel's edge where the population's expected count is ``expected``.

    PHEindicatormethods draws rate funnels point by point over event counts O, placing O at the population
    whose expected count is O's exact Poisson limit (``poisson_funnel``): the upper limit of O for the low
    funnel, the lower limit for the high one. Here that relation is inverted for a given population, with
    the chi-square form of the Poisson limits, which is continuous in O.
    """
    if side == "low":   # expected = upper exact limit of O = gammaincinv(O + 1, p)
        if expected <= special.gammaincinv(1.0, p):
            return 0.0
        target = lambda o: special.gammaincinv(o + 1, p) - expected  # noqa: E731
    else:               # expected = lower exact limit of O = gammaincinv(O, 1 - p)
        if expected <= 0:
            return 0.0
        target = lambda o: special.gammaincinv(o, 1 - p) - expected  # noqa: E731
    top = expected + 20 * np.sqrt(expected) + 50
    return float(optimize.brentq(target, 1e-12, top, xtol=1e-12, rtol=1e-14))


def _rate_funnel(p: float, population: np.ndarray, rate: float, side: str) -> np.ndarray:
    out = np.full(population.shape, np.nan)
    for i, n in np.ndenumerate(population):
        if n > 0:
            out[i] = _events_at(rate * n, p, side) / n
    return out


def funnel_limits(denominator: ArrayLike, average: float, statistic: str = "proportion",
                  multiplier: float = 1.0) -> dict[str, np.ndarray]:
    """95% and 99.8% funnel limits around ``average`` at each denominator, as PHEindicatormethods.

    ``average`` is a proportion on the 0-1 scale (``statistic="proportion"``) or a rate per ``multiplier``
    (``statistic="rate"``); limits come back on the multiplier scale. Proportion limits use the Wilson-type
    ``sigma_adjustment`` and are capped at 0 and at 100% of the multiplier scale; rate limits use exact
    Poisson limits (``poisson_funnel``) at every count. NaN where the denominator is missing or not positive.

    >>> limits = funnel_limits(1008, 0.80642448, multiplier=100)
    >>> [round(float(limits[k]), 4) for k in ("lower_95", "upper_95", "lower_998", "upper_998")]
    [78.2034, 83.0815, 76.7968, 84.4881]
    """
    n = np.atleast_1d(np.asarray(denominator, dtype=float))
    n = np.where(n > 0, n, np.nan)
    out: dict[str, np.ndarray] = {}
    for name, p in _FUNNEL_LEVELS:
        if statistic == "proportion":
            low = np.clip(_proportion_funnel(p, n, average, "low"), 0.0, None) * multiplier
            high = np.clip(_proportion_funnel(p, n, average, "high") * multiplier, None, multiplier)
        elif statistic == "rate":
            rate = average / multiplier
            low = _rate_funnel(p, n, rate, "low") * multiplier
            high = _rate_funnel(p, n, rate, "high") * multiplier
        else:
            raise ValueError(f"statistic must be 'proportion' or 'rate', got {statistic!r}")
        shape = np.shape(denominator)
        out[f"lower_{name}"], out[f"upper_{name}"] = low.reshape(shape), high.reshape(shape)
    return out


def funnel_significance(numerator: ArrayLike, denominator: ArrayLike, statistic: str = "proportion",
                        multiplier: float = 1.0) -> list[str]:
    """Each unit against the pooled average, as ``phe_funnel_significance``.

    Labels are ``high_998``, ``high_95``, ``low_95``, ``low_998`` or ``not_significant``; a unit with a
    missing numerator or a missing or non-positive denominator is left out of the average and labelled
    ``not_applicable``. Proportions compare x/n with the ``sigma_adjustment`` limits; crude rates compare
    the pooled rate with each unit's exact (under 10 events) or Byar's limits. The labels do not depend
    on ``multiplier``, which is accepted for symmetry with :func:`funnel_limits`.

    >>> funnel_significance([10, 500, 990], [1000, 1000, 1000])
    ['low_998', 'not_significant', 'high_998']
    """
    x = np.atleast_1d(np.asarray(numerator, dtype=float))
    n = np.atleast_1d(np.asarray(denominator, dtype=float))
    if np.any(x < 0):
        raise ValueError("funnel numerators must be zero or more")
    valid = ~np.isnan(x) & (n > 0)
    average = x[valid].sum() / n[valid].sum()
    if statistic == "proportion":
        if np.any(x[valid] > n[valid]):
            raise ValueError("proportion numerators must not exceed their denominator")
        labels = _proportion_labels(x, n, average)
    elif statistic == "rate":
        labels = _rate_labels(x, n, average)
    else:
        raise ValueError(f"statistic must be 'proportion' or 'rate', got {statistic!r}")
    return [str(label) if ok else "not_applicable" for label, ok in zip(labels, valid)]


def _proportion_labels(x: np.ndarray, n: np.ndarray, average: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        bounds = {(side, p_level): _proportion_funnel(p_level, n, average, side)
                  for side in ("low", "high") for p_level in (0.975, 0.999)}
    return np.select(
        [p < bounds["low", 0.999], p < bounds["low", 0.975], p > bounds["high", 0.999], p > bounds["high", 0.975]],
        ["low_998", "low_95", "high_998", "high_95"], "not_significant")


def _rate_labels(x: np.ndarray, n: np.ndarray, average: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        lower_998, upper_998 = (limit / n for limit in _poisson_count_limits(x, 0.998))
        lower_95, upper_95 = (limit / n for limit in _poisson_count_limits(x, 0.95))
    return np.select(
        [average < lower_998, average < lower_95, average > upper_998, average > upper_95],
        ["high_998", "high_95", "low_998", "low_95"], "not_significant")


# --- XmR (Making Data Count) ------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class XmrResult:
    """An XmR chart: per-point arrays plus the chart's icons.

    ``rule`` names the rule that flagged each point (``outside_limits``, ``trend``, ``two_of_three``,
    ``shift`` or ``""``), taking the first in that order; ``group`` numbers the rebased segments.
    """

    mean: np.ndarray
    lower_limit: np.ndarray
    upper_limit: np.ndarray
    point_type: np.ndarray
    rule: np.ndarray
    group: np.ndarray
    variation: str
    assurance: str | None
    short_group_warning: bool


def _group_limits(y: np.ndarray, screen_outliers: bool) -> tuple[float, float]:
    """Mean and mean moving range of one group; moving ranges next to a missing value are missing."""
    mean = float(np.nanmean(y)) if np.any(~np.isnan(y)) else np.nan
    mr = np.abs(np.diff(y))
    if not np.any(~np.isnan(mr)):
        return mean, np.nan
    amr = np.nanmean(mr)
    if screen_outliers:
        mr = np.where(mr < MR_SCREEN * amr, mr, np.nan)
        amr = np.nanmean(mr) if np.any(~np.isnan(mr)) else np.nan
    return mean, float(amr)


def _run_ends(flags: np.ndarray, width: int = RUN_LENGTH) -> np.ndarray:
    """True where ``flags`` holds there and at the ``width - 1`` places before it."""
    out = np.zeros(len(flags), dtype=bool)
    for i in range(width - 1, len(flags)):
        out[i] = bool(np.all(flags[i - width + 1:i + 1]))
    return out


def _part_of_run(ends: np.ndarray) -> np.ndarray:
    """Points in a run: the run's last point and the RUN_LENGTH - 1 before it (ptd_part_of_seven_trend)."""
    out = np.zeros(len(ends), dtype=bool)
    for i in np.flatnonzero(ends):
        out[i - RUN_LENGTH + 1:i + 1] = True
    return out


def _shift_points(side: np.ndarray) -> np.ndarray:
    """Seven or more consecutive points on one side of the mean; a point on the mean breaks the run."""
    return _part_of_run(_run_ends(side > 0) | _run_ends(side < 0))


def _trend_points(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seven or more points each strictly above (or below) the one before; returns flags and direction."""
    step = np.sign(np.diff(y))
    step = np.where(np.isnan(step), 0.0, step)  # a missing value breaks a trend
    # seven points make six steps: a run of six same-signed steps ends at the point after the last step
    ends = np.concatenate([[False], _run_ends(step > 0, RUN_LENGTH - 1) | _run_ends(step < 0, RUN_LENGTH - 1)])
    part = _part_of_run(ends)
    # direction of each trend point: the step to its right while the trend continues, else the step into it
    right = np.concatenate([step, step[-1:]]) if len(step) else np.zeros(len(y))
    left = np.concatenate([[0.0], step])
    continues = part & np.concatenate([part[1:], [False]])
    return part, np.where(continues, right, left)


def _two_of_three_points(close: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Points near a limit that are 2 of 3 consecutive near-limit points, all three on one side."""
    flagged = np.zeros(len(close), dtype=bool)
    for start in range(len(close) - 2):
        window = slice(start, start + 3)
        if close[window].sum() >= 2 and abs(side[window].sum()) == 3:
            flagged[window] = True
    return flagged & close


def _special_cause(y: np.ndarray, mean: float, amr: float) -> tuple[np.ndarray, np.ndarray]:
    """Per point: the rule that flags it (precedence outside > trend > 2-of-3 > shift) and its direction."""
    observed = ~np.isnan(y)
    side = np.where(observed, np.sign(np.where(observed, y, mean) - mean), 0.0)
    lower, upper = mean - XMR_LIMIT * amr, mean + XMR_LIMIT * amr
    outside = observed & ((y > upper) | (y < lower))
    near_low, near_high = mean - XMR_NEAR_LIMIT * amr, mean + XMR_NEAR_LIMIT * amr
    close = observed & ~outside & ((y < near_low) | (y > near_high))
    trend, trend_direction = _trend_points(y)
    two_of_three = _two_of_three_points(close, side)
    shift = _shift_points(side)
    rule = np.select([outside, trend, two_of_three, shift], ["outside_limits", "trend", "two_of_three", "shift"], "")
    direction = np.where(rule == "trend", trend_direction, np.where(rule == "", 0.0, np.where(side > 0, 1.0, -1.0)))
    return rule, direction


def _point_type(direction: np.ndarray, improvement: str) -> np.ndarray:
    """NHSRplotthedots' ``ptd_point_type``: orient each special cause by the improvement direction."""
    if improvement == "neutral":
        return np.select([direction > 0, direction < 0],
                         ["special_cause_neutral_high", "special_cause_neutral_low"], "common_cause")
    oriented = direction * (1 if improvement == "increase" else -1)
    return np.select([oriented > 0, oriented < 0],
                     ["special_cause_improvement", "special_cause_concern"], "common_cause")


def variation_icon(point_type: str, improvement: str) -> str:
    """The Making Data Count variation icon for a chart whose last point has ``point_type``.

    >>> variation_icon("special_cause_concern", "increase")
    'concern_low'
    """
    high = improvement == "increase"
    return {
        "common_cause": "common_cause",
        "special_cause_improvement": "improvement_high" if high else "improvement_low",
        "special_cause_concern": "concern_low" if high else "concern_high",
        "special_cause_neutral_high": "neutral_high",
        "special_cause_neutral_low": "neutral_low",
    }[point_type]


def assurance_icon(target: float | None, lower_limit: float, upper_limit: float, improvement: str) -> str | None:
    """Whether the process will meet ``target``: a target strictly outside the limits is a consistent result.

    As NHSRplotthedots' ``ptd_calculate_assurance_type``; None without a target or for a neutral direction.

    >>> assurance_icon(4, 1, 3, "increase")
    'consistent_fail'
    """
    if target is None or improvement == "neutral" or np.isnan(target):
        return None
    increasing = improvement == "increase"
    if target > upper_limit:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < lower_limit:
        return "consistent_pass" if increasing else "consistent_fail"
    return "inconsistent"


def _groups(length: int, rebase_at: ArrayLike | None) -> np.ndarray:
    starts = sorted({int(i) for i in np.atleast_1d(rebase_at if rebase_at is not None else [])})
    if any(not 0 < i < length for i in starts):
        raise ValueError(f"rebase_at positions must be between 1 and {length - 1}, got {starts}")
    group = np.zeros(length, dtype=int)
    for start in starts:
        group[start:] += 1
    return group


def xmr(values: ArrayLike, improvement: str = "increase", target: float | None = None,
        screen_outliers: bool = True, rebase_at: ArrayLike | None = None) -> XmrResult:
    """XmR chart with Making Data Count rules, as NHSRplotthedots' ``ptd_spc``.

    Limits are the mean +/- 2.66 mean moving ranges (moving ranges at or above 3.267 times their mean
    screened out once). A point is special cause if outside the limits, in a run of 7 strictly rising or
    falling points, one of 2 of 3 consecutive points beyond two-thirds of the way to a limit with all three
    on the same side of the mean, or in a run of 7 on one side of the mean (a point on the mean breaks it).
    Improvement or concern follows the side of the mean, or a trend's direction. ``rebase_at`` lists the
    positions that start new groups; limits and runs never cross a break. Missing values (NaN) are left
    out of the mean, break moving ranges and runs, and are labelled common cause; the variation icon
    comes from the last observed point.

    Two points near opposite limits are not a 2-of-3 signal (NHSRplotthedots' own test):

    >>> result = xmr([1, -1] * 7 + [5.5, -5.5])
    >>> result.point_type[-2:].tolist(), result.variation, result.short_group_warning
    (['common_cause', 'common_cause'], 'common_cause', False)
    """
    if improvement not in ("increase", "decrease", "neutral"):
        raise ValueError(f"improvement must be 'increase', 'decrease' or 'neutral', got {improvement!r}")
    y = np.asarray(values, dtype=float).ravel()
    group = _groups(len(y), rebase_at)
    mean, lower, upper = (np.full(len(y), np.nan) for _ in range(3))
    rule = np.full(len(y), "", dtype=object)
    direction = np.zeros(len(y))
    short = False
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        centre, amr = _group_limits(y[idx], screen_outliers)
        mean[idx], lower[idx], upper[idx] = centre, centre - XMR_LIMIT * amr, centre + XMR_LIMIT * amr
        rule[idx], direction[idx] = _special_cause(y[idx], centre, amr)
        short |= int(np.sum(~np.isnan(y[idx]))) < SHORT_GROUP
    point_type = _point_type(direction, improvement)
    observed = np.flatnonzero(~np.isnan(y))
    last = point_type[observed[-1]] if len(observed) else "common_cause"
    return XmrResult(mean=mean, lower_limit=lower, upper_limit=upper, point_type=point_type,
                     rule=rule.astype(str), group=group, variation=variation_icon(str(last), improvement),
                     assurance=assurance_icon(target, lower[-1], upper[-1], improvement) if len(y) else None,
                     short_group_warning=bool(short))


# --- slope index of inequality -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SiiResult:
    """Slope and relative index of inequality with simulated confidence limits."""

    sii: float
    sii_lower: float
    sii_upper: float
    rii: float
    rii_lower: float
    rii_upper: float


_TRANSFORMS = {
    "normal": (lambda v: v, lambda v: v),
    "rate": (np.log, np.exp),
    "proportion": (lambda v: np.log(v / (1 - v)), lambda v: np.exp(v) / (1 + np.exp(v))),
}


def _sii_inputs(values, standard_errors, lower, upper, value_type: str, scale: float):
    """Values on the natural scale, transformed values and their standard errors (``phe_sii``)."""
    if value_type not in _TRANSFORMS:
        raise ValueError(f"value_type must be 'normal', 'rate' or 'proportion', got {value_type!r}")
    forward, _ = _TRANSFORMS[value_type]
    value = np.asarray(values, dtype=float) / scale
    if value_type == "proportion" and np.any((value <= 0) | (value >= 1)):
        raise ValueError("proportions for the SII must lie strictly between 0 and the multiplier")
    if value_type == "rate" and np.any(value <= 0):
        raise ValueError("rates for the SII must be positive")
    if standard_errors is not None:
        se = np.asarray(standard_errors, dtype=float)
    elif lower is not None and upper is not None:
        lo, hi = np.asarray(lower, dtype=float) / scale, np.asarray(upper, dtype=float) / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            se = (forward(hi) - forward(lo)) / sps.norm.ppf(0.975) / 2  # limits are always 95% ones
    else:
        raise ValueError("slope_index_of_inequality needs standard_errors, or lower and upper 95% limits")
    return value, forward(value), se


def slope_index_of_inequality(values: ArrayLike, populations: ArrayLike, standard_errors: ArrayLike | None = None,
                              lower: ArrayLike | None = None, upper: ArrayLike | None = None,
                              value_type: str = "normal", confidence: float = 0.95, multiplier: float = 1.0,
                              repetitions: int = 100_000, seed: int = 20_240_101) -> SiiResult:
    """Slope and relative index of inequality, as ``phe_sii`` (Low & Low 2004).

    Quantiles come most deprived first. Each is placed at the midpoint of its share of the cumulative
    population and the values are regressed on those ranks, weighted by population share (the square-root
    transformation of ``phe_sii``); SII is the slope and RII = (intercept + slope) / intercept. Confidence
    limits come from ``repetitions`` Monte-Carlo draws of each quantile's value from a normal distribution
    with its standard error (given, or from its 95% limits), on the log scale for rates and logit scale for
    proportions, from a generator seeded with ``seed`` so results repeat. Values and limits are on the
    scale of ``|multiplier|`` (e.g. percentages with multiplier 100) and SII comes back on that scale; a
    negative multiplier flips the SII and inverts the RII, as in ``phe_sii``. All NaN if any input is.

    Values exactly on a line through the quantiles' mid-ranks (59 + 10 x rank) have SII 10, RII 69/59:

    >>> r = slope_index_of_inequality([60, 62, 64, 66, 68], [100] * 5, standard_errors=[1] * 5)
    >>> round(r.sii, 6), round(r.rii, 6), r.sii_lower < 10 < r.sii_upper
    (10.0, 1.169492, True)
    """
    scale = abs(multiplier)
    pop = np.asarray(populations, dtype=float)
    value, transformed, se = _sii_inputs(values, standard_errors, lower, upper, value_type, scale)
    if np.any(np.isnan(np.concatenate([value, pop, se]))):
        return SiiResult(*([np.nan] * 6))
    if not 5 <= len(value) <= 100 or len(pop) != len(value) or len(se) != len(value):
        raise ValueError("the SII needs 5 to 100 quantiles, each with a value, population and standard error")
    if np.any(pop <= 0) or np.any(se < 0):
        raise ValueError("SII populations must be positive and standard errors not negative")
    share = pop / pop.sum()
    rank = np.cumsum(share) - share / 2
    design = np.column_stack([np.sqrt(share), rank * np.sqrt(share)])
    solve = np.linalg.solve(design.T @ design, design.T)   # least-squares operator (X'X)^-1 X'
    intercept, slope = solve @ (value * np.sqrt(share))
    draws = np.random.default_rng(seed).normal(transformed, se, size=(repetitions, len(value)))
    params = (_TRANSFORMS[value_type][1](draws) * np.sqrt(share)) @ solve.T
    sii_draws, rii_draws = params[:, 1] * multiplier, (params[:, 0] + params[:, 1]) / params[:, 0]
    rii = (intercept + slope) / intercept
    if multiplier < 0:
        rii, rii_draws = 1 / rii, 1 / rii_draws
    low, high = _simulation_positions(repetitions, confidence)
    sii_sorted, rii_sorted = np.sort(sii_draws), np.sort(rii_draws)
    return SiiResult(float(slope * multiplier), float(sii_sorted[low]), float(sii_sorted[high]),
                     float(rii), float(rii_sorted[low]), float(rii_sorted[high]))


def _simulation_positions(repetitions: int, confidence: float) -> tuple[int, int]:
    """0-based order statistics ``phe_sii`` reads its limits from (round(reps * tail), 1-based in R)."""
    upper_tail = _confidence(confidence) + (1 - _confidence(confidence)) / 2
    return int(np.rint(repetitions * (1 - upper_tail))) - 1, int(np.rint(repetitions * upper_tail)) - 1
