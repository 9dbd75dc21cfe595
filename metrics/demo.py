"""Synthetic demo snapshots, so the dashboard runs (and its statistics find true signals) without real extracts.

The underlying "truth" is drawn once from a seeded model of every practice's population (list growth, age
mix, ethnicity and deprivation mix) and each metric's profile (``metrics/demo_profiles.py``): practice random
effects, a few genuine outliers, deprivation and ethnicity gradients, trends, winter seasonality and the
Harrow frailty intervention. Each snapshot then publishes only the periods available by its date, with
the newest two periods provisional (thinned numerators), so later snapshots show revisions.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from metrics import layout
from metrics.catalogue import Metric, catalogue
from metrics.demo_profiles import (
    BOROUGHS, PROFILES, REFERENCE_YEAR, TYPICAL_SHARE_65, WSIC_METRICS, WSIC_NOT_WELL, WSIC_NOT_WELL_SPLIT,
    WSIC_SEGMENT_LOADING, Profile, Split, Units, World, build_world, category_splits, cohort_share, named_rng,
)
from metrics.hierarchy import build_orgs
from metrics.layout import MANIFEST_FILE, METRIC_VALUES_FILE, ORGS_FILE, ROLLUP_FILE, STAGED_SUFFIX, snapshot_folder
from metrics.provenance import GENERATOR, demo_manifest
from metrics.store import write_rollup

DEMO_SEED = 20261005
DEMO_SNAPSHOTS: tuple[date, ...] = (date(2026, 8, 5), date(2026, 9, 5), date(2026, 10, 5))
SERIES_START = {"monthly": date(2023, 4, 1), "quarterly": date(2023, 4, 1), "annual": date(2019, 4, 1)}
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
# Days after period end before a period is published. Monthly extracts land within days (a snapshot on
# the 5th carries the previous month); quarterly and annual returns take longer.
PUBLICATION_LAG_DAYS = {"monthly": 5, "quarterly": 45, "annual": 120}
# Share of the final count already recorded, newest period first. Activity (admissions, flows) is coded
# late, so its newest months are revised noticeably; register-based shares barely move.
PROVISIONAL_FACTORS = (0.97, 0.99)
REGISTER_PROVISIONAL_FACTORS = (0.996, 0.999)
FRAIL_METRICS = ("frail_top15_identified", "frail_mdt_care_plan")
LOS_METRICS = ("length_of_stay_14_plus", "length_of_stay_21_plus")
BREAKDOWNS = ("all", "ethnicity", "imd_quintile", "age_band", "sex")
METRIC_VALUES_SCHEMA = pa.schema([
    ("metric_id", pa.string()), ("period_start", pa.date32()), ("period_end", pa.date32()),
    ("org_code", pa.string()), ("breakdown", pa.string()), ("breakdown_value", pa.string()),
    ("numerator", pa.float64()), ("denominator", pa.float64()), ("value", pa.float64()),
])
Progress = Callable[[float, str], None]


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


# ------------------------------------------------------------------------------------------- periods
def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _periods(metric: Metric, last_snapshot: date) -> tuple[np.ndarray, np.ndarray]:
    """Period starts and ends from the series start to the last one the newest snapshot can publish."""
    lag = timedelta(days=PUBLICATION_LAG_DAYS[metric.frequency])
    starts, ends, start = [], [], SERIES_START[metric.frequency]
    while (end := _add_months(start, PERIOD_MONTHS[metric.frequency]) - timedelta(days=1)) + lag <= last_snapshot:
        if not metric.season_months or start.month in metric.season_months:
            starts.append(start)
            ends.append(end)
        start = end + timedelta(days=1)
    return np.array(starts, dtype="datetime64[D]"), np.array(ends, dtype="datetime64[D]")


def _decimal_years(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    mid_days = (starts.astype(np.int64) + ends.astype(np.int64)) / 2.0
    return 1970.0 + mid_days / 365.2425


def _months(starts: np.ndarray) -> np.ndarray:
    return starts.astype("datetime64[M]").astype(np.int64) % 12 + 1


def _denominators(world: World, level: str, profile: Profile, years: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Cohort sizes per unit and period: registers move smoothly with list growth, flows are Poisson."""
    p = world.practices
    share = cohort_share(profile.cohort, p.share_65, p.child_factor, p.diabetes_prev)
    share = share * np.exp(named_rng(world.seed, "cohort", profile.cohort).normal(0, 0.05, len(p.codes)))
    lists = p.list_size[:, None] * np.exp(p.growth[:, None] * (years[None, :] - 2021.0))
    expected = lists * share[:, None]
    if level == "borough":
        expected = world.membership @ expected
    if profile.flow:
        return rng.poisson(expected)
    return np.rint(expected * (1 + rng.normal(0, 0.002, expected.shape))).astype(np.int64)


# ------------------------------------------------------------------------------------------ effects
def _predictor(units: Units, unit: str, profile: Profile, starts: np.ndarray, years: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Link-scale expected value per unit and period (logit for percent, log rate per person otherwise)."""
    n, t, by_practice = len(units.codes), len(starts), units.level == "practice"
    base = _logit(profile.level) if unit == "percent" else float(np.log(profile.level / 1e5))
    unit_effect = rng.normal(0, profile.practice_sd, n)
    borough_noise = dict(zip(sorted(BOROUGHS), rng.normal(0, 0.08, len(BOROUGHS))))
    period_shock, noise = rng.normal(0, 0.02, t), rng.normal(0, profile.noise_sd, (n, t))
    fixed = np.array([profile.borough_effects.get(b, 0.0) for b in units.borough_codes])
    if by_practice:
        fixed += np.array([borough_noise[b] for b in units.borough_codes])
    by_unit = (base + unit_effect + fixed + profile.deprivation * units.deprivation_z
               + profile.oldness * np.log(units.share_65 / TYPICAL_SHARE_65))
    if by_practice:
        by_unit += _outlier_effects(units, by_unit, profile.outlier_sds, rng)
    by_period = (profile.trend * (years - REFERENCE_YEAR) + period_shock
                 + profile.winter * np.cos(2 * np.pi * (_months(starts) - 1) / 12))
    eta = by_unit[:, None] + by_period[None, :] + noise
    for step in profile.steps:
        eta += step.effect * ((units.borough_codes == step.borough_code)[:, None]
                              & (starts >= np.datetime64(step.start))[None, :])
    return eta


def _outlier_effects(units: Units, levels: np.ndarray, outlier_sds: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Three to five practices, big enough for a funnel plot to see, set several of their peers' standard
    deviations away, so that even an overdispersion-adjusted funnel finds them."""
    effects = np.zeros(len(units.codes))
    candidates = np.flatnonzero(units.list_size >= 3000)
    chosen = rng.choice(candidates, size=int(rng.integers(3, 6)), replace=False)
    signs, sizes = rng.choice([-1.0, 1.0], len(chosen)), rng.uniform(0.9, 1.1, len(chosen))
    effects[chosen] = signs * sizes * outlier_sds * levels.std()
    return effects


# --------------------------------------------------------------------------------------- breakdowns
@dataclass(frozen=True)
class Cells:
    """Every combination of a metric's breakdown categories, so each breakdown is a margin of one table
    and all of them add up exactly to the 'all' row."""

    splits: list[Split]
    shares: np.ndarray  # unit x cell (categories assumed independent within a unit)
    effects: np.ndarray  # per cell: sum of its categories' effects

    def margins(self, counts: np.ndarray) -> list[np.ndarray]:
        """Unit x cell x period counts summed to unit x category x period, one array per breakdown."""
        sizes = [len(s.labels) for s in self.splits]
        shaped = counts.reshape(counts.shape[0], *sizes, counts.shape[-1])
        return [shaped.sum(axis=tuple(1 + j for j in range(len(sizes)) if j != i)) for i in range(len(sizes))]


def _cells(splits: list[Split], n_units: int) -> Cells:
    shares, effects = np.ones((n_units, 1)), np.zeros(1)
    for split in splits:
        shares = (shares[:, :, None] * split.shares[:, None, :]).reshape(n_units, -1)
        effects = (effects[:, None] + split.effects[None, :]).ravel()
    return Cells(splits, shares, effects)


def _apportion(totals: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Largest-remainder split of unit x period totals into cells: exact sums, smooth over time."""
    raw = totals[:, None, :] * shares[:, :, None]
    floor = np.floor(raw)
    shortfall = totals[:, None, :] - floor.sum(1, keepdims=True)
    order = np.argsort(floor - raw, axis=1, kind="stable")
    rank = np.argsort(order, axis=1, kind="stable")
    return (floor + (rank < shortfall)).astype(np.int64)


def _cell_eta(eta: np.ndarray, cells: Cells, unit: str, reference: np.ndarray | None = None) -> np.ndarray:
    """Cell link values shifted so the cells' weighted mean equals the unit's own value: weighted by the unit's
    own mix, or by a ``reference`` mix (1 x cell), so that a unit whose mix differs from it (an older list) has a
    crude value that differs for that reason alone, which standardisation then removes."""
    effects = cells.effects[None, :, None]
    shares = (cells.shares if reference is None else reference)[:, :, None]
    if unit != "percent":
        return eta[:, None, :] + effects - np.log((shares * np.exp(effects)).sum(1, keepdims=True))
    target = _expit(eta)[:, None, :]
    shift = (shares * effects).sum(1, keepdims=True) + np.zeros_like(target)
    for _ in range(4):  # Newton steps on sum_c s_c expit(eta + e_c - shift) = expit(eta)
        p = _expit(eta[:, None, :] + effects - shift)
        shift += ((shares * p).sum(1, keepdims=True) - target) / (shares * p * (1 - p)).sum(1, keepdims=True)
    return eta[:, None, :] + effects - shift


# ------------------------------------------------------------------------------------------- draws
@dataclass(frozen=True)
class Grouping:
    """Periods grouped into flu seasons or financial years for cumulative metrics (else one per group)."""

    group: np.ndarray
    position: np.ndarray
    first: np.ndarray
    curve: np.ndarray


def _grouping(metric: Metric, profile: Profile, starts: np.ndarray) -> Grouping:
    t = len(starts)
    if not profile.curve:
        return Grouping(np.arange(t), np.zeros(t, int), np.arange(t), np.ones(1))
    months, years = _months(starts), starts.astype("datetime64[Y]").astype(np.int64) + 1970
    if metric.season_months:
        season = np.array(metric.season_months)
        keys, position = years - (months < season[0]), np.argmax(months[:, None] == season[None, :], axis=1)
    else:
        keys, position = years - (months < 4), ((months - 4) % 12) // 3
    _, first, group = np.unique(keys, return_index=True, return_inverse=True)
    return Grouping(group, position, first, np.array(profile.curve))


def _draw(rng: np.random.Generator, denominators: np.ndarray, eta: np.ndarray, unit: str) -> np.ndarray:
    if unit == "percent":
        return rng.binomial(denominators, _expit(eta))
    return rng.poisson(denominators * np.exp(eta))


def _numerators(rng: np.random.Generator, denominators: np.ndarray, eta: np.ndarray, grouping: Grouping,
                unit: str) -> np.ndarray:
    """Final counts per group, thinned backwards along the curve so cumulative series never fall."""
    levels = [_draw(rng, denominators, eta, unit)]
    for j in range(len(grouping.curve) - 2, -1, -1):
        levels.insert(0, rng.binomial(levels[0], grouping.curve[j] / grouping.curve[j + 1]))
    return np.stack(levels, axis=-1)[..., grouping.group, grouping.position]


@dataclass(frozen=True)
class Block:
    """One metric x breakdown: unit x category x period counts."""

    metric_id: str
    breakdown: str
    labels: tuple[str, ...]
    codes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    denominator: np.ndarray
    numerator: np.ndarray


@dataclass(frozen=True)
class Context:
    """What every metric generator needs: the population, the metric's periods and its random stream."""

    world: World
    metric: Metric
    starts: np.ndarray
    ends: np.ndarray
    years: np.ndarray
    rng: np.random.Generator

    @property
    def units(self) -> Units:
        return self.world.units(self.metric.lowest_level)

    def denominators(self, profile: Profile) -> np.ndarray:
        return _denominators(self.world, self.metric.lowest_level, profile, self.years, self.rng)

    def predictor(self, profile: Profile) -> np.ndarray:
        return _predictor(self.units, self.metric.unit, profile, self.starts, self.years, self.rng)

    def block(self, metric_id: str, breakdown: str, labels: tuple[str, ...], denominator: np.ndarray,
              numerator: np.ndarray) -> Block:
        return Block(metric_id, breakdown, labels, self.units.codes, self.starts, self.ends, denominator, numerator)


def _blocks(ctx: Context, metric_id: str, cells: Cells, denominators: np.ndarray, numerators: np.ndarray,
            denominator_margins: list[np.ndarray] | None = None) -> list[Block]:
    """The 'all' block and one per breakdown, all margins of the same cell counts."""
    blocks = [ctx.block(metric_id, "all", ("",), denominators.sum(1, keepdims=True),
                        numerators.sum(1, keepdims=True))]
    margins = denominator_margins if denominator_margins is not None else cells.margins(denominators)
    for split, den, num in zip(cells.splits, margins, cells.margins(numerators)):
        blocks.append(ctx.block(metric_id, split.breakdown, split.labels, den, num))
    return blocks


def _generic_blocks(ctx: Context, profile: Profile) -> list[Block]:
    metric = ctx.metric
    grouping = _grouping(metric, profile, ctx.starts)
    totals = ctx.denominators(profile)[:, grouping.first]
    eta = ctx.predictor(profile)[:, grouping.first]
    cells = _cells(category_splits(metric.breakdowns, profile, ctx.units), len(ctx.units.codes))
    counts = _apportion(totals, cells.shares)
    reference = cells.shares.mean(0, keepdims=True) if profile.age_drives_rate else None
    numerators = _numerators(ctx.rng, counts, _cell_eta(eta, cells, metric.unit, reference), grouping, metric.unit)
    return _blocks(ctx, metric.id, cells, counts[..., grouping.group], numerators)


def _wsic_segments(rng: np.random.Generator, adults: np.ndarray, eta: np.ndarray) -> list[np.ndarray]:
    """Well / Stable / Rising / High / Specialist-EoL as one multinomial, so the five add up to the adults."""
    not_well = rng.binomial(adults, _expit(eta))
    lean = (eta - _logit(WSIC_NOT_WELL.level))[..., None] * np.array(WSIC_SEGMENT_LOADING)
    weights = np.array(WSIC_NOT_WELL_SPLIT) * np.exp(lean)
    remaining, segments = not_well, []
    for j in range(weights.shape[-1] - 1):
        count = rng.binomial(remaining, weights[..., j] / weights[..., j:].sum(-1))
        segments.append(count)
        remaining = remaining - count
    return [adults - not_well, *segments, remaining]


def _wsic_blocks(ctx: Context, profile: Profile) -> list[Block]:
    adults, eta = ctx.denominators(profile), ctx.predictor(profile)
    cells = _cells(category_splits(ctx.metric.breakdowns, profile, ctx.units), len(ctx.units.codes))
    counts = _apportion(adults, cells.shares)
    segments = _wsic_segments(ctx.rng, counts, _cell_eta(eta, cells, "percent"))
    adult_margins = cells.margins(counts)
    return [block for metric_id, numerators in zip(WSIC_METRICS, segments)
            for block in _blocks(ctx, metric_id, cells, counts, numerators, adult_margins)]


def _frail_blocks(ctx: Context, _profile: Profile) -> list[Block]:
    """The MDT care-plan denominator is the identified frail cohort itself."""
    identified, care_plan = (PROFILES[m] for m in FRAIL_METRICS)
    expected = ctx.denominators(identified)
    flagged = ctx.rng.binomial(expected, _expit(ctx.predictor(identified)))
    planned = ctx.rng.binomial(flagged, _expit(ctx.predictor(care_plan)))
    return [ctx.block(FRAIL_METRICS[0], "all", ("",), expected[:, None], flagged[:, None]),
            ctx.block(FRAIL_METRICS[1], "all", ("",), flagged[:, None], planned[:, None])]


def _length_of_stay_blocks(ctx: Context, _profile: Profile) -> list[Block]:
    """21+ day stays are a subset of 14+ day stays of the same inpatients."""
    over_14, over_21 = (PROFILES[m] for m in LOS_METRICS)
    inpatients = ctx.denominators(over_14)
    p14, p21 = _expit(ctx.predictor(over_14)), _expit(ctx.predictor(over_21))
    long_14 = ctx.rng.binomial(inpatients, p14)
    long_21 = ctx.rng.binomial(long_14, np.clip(p21 / p14, 0, 1))
    return [ctx.block(LOS_METRICS[0], "all", ("",), inpatients[:, None], long_14[:, None]),
            ctx.block(LOS_METRICS[1], "all", ("",), inpatients[:, None], long_21[:, None])]


GROUPS: dict[str, tuple[tuple[str, ...], Callable[[Context, Profile], list[Block]]]] = {
    "wsic": (WSIC_METRICS, _wsic_blocks),
    "frail": (FRAIL_METRICS, _frail_blocks),
    "length_of_stay": (LOS_METRICS, _length_of_stay_blocks),
}


# ------------------------------------------------------------------------------------------- truth
@dataclass(frozen=True)
class Truth:
    """Every row of every period up to the newest snapshot, sorted, with string columns as codes."""

    metric_ids: list[str]
    slices: dict[str, slice]
    org_codes: np.ndarray
    labels: np.ndarray
    metric: np.ndarray
    breakdown: np.ndarray
    org: np.ndarray
    label: np.ndarray
    start: np.ndarray
    end: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray


def _work_plan(metric_ids: Iterable[str] | None) -> list[tuple[str, tuple[str, ...]]]:
    """(stream name, metric ids) per generator call; grouped metrics are always drawn together."""
    known = [m.id for m in catalogue().metrics]
    wanted = set(known if metric_ids is None else metric_ids)
    if unknown := wanted - set(known):
        raise KeyError(f"unknown metric ids {sorted(unknown)}")
    missing = set(known) - set(PROFILES)
    if missing:
        raise KeyError(f"no demo profile for {sorted(missing)}")
    grouped = {m: name for name, (members, _) in GROUPS.items() for m in members}
    plan: dict[str, tuple[str, ...]] = {}
    for metric_id in known:
        name = grouped.get(metric_id, metric_id)
        members = GROUPS[name][0] if name in GROUPS else (metric_id,)
        if wanted & set(members):
            plan[name] = members
    return list(plan.items())


def _generate_blocks(world: World, name: str, members: tuple[str, ...], last_snapshot: date) -> list[Block]:
    metric = catalogue().metric(members[0])
    starts, ends = _periods(metric, last_snapshot)
    ctx = Context(world, metric, starts, ends, _decimal_years(starts, ends), named_rng(world.seed, "metric", name))
    builder = GROUPS[name][1] if name in GROUPS else _generic_blocks
    if builder in (_frail_blocks, _length_of_stay_blocks) and any(catalogue().metric(m).breakdowns for m in members):
        raise ValueError(f"the {name} generator writes no breakdowns, but the catalogue now asks for some")
    return builder(ctx, PROFILES[metric.id])


def _build_truth(world: World, last_snapshot: date, metric_ids: Iterable[str] | None,
                 progress: Progress) -> Truth:
    wanted = None if metric_ids is None else set(metric_ids)
    plan, blocks = _work_plan(metric_ids), []
    for i, (name, members) in enumerate(plan):
        blocks += [b for b in _generate_blocks(world, name, members, last_snapshot)
                   if wanted is None or b.metric_id in wanted]
        progress((i + 1) / len(plan), f"Generated {name.replace('_', ' ')}")
    blocks.sort(key=lambda b: (b.metric_id, b.breakdown))
    return _flatten(blocks)


def _flatten(blocks: list[Block]) -> Truth:
    """Rows in (metric, breakdown, org, period, category) order, which is the file's sort order."""
    metric_ids = sorted({b.metric_id for b in blocks})
    org_codes = np.array(sorted({c for b in blocks for c in b.codes}))
    labels = np.array(sorted({label for b in blocks for label in b.labels}))
    columns: dict[str, list[np.ndarray]] = {k: [] for k in
                                            ("metric", "breakdown", "org", "label", "start", "end", "num", "den")}
    slices, row = {}, 0
    for block in blocks:
        n_units, n_labels, n_periods = block.numerator.shape
        size = n_units * n_labels * n_periods
        columns["metric"].append(np.full(size, metric_ids.index(block.metric_id), np.int32))
        columns["breakdown"].append(np.full(size, BREAKDOWNS.index(block.breakdown), np.int32))
        columns["org"].append(np.repeat(np.searchsorted(org_codes, block.codes), n_periods * n_labels))
        columns["label"].append(np.tile(np.searchsorted(labels, block.labels), n_units * n_periods))
        columns["start"].append(np.tile(np.repeat(block.starts, n_labels), n_units))
        columns["end"].append(np.tile(np.repeat(block.ends, n_labels), n_units))
        columns["num"].append(block.numerator.transpose(0, 2, 1).ravel())
        columns["den"].append(block.denominator.transpose(0, 2, 1).ravel())
        first = slices.get(block.metric_id, slice(row, row)).start
        slices[block.metric_id] = slice(first, row + size)
        row += size
    c = {k: np.concatenate(v) for k, v in columns.items()}
    return Truth(metric_ids, slices, org_codes, labels, c["metric"], c["breakdown"], c["org"], c["label"],
                 c["start"], c["end"], c["num"].astype(np.int64), c["den"].astype(np.int64))


# ---------------------------------------------------------------------------------------- snapshots
def _published_rows(truth: Truth, metric: Metric, snapshot: date, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices a snapshot publishes for one metric, and numerators with its newest two periods thinned."""
    rows = truth.slices[metric.id]
    ends = truth.end[rows]
    published = ends + np.timedelta64(PUBLICATION_LAG_DAYS[metric.frequency], "D") <= np.datetime64(snapshot)
    index, ends = np.flatnonzero(published) + rows.start, ends[published]
    numerators = truth.numerator[index].copy()
    rng = named_rng(seed, "revision", metric.id, snapshot.isoformat())
    profile = PROFILES.get(metric.id)
    late_coded = metric.statistic == "rate" or (profile is not None and profile.flow)
    factors = PROVISIONAL_FACTORS if late_coded else REGISTER_PROVISIONAL_FACTORS
    for factor, end in zip(factors, np.unique(ends)[::-1]):
        provisional = ends == end
        numerators[provisional] = rng.binomial(numerators[provisional], factor)
    return index, numerators


def _strings(codes: np.ndarray, dictionary: Sequence[str]) -> pa.Array:
    """Plain string column built from integer codes (Parquet dictionary-encodes it again on write)."""
    indices, values = pa.array(codes, pa.int32()), pa.array(dictionary, pa.string())
    return pa.DictionaryArray.from_arrays(indices, values).cast(pa.string())


def _snapshot_table(truth: Truth, snapshot: date, seed: int) -> pa.Table:
    metrics = [catalogue().metric(m) for m in truth.metric_ids]
    parts = [_published_rows(truth, metric, snapshot, seed) for metric in metrics]
    index = np.concatenate([p[0] for p in parts])
    numerator = np.concatenate([p[1] for p in parts]).astype(np.float64)
    denominator = truth.denominator[index].astype(np.float64)
    multiplier = np.array([m.multiplier for m in metrics])[truth.metric[index]]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(denominator > 0, numerator / denominator * multiplier, np.nan)
    arrays = [_strings(truth.metric[index], truth.metric_ids), pa.array(truth.start[index], pa.date32()),
              pa.array(truth.end[index], pa.date32()), _strings(truth.org[index], list(truth.org_codes)),
              _strings(truth.breakdown[index], BREAKDOWNS), _strings(truth.label[index], list(truth.labels)),
              pa.array(numerator), pa.array(denominator), pa.array(value)]
    return pa.Table.from_arrays(arrays, schema=METRIC_VALUES_SCHEMA)


def _publish(staged: Path, target: Path) -> None:
    """Move finished files into the snapshot folder by atomic renames, values last, so a reader never sees
    a half-written file and sees a new snapshot only once all its files are there. Staged files end in
    ``.part``: DuckDB's ``**`` glob also walks hidden folders, so staged ``*.parquet`` would be read."""
    target.mkdir(parents=True, exist_ok=True)
    if (staged / MANIFEST_FILE).exists():  # what the snapshot is: synthetic (provenance); not a parquet file
        os.replace(staged / MANIFEST_FILE, target / MANIFEST_FILE)
    for name in (ORGS_FILE, ROLLUP_FILE, METRIC_VALUES_FILE):
        os.replace(staged / f"{name}{STAGED_SUFFIX}", target / name)


def publish_snapshot(files: layout.Storage, staged: Path, snapshot: date) -> None:
    """A finished staged snapshot made visible: renamed into a local root, or uploaded with its ``_COMPLETE``
    marker last to object storage (``layout.publish``)."""
    if files.local:
        _publish(staged, Path(layout.snapshot_folder(files, snapshot)))
    else:
        layout.publish(files, staged, snapshot, suffix=STAGED_SUFFIX)


@contextmanager
def staging_area(files: layout.Storage, name: str) -> Iterator[Path]:
    """Where snapshots are built before they are published, removed afterwards: a hidden folder inside a local
    root (same file system, so renames publish), or a local temporary folder for object storage."""
    if files.local:
        staging = Path(files.root) / f".{name}-tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    else:
        layout.remove_abandoned(files)
        staging = Path(tempfile.mkdtemp(prefix=f"icp-{name}-"))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_manifest(folder: Path, manifest: dict) -> None:
    """The staged snapshot's manifest: it says the values are synthetic, from which generator and seed."""
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def write_staged_rollup(folder: Path) -> None:
    """The snapshot's area roll-up, summed from its staged files and staged beside them."""
    staged = [folder / f"{name}{STAGED_SUFFIX}" for name in (METRIC_VALUES_FILE, ORGS_FILE, ROLLUP_FILE)]
    write_rollup(*staged)


def generate_demo(root: layout.Root, seed: int = DEMO_SEED, snapshots: Sequence[date] = DEMO_SNAPSHOTS,
                  progress: Progress | None = None, *, metric_ids: Iterable[str] | None = None) -> dict:
    """Write demo snapshots under ``root`` (a folder or an object-storage URL); ``metric_ids`` limits the metrics
    (for quick tests only)."""
    started, report = time.perf_counter(), progress or (lambda fraction, message: None)
    files, snapshots = layout.storage(root), sorted(snapshots)
    report(0.0, "Building practice populations")
    orgs = build_orgs()
    world = build_world(orgs, seed)
    truth = _build_truth(world, snapshots[-1], metric_ids, lambda f, msg: report(0.05 + 0.55 * f, msg))
    orgs_table = pa.Table.from_pandas(orgs, preserve_index=False)
    rows: dict[str, int] = {}
    with staging_area(files, "demo") as staging:
        for i, snapshot in enumerate(snapshots):
            folder = Path(snapshot_folder(str(staging), snapshot))
            folder.mkdir(parents=True)
            table = _snapshot_table(truth, snapshot, seed)
            pq.write_table(orgs_table, folder / f"{ORGS_FILE}{STAGED_SUFFIX}", compression="zstd")
            pq.write_table(table, folder / f"{METRIC_VALUES_FILE}{STAGED_SUFFIX}", compression="zstd",
                           row_group_size=100_000)
            write_staged_rollup(folder)
            write_manifest(folder, demo_manifest(GENERATOR, seed, snapshot=snapshot.isoformat(), rows=table.num_rows))
            rows[snapshot.isoformat()] = table.num_rows
            report(0.6 + 0.38 * (i + 1) / len(snapshots), f"Wrote snapshot {snapshot.isoformat()}")
        for snapshot in snapshots:
            publish_snapshot(files, Path(snapshot_folder(str(staging), snapshot)), snapshot)
    report(1.0, "Demo data ready")
    return {"snapshots": list(rows), "rows": sum(rows.values()), "rows_per_snapshot": rows,
            "seconds": round(time.perf_counter() - started, 2)}
