"""England-scale synthetic snapshots, to measure the dashboard on 20+ million rows (``benchmarks/``).

England is the real North West London tree (so every page, the NWL comparisons and the Harrow default work
unchanged) plus 41 synthetic ICSs with their boroughs (each its own place), PCNs and practices: about 6,300
practices, 1,250 PCNs and 42 ICSs in all, with the same ``orgs`` columns and ``org_type`` vocabulary as the
demo. Metric values come from the demo's own models (``metrics/demo.py``): each synthetic borough borrows
the population profile of one NWL borough (its "twin"; Harrow's intervention step is not borrowed), each
ICS has its own random streams, and monthly series run 60 months (October 2021 to September 2026).

It streams: metric groups are drawn one at a time, and each for one ICS at a time; the rows wait in small
spill files (one per snapshot, metric and breakdown) until every ICS has been drawn, then each is sorted and
appended to its snapshot's parquet file. Memory holds one ICS's draws or one spilled bucket (about 1 GB peak
for England), never the country, and every file is in the demo's (metric, breakdown, org, period, category)
order across all of England, in row groups of 250,000 rows: ``benchmarks/README.md`` has the measurements
behind both choices. Synthetic practice codes are ODS-like (a region letter and five digits) and are shuffled
within each ICS, so a PCN's practices are not neighbours in code order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from metrics import demo, layout
from metrics.catalogue import Metric, catalogue
from metrics.demo_profiles import (
    BOROUGHS, ETHNICITY, HARROW, IMD_QUINTILES, PROFILES, SEX, Units, World, _practice_units, build_world, named_rng,
)
from metrics.hierarchy import DATE_TYPE, ICS_CODE, ORG_COLUMNS, build_orgs
from metrics.provenance import demo_manifest

ENGLAND_SEED = demo.DEMO_SEED
ENGLAND_SNAPSHOTS = demo.DEMO_SNAPSHOTS
# Synthetic ICSs besides NWL at each scale: 41 gives England (42 ICSs), 9 about a quarter of its practices.
SCALES: dict[str, int] = {"england": 41, "quarter": 9}
TARGET_PRACTICES, TARGET_PCNS, SYNTHETIC_ICS_MAX = 6300, 1250, 41
SERIES_START = {"monthly": date(2021, 10, 1), "quarterly": date(2021, 10, 1), "annual": date(2019, 4, 1)}
ROW_GROUP_SIZE = 250_000  # measured against 25k, 100k and 1M: benchmarks/README.md
REGION_LETTERS = "ABCDFGHJKLMNP"  # ODS-like practice prefixes; E and Y (NWL's) are left to the real practices
TWIN_BOROUGHS = tuple(sorted(b for b in BOROUGHS if b != HARROW))
Progress = Callable[[float, str], None]


# ------------------------------------------------------------------------------------------ hierarchy
@dataclass(frozen=True)
class SyntheticIcs:
    """One synthetic ICS: its orgs rows, and each borough's NWL twin (whose profile its practices borrow)."""

    code: str
    orgs: pd.DataFrame
    twins: dict[str, str]


def _split(total: int, parts: int, rng: np.random.Generator, concentration: float) -> np.ndarray:
    """``total`` shared into ``parts`` positive whole numbers of uneven size (largest remainder)."""
    raw = rng.dirichlet(np.full(parts, concentration)) * (total - parts)
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: total - parts - counts.sum()]] += 1
    return counts + 1


def _frame(rows: dict[str, list]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in ORG_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame["list_size"] = frame["list_size"].astype("int64")
    frame["imd_decile"] = frame["imd_decile"].astype("Int64")
    frame["imd_decile_imputed"] = frame["imd_decile_imputed"].fillna(False).astype(bool)
    for column in ("valid_from", "valid_to"):
        frame[column] = pd.Series(pd.array([None] * len(frame), dtype=DATE_TYPE))
    return frame[ORG_COLUMNS]


def _synthetic_ics(index: int, practices: int, pcns: int, seed: int) -> SyntheticIcs:
    """ICS number ``index`` (1-based): boroughs, PCNs and practices with list sizes and deprivation."""
    rng = named_rng(seed, "england-hierarchy", str(index))
    code, name = f"Q{index:02d}", f"Synthetic ICS {index:02d}"
    n_boroughs = min(int(rng.integers(3, 8)), pcns)
    pcn_borough = np.sort(rng.integers(0, n_boroughs, pcns))
    pcn_borough[:n_boroughs] = np.arange(n_boroughs)  # every borough has a PCN
    pcn_borough.sort()
    borough_codes = [f"E06{900000 + index * 10 + b}" for b in range(n_boroughs)]
    pcn_codes = [f"U{index:02d}{p:03d}" for p in range(pcns)]
    members = np.repeat(np.arange(pcns), _split(practices, pcns, rng, 6.0))
    letter = REGION_LETTERS[index % len(REGION_LETTERS)]
    numbers = rng.permutation(practices) + 1000 * (index // len(REGION_LETTERS)) * 10
    practice_codes = [f"{letter}{n:05d}" for n in numbers]
    decile_centre = rng.uniform(2.5, 8.5, n_boroughs)
    borough_of = pcn_borough[members]
    deciles = np.clip(np.rint(rng.normal(decile_centre[borough_of], 1.8)), 1, 10).astype(int)
    scores = np.round(55 * np.exp(-0.22 * (deciles - 1)) * np.exp(rng.normal(0, 0.12, practices)), 3)
    sizes = np.clip(np.rint(np.exp(rng.normal(np.log(8500), 0.55, practices))), 1200, 60000).astype(int)
    practice_rows = _frame({
        "org_code": practice_codes, "org_name": [f"Synthetic Practice {c}" for c in practice_codes],
        "org_type": "practice", "parent_code": [pcn_codes[m] for m in members], "ics_code": code,
        "borough_code": [borough_codes[b] for b in borough_of], "pcn_code": [pcn_codes[m] for m in members],
        "list_size": sizes, "imd_score": scores, "imd_decile": deciles,
        "place_code": [f"PLACE_{borough_codes[b]}" for b in borough_of],
    })
    twins = {b: TWIN_BOROUGHS[int(t)] for b, t in zip(borough_codes, rng.integers(0, len(TWIN_BOROUGHS), n_boroughs))}
    return SyntheticIcs(code, pd.concat([_roll_ups(practice_rows, code, name, borough_codes, pcn_codes),
                                         practice_rows], ignore_index=True), twins)


def _roll_ups(practices: pd.DataFrame, code: str, name: str, borough_codes: list[str],
              pcn_codes: list[str]) -> pd.DataFrame:
    """ICS, place, borough and PCN rows: list sizes summed, IMD score list-weighted (as hierarchy.py does)."""
    weighted = practices.assign(w=practices["imd_score"] * practices["list_size"])

    def totals(column: str) -> pd.DataFrame:
        sums = weighted.groupby(column)[["list_size", "w"]].sum()
        return sums.assign(imd_score=sums["w"] / sums["list_size"]).drop(columns="w")

    pcn = totals("pcn_code").loc[pcn_codes]
    pcn_of = practices.drop_duplicates("pcn_code").set_index("pcn_code")["borough_code"]
    borough = totals("borough_code").loc[borough_codes]
    ics = totals("ics_code")
    return _frame({
        "org_code": [code, *(f"PLACE_{b}" for b in borough_codes), *borough_codes, *pcn_codes],
        "org_name": [name, *(f"{name} place {i + 1}" for i in range(len(borough_codes))),
                     *(f"{name} borough {i + 1}" for i in range(len(borough_codes))),
                     *(f"{name} PCN {i + 1}" for i in range(len(pcn_codes)))],
        "org_type": ["ics", *["place"] * len(borough_codes), *["borough"] * len(borough_codes),
                     *["pcn"] * len(pcn_codes)],
        "parent_code": [None, *[code] * (2 * len(borough_codes)), *pcn_of.loc[pcn_codes]],
        "ics_code": code,
        "borough_code": [None, *[None] * len(borough_codes), *borough_codes, *pcn_of.loc[pcn_codes]],
        "pcn_code": [None, *[None] * (2 * len(borough_codes)), *pcn_codes],
        "list_size": [*ics["list_size"], *borough["list_size"], *borough["list_size"], *pcn["list_size"]],
        "imd_score": [*ics["imd_score"], *borough["imd_score"], *borough["imd_score"], *pcn["imd_score"]],
        "place_code": [None, *(f"PLACE_{b}" for b in borough_codes), *(f"PLACE_{b}" for b in borough_codes),
                       *(f"PLACE_{b}" for b in pcn_of.loc[pcn_codes])],
    })


def synthetic_icss(count: int, seed: int = ENGLAND_SEED) -> list[SyntheticIcs]:
    """The first ``count`` of the 41 synthetic ICSs; sizes are fixed by the seed whatever ``count`` is."""
    if not 0 <= count <= SYNTHETIC_ICS_MAX:
        raise ValueError(f"between 0 and {SYNTHETIC_ICS_MAX} synthetic ICSs, not {count}")
    nwl = build_orgs()
    rng = named_rng(seed, "england-sizes")
    practices = _split(TARGET_PRACTICES - int((nwl["org_type"] == "practice").sum()), SYNTHETIC_ICS_MAX, rng, 8.0)
    pcns = np.maximum(3, np.rint(practices * (TARGET_PCNS - 45) / practices.sum())).astype(int)
    return [_synthetic_ics(i + 1, int(practices[i]), int(pcns[i]), seed) for i in range(count)]


def england_orgs(icss: Sequence[SyntheticIcs]) -> pd.DataFrame:
    """The NWL demo tree followed by the synthetic ICSs' rows (codes checked unique across both)."""
    orgs = pd.concat([build_orgs(), *(ics.orgs for ics in icss)], ignore_index=True)
    repeated = orgs.loc[orgs["org_code"].duplicated(), "org_code"]
    if len(repeated):
        raise ValueError(f"synthetic org codes collide with others: {sorted(repeated)[:5]}")
    return orgs


# ------------------------------------------------------------------------------------------- worlds
def _world(ics: SyntheticIcs, seed: int) -> World:
    """Practice populations drawn with the twin borough's profile; the ICS's own boroughs sum them."""
    practices = ics.orgs[ics.orgs["org_type"] == "practice"].sort_values("org_code")
    twin_view = practices.assign(borough_code=practices["borough_code"].map(ics.twins))
    units = _practice_units(twin_view, seed)
    own_borough = practices["borough_code"].to_numpy(str)
    codes = np.array(sorted(set(own_borough)))
    membership = (own_borough[None, :] == codes[:, None]).astype(float)
    weights = membership * units.list_size
    weights /= weights.sum(1, keepdims=True)
    boroughs = Units("borough", codes, np.array([ics.twins[c] for c in codes]), membership @ units.list_size,
                     weights @ units.growth, weights @ units.share_65, weights @ units.child_factor,
                     weights @ units.diabetes_prev, weights @ units.deprivation_z, weights @ units.ethnicity_mix,
                     weights @ units.imd_mix, weights @ units.female_shift)
    return World(seed, units, boroughs, membership)


def _worlds(icss: Sequence[SyntheticIcs], seed: int) -> Iterator[tuple[str, World]]:
    """NWL's world exactly as the demo draws it, then each synthetic ICS's, one at a time (own seed each)."""
    yield ICS_CODE, build_world(build_orgs(), seed)
    for i, ics in enumerate(icss):
        yield ics.code, _world(ics, seed + i + 1)


def _periods(metric: Metric, last_snapshot: date) -> tuple[np.ndarray, np.ndarray]:
    """The demo's periods, but with monthly and quarterly series from October 2021 (60 months)."""
    lag = timedelta(days=demo.PUBLICATION_LAG_DAYS[metric.frequency])
    starts, ends, start = [], [], SERIES_START[metric.frequency]
    while (end := demo._add_months(start, demo.PERIOD_MONTHS[metric.frequency]) - timedelta(days=1)) + lag \
            <= last_snapshot:
        if not metric.season_months or start.month in metric.season_months:
            starts.append(start)
            ends.append(end)
        start = end + timedelta(days=1)
    return np.array(starts, dtype="datetime64[D]"), np.array(ends, dtype="datetime64[D]")


def _group_truth(world: World, name: str, members: tuple[str, ...], last_snapshot: date,
                 wanted: set[str] | None) -> demo.Truth:
    """One metric group's rows for one ICS (grouped metrics, e.g. the five WSIC segments, are drawn together)."""
    metric = catalogue().metric(members[0])
    starts, ends = _periods(metric, last_snapshot)
    ctx = demo.Context(world, metric, starts, ends, demo._decimal_years(starts, ends),
                       named_rng(world.seed, "metric", name))
    builder = demo.GROUPS[name][1] if name in demo.GROUPS else demo._generic_blocks
    blocks = [b for b in builder(ctx, PROFILES[metric.id]) if wanted is None or b.metric_id in wanted]
    blocks.sort(key=lambda b: (b.metric_id, b.breakdown))
    return demo._flatten(blocks)


# ------------------------------------------------------------------------------------------ writing
# A spilled row: integer codes into the England-wide org and label lists, days since 1970, counts.
SPILL_DTYPE = np.dtype([("org", "<i4"), ("label", "<i2"), ("start", "<i4"), ("end", "<i4"),
                        ("numerator", "<f8"), ("denominator", "<f8")])


@dataclass(frozen=True)
class Dictionaries:
    """England-wide code lists, so rows drawn one ICS at a time sort as the final file does."""

    orgs: np.ndarray
    labels: np.ndarray


class _Spill:
    """Rows of one metric group, one ICS at a time, appended to a file per (snapshot, metric, breakdown)."""

    def __init__(self, folder: Path):
        self.folder, self.files = folder, {}

    def append(self, key: tuple[date, str, str], rows: np.ndarray) -> None:
        path = self.folder / f"{key[0].isoformat()}-{key[1]}-{key[2]}.bin"
        with open(path, "ab") as out:
            rows.tofile(out)
        self.files[key] = path

    def take(self, key: tuple[date, str, str]) -> np.ndarray:
        """The bucket's rows from every ICS, in (org, period, category) order; the file is removed."""
        path = self.files.pop(key)
        rows = np.fromfile(path, dtype=SPILL_DTYPE)
        path.unlink()
        return rows[np.lexsort((rows["label"], rows["start"], rows["org"]))]


def _spill_ics(spill: _Spill, truth: demo.Truth, snapshots: Sequence[date], seed: int, codes: Dictionaries) -> None:
    """Publish one ICS's rows as each snapshot would (demo rules: lags, provisional months) and spill them."""
    org = _positions(codes.orgs, truth.org_codes, "organisations")[truth.org]
    label = _positions(codes.labels, truth.labels, "breakdown values")[truth.label]
    for metric_id in truth.metric_ids:
        metric = catalogue().metric(metric_id)
        for snapshot in snapshots:
            index, numerators = demo._published_rows(truth, metric, snapshot, seed)
            rows = np.empty(len(index), SPILL_DTYPE)
            rows["org"], rows["label"] = org[index], label[index]
            rows["start"] = truth.start[index].astype(np.int64)
            rows["end"] = truth.end[index].astype(np.int64)
            rows["numerator"], rows["denominator"] = numerators, truth.denominator[index]
            for b in np.unique(truth.breakdown[index]):
                spill.append((snapshot, metric_id, demo.BREAKDOWNS[b]), rows[truth.breakdown[index] == b])


def _bucket_table(rows: np.ndarray, metric: Metric, breakdown: str, codes: Dictionaries) -> pa.Table:
    """One (metric, breakdown) bucket as the demo's metric_values table."""
    n = len(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(rows["denominator"] > 0, rows["numerator"] / rows["denominator"] * metric.multiplier,
                         np.nan)
    arrays = [pa.array(np.full(n, metric.id), pa.string()),
              pa.array(rows["start"].astype("datetime64[D]"), pa.date32()),
              pa.array(rows["end"].astype("datetime64[D]"), pa.date32()),
              demo._strings(rows["org"], list(codes.orgs)), pa.array(np.full(n, breakdown), pa.string()),
              demo._strings(rows["label"], list(codes.labels)),
              pa.array(rows["numerator"]), pa.array(rows["denominator"]), pa.array(value)]
    return pa.Table.from_arrays(arrays, schema=demo.METRIC_VALUES_SCHEMA)


class _RowGroupWriter:
    """A parquet file written a chunk at a time, buffering so every row group but the last is full."""

    def __init__(self, path: Path, row_group_size: int):
        self.writer = pq.ParquetWriter(path, demo.METRIC_VALUES_SCHEMA, compression="zstd")
        self.size, self.pending, self.rows = row_group_size, [], 0

    def write(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        buffered = sum(t.num_rows for t in self.pending)
        if buffered >= self.size:
            joined = pa.concat_tables(self.pending)
            full = buffered - buffered % self.size
            self.writer.write_table(joined.slice(0, full), row_group_size=self.size)
            self.pending = [joined.slice(full)]

    def close(self) -> None:
        if self.pending:
            self.writer.write_table(pa.concat_tables(self.pending), row_group_size=self.size)
        self.writer.close()


def _dictionaries(orgs: pd.DataFrame) -> Dictionaries:
    bands = {label for profile in PROFILES.values() if profile.age_bands for label in profile.age_bands.labels}
    return Dictionaries(np.array(sorted(orgs["org_code"])),
                        np.array(sorted({"", *ETHNICITY, *IMD_QUINTILES, *SEX, *bands})))


def _positions(dictionary: np.ndarray, values: np.ndarray, what: str) -> np.ndarray:
    """Where each value sits in an England-wide list (a value missing from it is a bug, not a row to drop)."""
    found = np.searchsorted(dictionary, values)
    if (found >= len(dictionary)).any() or (dictionary[np.minimum(found, len(dictionary) - 1)] != values).any():
        raise ValueError(f"{what} missing from the England-wide list: {sorted(set(values) - set(dictionary))[:5]}")
    return found


def generate_england(root: layout.Root, synthetic_ics: int = SCALES["england"], seed: int = ENGLAND_SEED,
                     snapshots: Sequence[date] = ENGLAND_SNAPSHOTS, progress: Progress | None = None,
                     row_group_size: int = ROW_GROUP_SIZE, *, metric_ids: Iterable[str] | None = None) -> dict:
    """Write England-scale snapshots under ``root`` (NWL plus ``synthetic_ics`` synthetic ICSs).

    Metric groups are drawn one at a time, each for one ICS at a time; a group's rows wait in small spill files
    (one per snapshot, metric and breakdown) and are then sorted and appended, so every file is in the demo's
    (metric, breakdown, org, period, category) order across all of England while memory holds one ICS's group
    or one spilled bucket. Files are staged under a hidden folder (a local temporary one for object storage) and
    published once every snapshot is complete (``demo.publish_snapshot``: renames, or uploads with the
    ``_COMPLETE`` marker last), so an interrupted run leaves the root as it was. ``metric_ids`` limits the metrics
    (for quick tests only).
    """
    started, report = time.perf_counter(), progress or (lambda fraction, message: None)
    files, snapshots = layout.storage(root), sorted(snapshots)
    wanted = None if metric_ids is None else set(metric_ids)
    report(0.0, "Building the England hierarchy")
    icss = synthetic_icss(synthetic_ics, seed)
    orgs = england_orgs(icss)
    worlds, codes = list(_worlds(icss, seed)), _dictionaries(orgs)
    plan = sorted(demo._work_plan(metric_ids), key=lambda item: min(item[1]))  # file order is metric order
    writers: dict[date, _RowGroupWriter] = {}
    with demo.staging_area(files, "england") as staging:
        writers = _open_writers(staging, snapshots, orgs, row_group_size)
        spill = _Spill(staging)
        for i, (name, members) in enumerate(plan):
            for _, world in worlds:
                _spill_ics(spill, _group_truth(world, name, members, snapshots[-1], wanted), snapshots, world.seed,
                           codes)
            for key in sorted(spill.files, key=lambda k: (k[1], k[2])):
                writers[key[0]].write(_bucket_table(spill.take(key), catalogue().metric(key[1]), key[2], codes))
            report((i + 1) / len(plan) * 0.99, f"Wrote {name.replace('_', ' ')} for {len(worlds)} ICSs")
        for snapshot, writer in writers.items():
            writer.close()
            report(0.99, f"Summing snapshot {snapshot.isoformat()} to areas")
            folder = Path(layout.snapshot_folder(str(staging), snapshot))
            demo.write_staged_rollup(folder)
            demo.write_manifest(folder, demo_manifest("metrics.demo_england", seed, snapshot=snapshot.isoformat(),
                                                      rows=writer.rows, synthetic_icss=synthetic_ics))
        for snapshot in snapshots:
            demo.publish_snapshot(files, Path(layout.snapshot_folder(str(staging), snapshot)), snapshot)
    rows = {s.isoformat(): w.rows for s, w in writers.items()}
    report(1.0, "England data ready")
    return {"snapshots": list(rows), "rows": sum(rows.values()), "rows_per_snapshot": rows,
            "orgs": orgs["org_type"].value_counts().to_dict(), "seconds": round(time.perf_counter() - started, 2)}


def _open_writers(staging: Path, snapshots: Sequence[date], orgs: pd.DataFrame,
                  row_group_size: int) -> dict[date, _RowGroupWriter]:
    """Each snapshot's orgs file written, and a metric_values writer opened (both staged as ``.part``)."""
    writers = {}
    for snapshot in snapshots:
        folder = Path(layout.snapshot_folder(str(staging), snapshot))
        folder.mkdir(parents=True)
        pq.write_table(pa.Table.from_pandas(orgs, preserve_index=False),
                       folder / f"{layout.ORGS_FILE}{layout.STAGED_SUFFIX}", compression="zstd")
        writers[snapshot] = _RowGroupWriter(folder / f"{layout.METRIC_VALUES_FILE}{layout.STAGED_SUFFIX}",
                                            row_group_size)
    return writers
