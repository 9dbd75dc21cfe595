"""The rules every parsed file must pass before anything is written.

Metric rows: the metric is in the catalogue; the period is a whole month, quarter or year as the metric's
frequency says; the breakdown is ``all`` (empty value) or one the catalogue lists for the metric; the org code is
in the hierarchy, valid on the period's first day, and at the metric's lowest level; counts are not negative;
a percentage's numerator is not above its denominator; no (metric, period, org, breakdown) appears twice; a given
value agrees with numerator/denominator to the precision it was given to.

Each problem names the file, the row(s), the column(s) and what was expected.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from metrics.hierarchy import latest_change, valid_on
from metrics.ingest.common import Context
from metrics.ingest.model import Parsed

KEY = ["metric_id", "period_start", "period_end", "org_code", "breakdown", "breakdown_value"]
FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
MIN_MAPPING_COVERAGE = 0.5


def _period_end(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1) - timedelta(days=1)


def validate_metric_rows(parsed: Parsed, ctx: Context) -> None:
    """Check every row of a metric file, adding problems to ``parsed`` and filling the stored ``value``."""
    rows = parsed.rows
    if rows.empty:
        return
    metrics = {m.id: m for m in ctx.catalogue.metrics}
    unknown = rows[~rows["metric_id"].isin(metrics) & (rows["metric_id"] != "")]
    for metric_id, group in unknown.groupby("metric_id"):
        parsed.problem(group["source_row"].tolist(), ["metric_id"], f"{metric_id!r} is not a metric in the catalogue "
                                                              "(expected an id from metrics/catalogue.yaml)")
    for row in rows.itertuples(index=False):
        metric = metrics.get(row.metric_id)
        if metric is None:
            continue
        _check_period(parsed, row, metric.frequency)
        _check_breakdown(parsed, row, metric)
        _check_counts(parsed, row, metric.unit)
    _check_orgs(parsed, rows, metrics, ctx)
    _check_duplicates(parsed, rows)
    parsed.rows = _with_values(parsed, rows, metrics, ctx.options.counts_rounded_to_5)


def _check_period(parsed: Parsed, row, frequency: str) -> None:
    start, end = row.period_start, row.period_end
    if start is None or end is None or start != start or end != end:
        return  # the date itself was already reported
    months = FREQUENCY_MONTHS[frequency]
    if start.day != 1 or end != _period_end(start, months):
        parsed.problem([row.source_row], ["period_start", "period_end"],
                       f"{start} to {end} is not one {frequency} period (expected a period starting on the 1st "
                       f"and ending {months} month{'s' if months > 1 else ''} later, e.g. {start.replace(day=1)} "
                       f"to {_period_end(start.replace(day=1), months)})")


def _check_breakdown(parsed: Parsed, row, metric) -> None:
    value = row.breakdown_value or ""
    if row.breakdown == "all":
        if value:
            parsed.problem([row.source_row], ["breakdown_value"], f"{value!r} given for a total (expected an empty "
                                                            "breakdown_value when breakdown is 'all')")
    elif row.breakdown not in metric.breakdowns:
        allowed = ", ".join(("all", *metric.breakdowns))
        parsed.problem([row.source_row], ["breakdown"], f"{row.breakdown!r} is not a breakdown of {metric.id} "
                                                  f"(expected one of: {allowed})")
    elif not value:
        parsed.problem([row.source_row], ["breakdown_value"], f"breakdown {row.breakdown!r} needs a breakdown_value "
                                                        "(e.g. Female, or an ethnic group)")


def _number(x) -> float | None:
    return None if x is None or x != x else float(x)


def _check_counts(parsed: Parsed, row, unit: str) -> None:
    numerator, denominator = _number(row.numerator), _number(row.denominator)
    for name, number in (("numerator", numerator), ("denominator", denominator)):
        if number is not None and number < 0:
            parsed.problem([row.source_row], [name], f"{number:g} is negative (expected a count of 0 or more)")
    if numerator is None or denominator is None or numerator < 0 or denominator < 0:
        if numerator is not None and denominator is None and not row.suppressed:
            parsed.problem([row.source_row], ["denominator"],
                           "a numerator needs a denominator (the dashboard sums both up the hierarchy)")
        return
    if unit == "percent" and numerator > denominator:
        parsed.problem([row.source_row], ["numerator", "denominator"],
                       f"numerator {numerator:g} is larger than denominator {denominator:g} "
                       "(expected numerator <= denominator for a percentage)")
    elif denominator == 0 and numerator > 0:
        parsed.problem([row.source_row], ["denominator"], f"denominator is 0 with a numerator of {numerator:g} "
                                                    "(expected a positive denominator)")


def _check_orgs(parsed: Parsed, rows: pd.DataFrame, metrics: dict, ctx: Context) -> None:
    """Every org is known, valid on the period's first day, and at the metric's lowest level."""
    orgs = ctx.orgs
    known = set(orgs["org_code"])
    unknown = rows[~rows["org_code"].isin(known)]
    for code, group in unknown.groupby("org_code"):
        parsed.problem(group["source_row"].tolist(), ["org_code"],
                       f"{code!r} is not an organisation in the NWL hierarchy (expected a practice ODS code such as "
                       "E84002, or a borough ONS code such as E09000015)")
    dated = rows[rows["org_code"].isin(known) & rows["period_start"].notna()]
    for start, group in dated.groupby("period_start"):
        valid = valid_on(orgs, start).drop_duplicates("org_code").set_index("org_code")["org_type"]
        for row in group.itertuples(index=False):
            if row.org_code not in valid.index:
                parsed.problem([row.source_row], ["org_code", "period_start"],
                               f"{row.org_code} is not in the hierarchy on {start} ({_membership(orgs, row.org_code)})")
                continue
            metric = metrics.get(row.metric_id)
            if metric is not None and valid[row.org_code] != metric.lowest_level:
                parsed.problem([row.source_row], ["org_code"],
                               f"{row.org_code} is a {valid[row.org_code]}, but {metric.id} is stored at "
                               f"{metric.lowest_level} level (higher levels are summed by the dashboard)")


def _membership(orgs: pd.DataFrame, code: str) -> str:
    spans = orgs[orgs["org_code"] == code]
    parts = [f"{'the start' if pd.isna(r.valid_from) else r.valid_from} to "
             f"{'now' if pd.isna(r.valid_to) else r.valid_to}" for r in spans.itertuples()]
    return "it is valid from " + "; ".join(parts)


def _check_duplicates(parsed: Parsed, rows: pd.DataFrame) -> None:
    keyed = rows.assign(breakdown_value=rows["breakdown_value"].fillna(""))
    repeated = keyed[keyed.duplicated(KEY, keep=False)]
    for key, group in repeated.groupby(KEY, dropna=False):
        parsed.problem(group["source_row"].tolist(), ["metric_id", "period_start", "org_code", "breakdown"],
                       f"the same metric, period, organisation and breakdown appears {len(group)} times "
                       f"({key[0]}, {key[1]}, {key[3]}, {key[4]} {key[5]}".rstrip() + "); expected one row each")


def _with_values(parsed: Parsed, rows: pd.DataFrame, metrics: dict, rounded: bool) -> pd.DataFrame:
    """Stored value in the catalogue's unit; a given value must agree with numerator/denominator."""
    values = []
    for row in rows.itertuples(index=False):
        metric = metrics.get(row.metric_id)
        numerator, denominator = _number(row.numerator), _number(row.denominator)
        given, scale = _number(row.value_given), _number(row.value_scale)
        if metric is None:
            values.append(None)
            continue
        if numerator is not None and denominator and denominator > 0:
            values.append(numerator / denominator * metric.multiplier)
            checkable = given is not None and scale
            if checkable and not _agrees(given, numerator, denominator, scale, row.value_tol, rounded):
                parsed.problem([row.source_row], ["value"],
                               f"value {given:g} does not match numerator/denominator "
                               f"({numerator:g}/{denominator:g} x {scale:g} = {numerator / denominator * scale:.6g}; "
                               "expected the value to agree to the precision given)")
        elif given is not None and scale:
            values.append(given / scale * metric.multiplier)
        else:
            values.append(None)
    return rows.assign(value=values)


def _agrees(given: float, numerator: float, denominator: float, scale: float, tolerance, rounded: bool) -> bool:
    tol = (_number(tolerance) or 0.0) + 1e-9 * max(1.0, abs(given))
    if rounded:  # counts rounded to the nearest 5: the true counts may be 2.5 either way
        low = max(numerator - 2.5, 0) / (denominator + 2.5) * scale
        high = (numerator + 2.5) / max(denominator - 2.5, 0.5) * scale
        return low - tol <= given <= high + tol
    return abs(given - numerator / denominator * scale) <= tol


# ------------------------------------------------------------------------------------------ list sizes
def validate_list_sizes(parsed: Parsed, ctx: Context) -> None:
    rows = parsed.rows
    for row in rows.itertuples(index=False):
        if row.patients is not None and row.patients == row.patients:
            if row.patients < 0:
                parsed.problem([row.source_row], ["NUMBER_OF_PATIENTS"],
                               f"{row.patients:g} is negative (expected a count)")
            elif not float(row.patients).is_integer():
                parsed.problem([row.source_row], ["NUMBER_OF_PATIENTS"], f"{row.patients:g} is not a whole number of "
                                                                    "patients")
    for extract_date, group in rows.dropna(subset=["extract_date"]).groupby("extract_date"):
        valid = set(valid_on(ctx.orgs[ctx.orgs["org_type"] == "practice"], extract_date)["org_code"])
        for row in group[~group["org_code"].isin(valid)].itertuples(index=False):
            parsed.problem([row.source_row], ["CODE"], f"practice {row.org_code} is not in the NWL hierarchy on "
                                                 f"{extract_date} ({_membership(ctx.orgs, row.org_code)})")
    key = ["org_code", "extract_date", "sex", "age_band"]
    for values, group in rows[rows.duplicated(key, keep=False)].groupby(key):
        parsed.problem(group["source_row"].tolist(), ["CODE", "SEX", "AGE"],
                       f"{values[0]} {values[2]} {values[3]} appears {len(group)} times for {values[1]} "
                       "(expected one row each)")


# --------------------------------------------------------------------------------------------- mapping
def validate_mapping(parsed: Parsed, ctx: Context) -> None:
    if parsed.as_of is None or parsed.rows.empty:
        if parsed.rows.empty and not parsed.problems:
            parsed.problem([], ["PRACTICE_CODE"], "no NWL practices in this mapping (expected rows with sub-ICB "
                                                  "W2U3Z or ICB QRV)")
        return
    newest = latest_change(ctx.orgs)
    if newest is not None and parsed.as_of <= newest:
        parsed.problem([], ["EXTRACT_DATE"], f"the mapping is dated {parsed.as_of}, but the hierarchy already holds "
                                             f"changes from {newest}; mappings load in date order (expected a date "
                                             f"after {newest})")
    current = valid_on(ctx.orgs[ctx.orgs["org_type"] == "practice"], parsed.as_of)
    present = set(parsed.rows["practice_code"]) & set(current["org_code"])
    if len(current) and len(present) < MIN_MAPPING_COVERAGE * len(current):
        parsed.problem([], ["PRACTICE_CODE"], f"only {len(present)} of the {len(current)} NWL practices open on "
                                              f"{parsed.as_of} are in this mapping; a mapping must list every NWL "
                                              "practice (those missing are treated as closed)")


# ----------------------------------------------------------------------------------- practice attributes
def validate_practice_attributes(parsed: Parsed, ctx: Context) -> None:
    """Attribute values (the IMD score) are not negative, and one per practice and period."""
    rows = parsed.rows
    for row in rows[rows["value"] < 0].itertuples(index=False):
        parsed.problem([row.source_row], ["Value"], f"{row.value:g} is negative (expected a score of 0 or more)")
    key = ["org_code", "attribute", "period_start"]
    for values, group in rows[rows.duplicated(key, keep=False)].groupby(key):
        parsed.problem(group["source_row"].tolist(), ["Area Code", "Time period"],
                       f"{values[0]} has {len(group)} {values[1]} values for {values[2]} (expected one)")


VALIDATORS = {"metric_values": validate_metric_rows, "list_sizes": validate_list_sizes, "mapping": validate_mapping,
              "practice_attributes": validate_practice_attributes}


def cross_file_duplicates(parsed_files: list[Parsed]) -> None:
    """The same metric row in two files of one load is a problem in both (which one should win?)."""
    frames = [p.rows.assign(_file=p.file) for p in parsed_files if p.kind == "metric_values" and not p.rows.empty]
    if len(frames) < 2:
        return
    both = pd.concat(frames, ignore_index=True)
    both["breakdown_value"] = both["breakdown_value"].fillna("")
    clashes = both[both.duplicated(KEY, keep=False)]
    clashes = clashes[clashes.groupby(KEY, dropna=False)["_file"].transform("nunique") > 1]
    by_file = {p.file: p for p in parsed_files}
    for file, group in clashes.groupby("_file"):
        others = sorted(set(clashes["_file"]) - {file})
        by_file[file].problem(group["source_row"].tolist(), ["metric_id", "period_start", "org_code", "breakdown"],
                              f"the same rows are also in {', '.join(others)} (expected each row in one file only)")
