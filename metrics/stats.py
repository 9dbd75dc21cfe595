"""Statistics as pure functions (numpy in, numpy out), following the NHS reference implementations.

* Confidence intervals, funnel limits and the slope index of inequality follow OHID Fingertips as coded in
  PHEindicatormethods (``phe_proportion``, ``phe_rate``, ``phe_funnels`` / ``calculate_funnel_limits``,
  ``phe_funnel_significance``, ``phe_sii``).
* Directly standardised rates (Dobson limits, with the Fingertips adjustment for non-independent events) and
  indirectly standardised ratios and rates follow PHEindicatormethods (``calculate_dsr``,
  ``calculate_ISRatio``, ``calculate_ISRate``).
* Overdispersion (phi, tau2) and overdispersion-adjusted funnel limits follow NHS-R FunnelPlotR
  (Spiegelhalter 2005; the SHMI log / truncation method for ratios, arcsine / Winsorisation for proportions).
* XmR charts follow NHS England's Making Data Count as coded in NHSRplotthedots (``ptd_spc``).

Written from the published methods in numpy/scipy (not a wrapper round the GPL packages) so the project
can stay permissively licensed; tests/test_stats.py, tests/test_stats_standardised.py and
tests/test_stats_overdispersion.py check every function against the packages' own published test values.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special
from scipy import stats as sps

from metrics.catalogue import UNITS

Triple = tuple[np.ndarray, np.ndarray, np.ndarray]

# Making Data Count constants, as in NHSRplotthedots' ptd_spc_standard().
XMR_LIMIT = 2.66                      # 3 sigma expressed in mean moving ranges
XMR_NEAR_LIMIT = 2 * (XMR_LIMIT / 3)  # two-thirds of the way to a limit (2 sigma)
MR_SCREEN = 3.267                     # moving ranges at or above 3.267 x their mean are screened out once
RUN_LENGTH = 7                        # points in a trend or a shift
SHORT_GROUP = 13                      # fewer points than this: limits are only trial limits

ESP2013_CSV = Path(__file__).resolve().parent.parent / "data/reference/european_standard_population_2013.csv"


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
    """Value and limits on the metric's own scale, by the catalogue's unit: Wilson for proportions (percent),
    exact / Byar's for rates (per 100,000, per 1,000), times the unit's multiplier. Read from the unit's one
    definition so a new unit cannot be given another unit's scale."""
    spec = UNITS[unit]
    if spec.statistic == "proportion":
        return proportion_ci(numerator, denominator, confidence, multiplier=spec.multiplier)
    return rate_ci(numerator, denominator, confidence, multiplier=spec.multiplier)


def compare_to_benchmark(lower: ArrayLike, upper: ArrayLike, benchmark: ArrayLike,
                         polarity: str) -> np.ndarray:
    """Fingertips-style comparison: 'better', 'worse', 'similar' (CI overlaps) or 'higher'/'lower', and
    'not_compared' where there is nothing to compare.

    An area differs significantly when its confidence interval excludes the benchmark value. A missing
    (NaN) or suppressed value has no interval, and a missing benchmark gives nothing to compare with: either
    is 'not_compared', never 'similar' (Fingertips shows such areas uncoloured, "not compared").

    >>> compare_to_benchmark([60, 40], [70, 50], 52, "higher_is_better").tolist()
    ['better', 'worse']
    >>> compare_to_benchmark([float("nan"), 45], [float("nan"), 55], 52, "lower_is_better").tolist()
    ['not_compared', 'similar']
    >>> str(compare_to_benchmark(45, 55, None, "neutral"))
    'not_compared'
    """
    lo, hi, bench = (np.asarray(np.nan if a is None else a, dtype=float) for a in (lower, upper, benchmark))
    above, below = lo > bench, hi < bench
    missing = np.isnan(lo) | np.isnan(hi) | np.isnan(bench)
    if polarity == "neutral":
        high, low = "higher", "lower"
    else:
        good_high = polarity == "higher_is_better"
        high, low = ("better", "worse") if good_high else ("worse", "better")
    return np.select([missing, above, below], ["not_compared", high, low], "similar")


# --- standardised rates and ratios ------------------------------------------------------------------------

def european_standard_population_2013() -> np.ndarray:
    """The 2013 European Standard Population: 19 bands 0-4, 5-9, ..., 85-89 and 90+, 100,000 people in all.

    Read from ``data/reference/european_standard_population_2013.csv``: Eurostat's 2013 revision, the figures
    PHEindicatormethods ships as ``esp2013``.

    >>> esp = european_standard_population_2013()
    >>> len(esp), float(esp.sum()), float(esp[0]), float(esp[-1])
    (19, 100000.0, 5000.0, 1000.0)
    """
    with ESP2013_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    return np.array([float(row["standard_population"]) for row in rows])


def _numeric(name: str, values: ArrayLike, ndim: int = 1, length: int | None = None) -> np.ndarray:
    """``values`` as a float array of ``ndim`` dimensions (and ``length`` rows), or a ValueError naming it."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric") from None
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension{'s' if ndim > 1 else ''}, got shape {array.shape}")
    if length is not None and len(array) != length:
        raise ValueError(f"{name} must have one row per band ({length}), got {len(array)}")
    return array


def _positive_multiplier(multiplier: float) -> float:
    if not multiplier > 0:
        raise ValueError(f"multiplier must be greater than zero, got {multiplier!r}")
    return float(multiplier)


def directly_standardised_rate(counts: ArrayLike, populations: ArrayLike, standard_populations: ArrayLike,
                               confidence: float = 0.95, multiplier: float = 100_000,
                               event_frequencies: ArrayLike | None = None) -> tuple[float, float, float]:
    """Directly standardised rate with Dobson limits, as PHEindicatormethods' ``calculate_dsr``.

    DSR = sum(w x / n) / sum(w) over the bands (x events, n population, w standard population). Dobson's
    method moves Byar's limits for the total count O onto the DSR's scale: DSR + sqrt(V / O) (O_limit - O),
    V = sum(w^2 x / n^2) / sum(w)^2. Missing counts count as zero; with fewer than 10 events in all the value
    and limits are NaN (``calculate_dsr`` suppresses them). Populations must be positive, standard
    populations zero or more; ``confidence`` is 0.9-1 or 90-100 (e.g. 0.95, 0.998), as in the package.

    Non-independent events (``independent_events = FALSE`` with an ``eventfreq`` column): ``counts`` is a
    bands x frequencies table of the people in each band who had each of ``event_frequencies`` events. The
    rate counts f x people events; V becomes the sum over frequencies of f^2 times V of those people, so the
    rate is unchanged and the limits widen.

    PHEindicatormethods' test area "testdata_big" (testresults_DSR, per 100,000, 95%):

    >>> counts = [127, 25, 18, 21, 12, 27, 48, 27, 29, 32, 32, 34, 45, 65, 38, 68, 74, 82, 91]
    >>> people = [636, 558, 609, 543, 384, 594, 669, 843, 660, 576, 606, 522, 426, 273, 300, 288, 153, 123, 207]
    >>> [round(v, 6) for v in directly_standardised_rate(counts, people, european_standard_population_2013())]
    [10430.247991, 9717.709068, 11178.940915]
    """
    level, multiplier = _confidence(confidence), _positive_multiplier(multiplier)
    n = _numeric("populations", populations)
    w = _numeric("standard_populations", standard_populations, length=len(n))
    if event_frequencies is None:
        x = _numeric("counts", counts, length=len(n))
        freq = np.ones(1)
        people = x[:, None]
    else:
        people = _numeric("counts", counts, ndim=2, length=len(n))
        freq = _numeric("event_frequencies", event_frequencies)
        if people.shape[1] != len(freq):
            raise ValueError(f"counts must have one column per entry of event_frequencies ({len(freq)}), "
                             f"got {people.shape[1]}")
        if not np.all(np.isfinite(freq) & (freq > 0)):
            raise ValueError("event_frequencies must be positive numbers of events")
    if np.any(people < 0):
        raise ValueError("counts must be zero or more")
    if not np.all(n > 0):
        raise ValueError("populations must all be greater than zero (and not missing)")
    if not np.all(w >= 0):
        raise ValueError("standard_populations must all be zero or more (and not missing)")
    if not w.sum() > 0:
        raise ValueError("standard_populations must not all be zero")
    people = np.nan_to_num(people)
    events = people @ freq
    total = float(events.sum())
    if total < 10:
        return (np.nan, np.nan, np.nan)
    value = float(np.sum(events * w / n) / w.sum())
    variance = float(np.sum(people * ((w / n) ** 2)[:, None] * freq**2) / w.sum() ** 2)
    lower, upper = (float(limit) for limit in _poisson_count_limits(np.asarray(total), level))
    scale = float(np.sqrt(variance / total))
    return (value * multiplier, (value + scale * (lower - total)) * multiplier,
            (value + scale * (upper - total)) * multiplier)


def _observed_expected(counts: ArrayLike, populations: ArrayLike, reference_counts: ArrayLike,
                       reference_populations: ArrayLike) -> tuple[float, float, float]:
    """Observed events, events expected at the reference rates and the crude reference rate.

    As ``calculate_ISRatio`` / ``calculate_ISRate``: missing counts, populations and reference counts count as
    zero; ``counts`` may be per band or the area's observed total (a missing total gives NaN).
    """
    n = _numeric("populations", populations)
    ref_x = _numeric("reference_counts", reference_counts, length=len(n))
    ref_n = _numeric("reference_populations", reference_populations, length=len(n))
    x = np.asarray(counts, dtype=float) if np.ndim(counts) == 0 else _numeric("counts", counts, length=len(n))
    for name, values in (("counts", x), ("populations", n), ("reference_counts", ref_x)):
        if np.any(values < 0):
            raise ValueError(f"{name} must be zero or more")
    if not np.all(ref_n > 0):
        raise ValueError("reference_populations must all be greater than zero (and not missing)")
    observed = float(x) if x.ndim == 0 else float(np.nansum(x))
    expected = float(np.sum(np.nan_to_num(ref_x) / ref_n * np.nan_to_num(n)))
    return observed, expected, float(np.nansum(ref_x) / np.sum(ref_n))


def expected_events(populations: ArrayLike, reference_counts: ArrayLike, reference_populations: ArrayLike) -> float:
    """Events a population would have at the reference's band-specific rates: E of an indirectly standardised
    ratio (sum of n x_ref / n_ref, missing values as zero, as ``calculate_ISRatio``), which a standardised funnel
    plots O / E against.

    >>> expected_events([100, 50], [10, 40], [1000, 400])
    6.0
    """
    return _observed_expected(0.0, populations, reference_counts, reference_populations)[1]


def _standardised_triple(observed: float, expected: float, confidence: float,
                         scale: float) -> tuple[float, float, float]:
    """O / E x scale with exact Poisson limits on O below 10 events and Byar's from 10."""
    if np.isnan(observed) or not expected > 0:
        return (np.nan, np.nan, np.nan)
    lower, upper = _poisson_count_limits(np.asarray(observed), confidence)
    return observed / expected * scale, float(lower) / expected * scale, float(upper) / expected * scale


def indirectly_standardised_ratio(counts: ArrayLike, populations: ArrayLike, reference_counts: ArrayLike,
                                  reference_populations: ArrayLike, confidence: float = 0.95,
                                  multiplier: float = 100) -> tuple[float, float, float]:
    """Indirectly standardised ratio O / E x multiplier, as PHEindicatormethods' ``calculate_ISRatio``.

    E = sum(n x_ref / n_ref) over the bands; limits are exact Poisson limits on O below 10 events and Byar's
    from 10, divided by E. ``counts`` may be per band or the area's observed total (``observed_totals``).
    NaN when E is 0 or the observed total is missing.

    PHEindicatormethods' test area "testdata_big" against its reference data (testresults_ISR, x 100):

    >>> people = [636, 558, 609, 543, 384, 594, 669, 843, 660, 576, 606, 522, 426, 273, 300, 288, 153, 123, 207]
    >>> ref_x = [10303, 2824, 0, 3615, 3641, 3490, 3789, 3213, 3031, 2771, 3089, 3490, 3595, 4745, 5514, 7125,
    ...          5694, 6210, 5757]
    >>> ref_n = [50520, 57173, 60213, 54659, 44345, 50128, 62163, 67423, 62899, 55463, 60479, 49974, 44140,
    ...          40888, 37239, 30819, 18136, 15325, 13918]
    >>> [round(v, 6) for v in indirectly_standardised_ratio(895, people, ref_x, ref_n)]
    [107.072329, 100.171477, 114.323329]
    """
    level, multiplier = _confidence(confidence), _positive_multiplier(multiplier)
    observed, expected, _ = _observed_expected(counts, populations, reference_counts, reference_populations)
    return _standardised_triple(observed, expected, level, multiplier)


def indirectly_standardised_rate(counts: ArrayLike, populations: ArrayLike, reference_counts: ArrayLike,
                                 reference_populations: ArrayLike, confidence: float = 0.95,
                                 multiplier: float = 100_000) -> tuple[float, float, float]:
    """Indirectly standardised rate, as PHEindicatormethods' ``calculate_ISRate``.

    The ratio O / E (see :func:`indirectly_standardised_ratio`) times the crude reference rate
    sum(x_ref) / sum(n_ref) per ``multiplier``, with the ratio's exact (under 10 events) or Byar's limits.

    PHEindicatormethods' test area "testdata_tiny" (9 events, so exact limits; testresults_ISR, per 100,000):

    >>> people = [636, 558, 609, 543, 384, 594, 669, 843, 660, 576, 606, 522, 426, 273, 300, 288, 153, 123, 207]
    >>> ref_x = [10303, 2824, 0, 3615, 3641, 3490, 3789, 3213, 3031, 2771, 3089, 3490, 3595, 4745, 5514, 7125,
    ...          5694, 6210, 5757]
    >>> ref_n = [50520, 57173, 60213, 54659, 44345, 50128, 62163, 67423, 62899, 55463, 60479, 49974, 44140,
    ...          40888, 37239, 30819, 18136, 15325, 13918]
    >>> [round(v, 6) for v in indirectly_standardised_rate(9, people, ref_x, ref_n)]
    [100.670658, 46.033035, 191.104267]
    """
    level, multiplier = _confidence(confidence), _positive_multiplier(multiplier)
    observed, expected, reference_rate = _observed_expected(counts, populations, reference_counts,
                                                            reference_populations)
    return _standardised_triple(observed, expected, level, reference_rate * multiplier)


# --- funnel plots ------------------------------------------------------------------------------------------

_FUNNEL_LEVELS = (("95", 0.975), ("998", 0.999))
FUNNELPLOTR_Z = {0.975: 1.959964, 0.999: 3.090232}   # FunnelPlotR's normal quantiles, rounded as it codes them


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


def _ratio_funnel(p: float, expected: np.ndarray, side: str) -> np.ndarray:
    """FunnelPlotR's Poisson limits for a standardised ratio (target 1) at expected count E.

    The exact Poisson limits of a count of E, continuous in E (chi-square form), divided by E.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if side == "low":
            return special.gammaincinv(expected, 1 - p) / expected
        return special.gammaincinv(expected + 1, p) / expected


def _log_funnel(p: float, expected: np.ndarray, tau2: float, side: str) -> np.ndarray:
    """FunnelPlotR's SHMI limits for a ratio: exp(+/- z sqrt(1/E + tau2)), log-normal about a target of 1."""
    z = FUNNELPLOTR_Z[p] * (-1 if side == "low" else 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(z * np.sqrt(1 / expected + tau2))


def _arcsine_funnel(p: float, population: np.ndarray, average: float, tau2: float, side: str) -> np.ndarray:
    """FunnelPlotR's proportion limits: sin(asin(sqrt(average)) +/- z sqrt(1/(4n) + tau2))^2.

    Where the angle leaves [0, pi/2] the square of the sine folds back; FunnelPlotR then sets the lower
    limit to 0 and the upper to 1 (it finds those points by comparing neighbouring denominators of its
    plotting grid; here they are found exactly, from the angle).
    """
    z = FUNNELPLOTR_Z[p] * (-1 if side == "low" else 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 1 / (2 * np.sqrt(population))
        angle = np.arcsin(np.sqrt(average)) + z * np.sqrt(s**2 + tau2)
        limit = np.sin(angle) ** 2
        return np.where(angle < 0, 0.0, limit) if side == "low" else np.where(angle > np.pi / 2, 1.0, limit)


def _checked_tau2(tau2: float | None, statistic: str) -> float:
    if statistic not in ("proportion", "rate", "ratio"):
        raise ValueError(f"statistic must be 'proportion', 'rate' or 'ratio', got {statistic!r}")
    if tau2 is None:
        if statistic == "ratio":
            raise ValueError("statistic 'ratio' needs tau2: 0 for unadjusted (Poisson) limits, or the tau2 "
                             "estimated by overdispersion()")
        return 0.0
    if not (np.isfinite(tau2) and tau2 >= 0):
        raise ValueError(f"tau2 must be zero or more, got {tau2!r}")
    if tau2 > 0 and statistic == "rate":
        raise ValueError("tau2 (an overdispersion adjustment) applies to statistic 'proportion' or 'ratio'")
    return float(tau2)


def funnel_limits(denominator: ArrayLike, average: float, statistic: str = "proportion",
                  multiplier: float = 1.0, tau2: float | None = None) -> dict[str, np.ndarray]:
    """95% and 99.8% funnel limits around ``average`` at each denominator.

    ``average`` is a proportion on the 0-1 scale (``statistic="proportion"``), a rate per ``multiplier``
    (``statistic="rate"``) or the target of a ratio of observed to expected events, 1 for an indirectly
    standardised ratio (``statistic="ratio"``, denominators are expected counts); limits come back on the
    multiplier scale. NaN where the denominator is missing or not positive.

    Without overdispersion (``tau2`` None or 0), as PHEindicatormethods for proportions and rates: the
    Wilson-type ``sigma_adjustment``, capped at 0 and at 100% of the multiplier scale, and exact Poisson
    limits (``poisson_funnel``) at every count. Ratios take FunnelPlotR's Poisson limits, target x the exact
    Poisson limits of a count of E divided by E, and need ``tau2`` given (0 for these unadjusted limits), so
    that leaving out the overdispersion adjustment is a decision, not a default.

    With ``tau2`` > 0 (from :func:`overdispersion`), FunnelPlotR's overdispersion-adjusted limits (additive
    random effects, Spiegelhalter 2005): for ratios target x exp(+/- z sqrt(1/E + tau2)) (its SHMI "SR"
    limits), for proportions sin(asin(sqrt(average)) +/- z sqrt(1/(4n) + tau2))^2 (its "PR" limits), with
    FunnelPlotR's z of 1.959964 and 3.090232.

    >>> limits = funnel_limits(1008, 0.80642448, multiplier=100)
    >>> [round(float(limits[k]), 4) for k in ("lower_95", "upper_95", "lower_998", "upper_998")]
    [78.2034, 83.0815, 76.7968, 84.4881]

    FunnelPlotR's medpar example (``funnel_plot`` help): provider 030007, expected 120.94, tau2 0.02841023:

    >>> limits = funnel_limits(120.94, 1.0, statistic="ratio", tau2=0.02841023)
    >>> [round(float(limits[k]), 6) for k in ("lower_95", "upper_95", "lower_998", "upper_998")]
    [0.687037, 1.455525, 0.553313, 1.807297]
    """
    tau2 = _checked_tau2(tau2, statistic)
    n = np.atleast_1d(np.asarray(denominator, dtype=float))
    n = np.where(n > 0, n, np.nan)
    out: dict[str, np.ndarray] = {}
    for name, p in _FUNNEL_LEVELS:
        if statistic == "proportion" and tau2:
            low = _arcsine_funnel(p, n, average, tau2, "low") * multiplier
            high = _arcsine_funnel(p, n, average, tau2, "high") * multiplier
        elif statistic == "proportion":
            low = np.clip(_proportion_funnel(p, n, average, "low"), 0.0, None) * multiplier
            high = np.clip(_proportion_funnel(p, n, average, "high") * multiplier, None, multiplier)
        elif statistic == "rate":
            rate = average / multiplier
            low = _rate_funnel(p, n, rate, "low") * multiplier
            high = _rate_funnel(p, n, rate, "high") * multiplier
        elif tau2:   # ratio, overdispersed
            low, high = (_log_funnel(p, n, tau2, side) * average * multiplier for side in ("low", "high"))
        else:        # ratio, Poisson
            low, high = (_ratio_funnel(p, n, side) * average * multiplier for side in ("low", "high"))
        shape = np.shape(denominator)
        out[f"lower_{name}"], out[f"upper_{name}"] = low.reshape(shape), high.reshape(shape)
    return out


def funnel_significance(numerator: ArrayLike, denominator: ArrayLike, statistic: str = "proportion",
                        multiplier: float = 1.0, *, average: float | None = None,
                        tau2: float | None = None) -> list[str]:
    """Each unit against an average, as ``phe_funnel_significance`` (and FunnelPlotR with overdispersion).

    Labels are ``high_998``, ``high_95``, ``low_95``, ``low_998`` or ``not_significant``; a unit with a
    missing numerator or a missing or non-positive denominator is left out of the average and labelled
    ``not_applicable``. Proportions compare x/n with the ``sigma_adjustment`` limits; crude rates compare
    the average with each unit's exact (under 10 events) or Byar's limits. The labels do not depend
    on ``multiplier``, which is accepted for symmetry with :func:`funnel_limits` and sets the scale of a given
    ``average``.

    ``average`` is the benchmark, on :func:`funnel_limits`' scale (a proportion 0-1, a rate per
    ``multiplier``, a ratio's target); None pools the units, as the package does. ``statistic="ratio"`` takes
    observed counts and expected counts (an indirectly standardised ratio, or a rate's events against those
    expected at the average) and judges them about ``average`` (default 1): for ``tau2`` 0 or None as a crude
    rate per expected event (E x average outside O's exact or Byar's limits, so a practice with no events and one
    or two expected is not flagged, as it would be against the continuous Poisson funnel); for ``tau2`` > 0, O / E
    against FunnelPlotR's exp(+/- z sqrt(1/E + tau2)).
    Proportions with ``tau2`` > 0 take FunnelPlotR's arcsine limits; a crude rate takes no tau2 (judge it as a
    ratio of observed to expected events instead).

    >>> funnel_significance([10, 500, 990], [1000, 1000, 1000])
    ['low_998', 'not_significant', 'high_998']
    >>> funnel_significance([10, 500, 990], [1000, 1000, 1000], average=0.3, tau2=0.005)
    ['low_998', 'high_95', 'high_998']
    >>> funnel_significance([130, 100, float("nan")], [100, 100, 100], "ratio")
    ['high_95', 'not_significant', 'not_applicable']
    """
    x = np.atleast_1d(np.asarray(numerator, dtype=float))
    n = np.atleast_1d(np.asarray(denominator, dtype=float))
    if np.any(x < 0):
        raise ValueError("funnel numerators must be zero or more")
    tau2 = _checked_tau2(0.0 if tau2 is None and statistic == "ratio" else tau2, statistic)
    valid = ~np.isnan(x) & (n > 0)
    if average is not None:
        average = float(average) / (multiplier if statistic != "ratio" else 1.0)
    elif statistic == "ratio":
        average = 1.0
    else:
        average = x[valid].sum() / n[valid].sum()
    if statistic == "proportion":
        if np.any(x[valid] > n[valid]):
            raise ValueError("proportion numerators must not exceed their denominator")
        with np.errstate(divide="ignore", invalid="ignore"):
            labels = _limit_labels(x / n, funnel_limits(n, average, "proportion", tau2=tau2)) \
                if tau2 else _proportion_labels(x, n, average)
    elif statistic == "rate":
        labels = _rate_labels(x, n, average)
    elif tau2:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = x / n
        labels = _limit_labels(ratio, funnel_limits(n, average, "ratio", tau2=tau2))
    else:  # O against E x target with O's exact (under 10) or Byar's limits, as a crude rate per expected event
        labels = _rate_labels(x, n, average)
    return [str(label) if ok else "not_applicable" for label, ok in zip(labels, valid)]


def _limit_labels(values: np.ndarray, limits: dict[str, np.ndarray]) -> np.ndarray:
    """Labels of values against :func:`funnel_limits` at their own denominators."""
    return np.select(
        [values > limits["upper_998"], values > limits["upper_95"], values < limits["lower_998"],
         values < limits["lower_95"]], ["high_998", "high_95", "low_998", "low_95"], "not_significant")


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


# --- overdispersion ----------------------------------------------------------------------------------------

class Overdispersion(NamedTuple):
    """Dispersion ratio ``phi`` (1 without overdispersion), between-unit variance ``tau2`` for
    :func:`funnel_limits`, and the number of units ``n`` left after trimming that estimated them."""

    phi: float
    tau2: float
    n: int


def _r_quantile(values: np.ndarray, prob: float) -> float:
    """R's default (type 7) quantile, with R's arithmetic."""
    x = np.sort(values)
    index = 1 + (len(x) - 1) * prob
    lo, hi = int(np.floor(index)), int(np.ceil(index))
    q = x[lo - 1]
    if index > lo and x[hi - 1] != q:
        h = index - lo
        q = (1 - h) * q + h * x[hi - 1]
    return float(q)


def _truncation_kept(z: np.ndarray, trim: float) -> np.ndarray:
    """FunnelPlotR's ``truncation`` (the SHMI method): units outside the middle (1 - 2 trim) of ranks dropped.

    Ranks (ties averaged) fall into groups floor(rank k / (N + 1)), k = 1 / trim; the first and last groups
    (0 and k - 1 or above) are dropped.
    """
    k = 1 / trim
    group = np.floor(sps.rankdata(z) * k / (len(z) + 1))
    return (group > 0) & (group < k - 1)


def _tau2(n: int, phi: float, s: np.ndarray) -> float:
    """FunnelPlotR's ``tau_func``: max(0, (n phi - (n - 1)) / (sum(w) - sum(w^2) / sum(w))), w = 1 / s^2."""
    if len(s) == 0 or n * phi < n - 1:
        return 0.0
    w = 1 / s**2
    return float(max(0.0, (n * phi - (n - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w))))


def overdispersion(numerator: ArrayLike, denominator: ArrayLike, statistic: str = "proportion",
                   trim: float = 0.1, shmi_rounding: bool = True) -> Overdispersion:
    """Overdispersion of units about the average, as NHS-R FunnelPlotR's ``funnel_plot`` estimates it.

    One unit per element, already aggregated. ``statistic="ratio"`` (FunnelPlotR ``data_type = "SR"``,
    ``sr_method = "SHMI"``): observed / expected counts; expected counts are rounded to 2 decimal places
    (``SHMI_rounding``, as NHS Digital publishes SHMI; ``shmi_rounding=False`` keeps them), z = sqrt(E) ln(O / E)
    with standard error s = 1 / sqrt(E), and the ``trim`` lowest and highest z (by rank) are truncated away.
    ``statistic="proportion"`` (``data_type = "PR"``): z = (asin(sqrt(x / n)) - asin(sqrt(p))) / s, s =
    1 / (2 sqrt(n)), about the pooled proportion p, Winsorised at R's ``trim`` and 1 - ``trim`` quantiles.

    phi = mean of the n remaining z^2 (Spiegelhalter 2005's multiplicative dispersion ratio); tau2 =
    max(0, (n phi - (n - 1)) / (sum(w) - sum(w^2) / sum(w))), w = 1 / s^2 of those units, and 0 when
    n phi < n - 1 (DerSimonian-Laird). FunnelPlotR draws unadjusted limits when phi <= 1, and draws a ratio's
    limits at the rounded expected counts.

    FunnelPlotR's own test (test-classes_methods.R: ``phi`` 2.948033):

    >>> result = overdispersion([100, 150, 180, 80, 120, 225], [108, 112, 165, 95, 100, 220], "ratio")
    >>> round(result.phi, 6), result.n
    (2.948033, 6)
    """
    if statistic not in ("proportion", "ratio"):
        raise ValueError(f"statistic must be 'proportion' or 'ratio', got {statistic!r}")
    if not 0 < trim < 0.5:
        raise ValueError(f"trim must be between 0 and 0.5, got {trim!r}")
    x = _numeric("numerator", numerator)
    n = _numeric("denominator", denominator, length=len(x))
    if len(x) == 0:
        raise ValueError("numerator and denominator must hold at least one unit")
    if not np.all(x >= 0):
        raise ValueError("numerator must be zero or more (and not missing)")
    if not np.all(n > 0):
        raise ValueError("denominator must be greater than zero (and not missing)")
    with np.errstate(divide="ignore"):
        if statistic == "ratio":
            if shmi_rounding:
                n = np.array([round(float(e), 2) for e in n])
                if not np.all(n > 0):
                    raise ValueError("denominator must be greater than zero after rounding to 2 decimal places")
            s = 1 / np.sqrt(n)
            z = np.sqrt(n) * np.log(x / n)
            kept = _truncation_kept(z, trim)
            z, s = z[kept], s[kept]
        else:
            if np.any(x > n):
                raise ValueError("proportion numerators must not exceed their denominator")
            s = 1 / (2 * np.sqrt(n))
            z = (np.arcsin(np.sqrt(x / n)) - np.arcsin(np.sqrt(x.sum() / n.sum()))) / s
            z = np.clip(z, _r_quantile(z, trim), _r_quantile(z, 1 - trim))
    count = len(z)
    phi = float(np.sum(z**2) / count) if count else np.nan
    return Overdispersion(phi=phi, tau2=_tau2(count, phi, s), n=count)


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
