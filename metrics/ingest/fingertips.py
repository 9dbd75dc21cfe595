"""OHID Fingertips CSV exports (the 27-column layout), any indicator the catalogue maps by indicator ID.

Quirks of real exports handled here: column 23 has a different name in each export ("Compared to percentiles",
"Column not used", "Compared to PCNs (v. 27/10/23) value or percentiles") and is ignored; Parent Code is blank
in some releases; Sex, Age and even Indicator ID are blank on some appended rows (the 2023/24 GP rows of the
smoking export), the ID then taken from the Indicator Name the file's other rows pair with it; denominators
can be fractional; a suppressed value is a blank Value with a note, kept as suppressed, never zero.

Only rows at a metric's lowest level are loaded (GP practices, or London boroughs for borough metrics); England,
region, ICB, sub-ICB and PCN rows are benchmarks the dashboard computes itself and are counted as skipped (PCN
rows with a note: the dashboard's PCN figures are its sums of the practice counts), as are practices outside NWL
(national exports hold all of England) and category rows (deprivation deciles).

A few indicators are practice attributes, not metrics (``PRACTICE_ATTRIBUTES``: the IMD 2019 score, 93553): their
practice values update the new snapshot's ``orgs`` (``imd_score``; ``imd_decile`` too when the export holds every
English practice, from which the national decile follows) and such an export loads as a file of its own.
"""

from __future__ import annotations

import math
import re
from datetime import date

import pandas as pd

from metrics.ingest.common import Context, empty_metric_rows, find_columns, numbers, rounded_five, row_numbers
from metrics.ingest.model import ATTRIBUTE_COLUMNS, Parsed
from metrics.ingest.readers import decimals_tolerance, first_row_number

COLUMNS = {
    "indicator_id": ("Indicator ID",), "indicator_name": ("Indicator Name",), "area_code": ("Area Code",),
    "area_type": ("Area Type",), "sex": ("Sex",), "category_type": ("Category Type",),
    "period": ("Time period",), "value": ("Value",), "count": ("Count",), "denominator": ("Denominator",),
    "value_note": ("Value note",),
}
OPTIONAL = frozenset({"category_type", "value_note"})
COLUMN_23 = 22  # zero-based position of the column whose name changes from export to export
SCALES = (1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0)
_GP_TYPE = re.compile(r"^GPs?\b", re.IGNORECASE)
_LA_TYPE = re.compile(r"(count(y|ies)|district|UA|upper tier|lower tier)", re.IGNORECASE)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}
PERIOD_HELP = "a Fingertips time period like 2022/23, 2023, 2023/24 Q1 or Apr 2024"
_PCN_TYPE = re.compile(r"^PCNs?\b", re.IGNORECASE)
# Indicators that describe a practice rather than measure it: indicator ID -> the orgs column it updates.
PRACTICE_ATTRIBUTES: dict[int, str] = {93553: "imd_score"}  # Deprivation score (IMD 2019), population-weighted
# An export with at least this many GP values in a period holds England's practices (about 6,500), so each
# practice's national decile can be read from it; a regional cut cannot say where a practice sits nationally.
NATIONAL_EXPORT_MIN_PRACTICES = 5_000


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_bounds(text: str) -> tuple[date, date]:
    """First and last day of a Fingertips time period.

    >>> [f"{a} {b}" for a, b in map(period_bounds, ("2022/23", "2019", "2023/24 Q2", "Apr 2024"))]
    ['2022-04-01 2023-03-31', '2019-01-01 2019-12-31', '2023-07-01 2023-09-30', '2024-04-01 2024-04-30']
    """
    cleaned = " ".join(text.split())
    if m := re.fullmatch(r"(\d{4})/(\d{2})", cleaned):
        start, months = date(int(m[1]), 4, 1), 12
        if (int(m[1]) + 1) % 100 != int(m[2]):
            raise ValueError(f"{text!r} is not {PERIOD_HELP}")
    elif m := re.fullmatch(r"(\d{4})/(\d{2}) Q([1-4])", cleaned):
        start, months = _add_months(date(int(m[1]), 4, 1), 3 * (int(m[3]) - 1)), 3
    elif m := re.fullmatch(r"(\d{4})", cleaned):
        start, months = date(int(m[1]), 1, 1), 12
    elif (m := re.fullmatch(r"([A-Za-z]{3})[a-z]* (\d{4})", cleaned)) and m[1].lower() in _MONTHS:
        start, months = date(int(m[2]), _MONTHS[m[1].lower()], 1), 1
    else:
        raise ValueError(f"{text!r} is not {PERIOD_HELP}")
    end = _add_months(start, months)
    return start, date.fromordinal(end.toordinal() - 1)


def _indicator_ids(parsed: Parsed, frame: pd.DataFrame, cols: dict[str, str], rows: pd.Series) -> pd.Series:
    """Indicator IDs, filling blanks from the Indicator Name when the file pairs that name with one ID."""
    ids, names = frame[cols["indicator_id"]], frame[cols["indicator_name"]]
    pairs = pd.DataFrame({"id": ids, "name": names})[ids != ""].drop_duplicates()
    by_name = pairs.groupby("name")["id"].agg(lambda s: s.iloc[0] if len(s) == 1 else None).dropna()
    filled = ids.where(ids != "", names.map(by_name).fillna(""))
    n_filled = int(((ids == "") & (filled != "")).sum())
    if n_filled:
        parsed.notes.append(f"{n_filled} rows had a blank Indicator ID; taken from their Indicator Name, which the "
                            "file's other rows pair with one ID")
    missing = rows[filled == ""]
    if len(missing):
        parsed.problem(missing.tolist(), ["Indicator ID"], "Indicator ID is blank and the Indicator Name does not "
                                                           "identify it (expected a number such as 91547)")
    return filled


def _classify(frame: pd.DataFrame, cols: dict[str, str], ctx: Context) -> pd.Series:
    """'practice' / 'borough' for rows to load, else the reason the row is skipped."""
    area_type, code = frame[cols["area_type"]], frame[cols["area_code"]]
    categories = frame[cols["category_type"]] if "category_type" in cols else pd.Series("", index=frame.index)
    practices, boroughs = ctx.known_codes("practice"), ctx.known_codes("borough")
    level = pd.Series("", index=frame.index, dtype=object)
    for i in frame.index:
        if categories[i]:
            level[i] = "category rows (e.g. deprivation deciles) are not loaded"
        elif _GP_TYPE.match(area_type[i]):
            level[i] = "practice" if code[i] in practices else "practices outside NWL"
        elif _LA_TYPE.search(area_type[i]) and code[i].startswith(("E09", "E06", "E07", "E08", "E10")):
            level[i] = "borough" if code[i] in boroughs else "local authorities outside NWL"
        else:
            level[i] = f"{area_type[i] or 'blank'} area type (computed by the dashboard, not loaded)"
    return level


def _columns_for(metric_id: str, metric_ids: pd.Series, *columns: list) -> list[list]:
    """The values, counts and denominators of one metric's rows."""
    keep = [m == metric_id for m in metric_ids]
    return [[x for x, k in zip(column, keep) if k] for column in columns]


def _scale(values: list, counts: list, dens: list) -> float | None:
    """The multiplier the export's values use (percent 100, per 1,000, per 100,000), from the rows themselves."""
    votes = []
    for v, c, d in zip(values, counts, dens):
        if v is not None and c and d and d > 0 and v > 0:
            ratio = v / (c / d)
            votes.append(min(SCALES, key=lambda s: abs(math.log10(ratio) - math.log10(s))))
    return pd.Series(votes).mode().iloc[0] if votes else None


def parse(name: str, frame: pd.DataFrame, ctx: Context) -> Parsed:
    parsed = Parsed(name, "metric_values", empty_metric_rows(), frame, first_row_number(name))
    cols = find_columns(parsed, frame, COLUMNS, OPTIONAL)
    if parsed.file_level_problems:
        return parsed
    if len(frame.columns) > COLUMN_23:
        parsed.notes.append(f"column 23 is named {frame.columns[COLUMN_23]!r} in this export (not used)")
    rows = row_numbers(frame, parsed.first_row)
    ids = _indicator_ids(parsed, frame, cols, rows)
    level = _classify(frame, cols, ctx)
    attribute = ids.map(lambda i: i.isdigit() and int(i) in PRACTICE_ATTRIBUTES).astype(bool)
    if attribute.any() and attribute[ids != ""].all():
        return _attribute_rows(parsed, frame, cols, rows, ids, level)
    if attribute.any():
        listed = ", ".join(f"{i} ({c})" for i, c in PRACTICE_ATTRIBUTES.items())
        parsed.problem(rows[attribute].tolist(), ["Indicator ID"], f"practice attribute rows ({listed}) update the "
                       "practices, not a metric: load them as a file of their own (expected one file per export)")
    for reason, count in level[~level.isin(["practice", "borough"]) & ~attribute].value_counts().items():
        parsed.skipped[reason] += int(count)
    _note_pcn_rows(parsed, frame[cols["area_type"]], level)
    keep = level.isin(["practice", "borough"]) & (ids != "") & ~attribute
    frame, rows, ids, level = frame[keep], rows[keep], ids[keep], level[keep]
    metric_ids = _metric_ids(parsed, frame, cols, ids, rows, ctx)
    sexes = frame[cols["sex"]].str.lower()
    breakdown = sexes.map(lambda s: "all" if s in ("", "persons") else "sex")
    split_ok = [b == "all" or "sex" in ctx.catalogue.metric(m).breakdowns if m else True
                for b, m in zip(breakdown, metric_ids)]
    unsplit = ~pd.Series(split_ok, index=frame.index)
    if unsplit.any():
        parsed.skipped["sex-specific rows for a metric the catalogue does not split by sex"] += int(unsplit.sum())
    frame, rows, metric_ids, breakdown, level = (x[~unsplit] for x in (frame, rows, metric_ids, breakdown, level))
    parsed.rows = _metric_rows(parsed, frame, cols, rows, metric_ids, breakdown, ctx)
    return parsed


def _note_pcn_rows(parsed: Parsed, area_types: pd.Series, level: pd.Series) -> None:
    """Say why published PCN rows are left out: a reader comparing with Fingertips looks for them."""
    pcn = int((area_types.str.match(_PCN_TYPE) & ~level.isin(["practice", "borough"])).sum())
    if pcn:
        parsed.notes.append(f"{pcn} PCN rows not loaded: the dashboard's PCN figures are the sums of their practices' "
                            "counts (the published PCN rows are a check on those sums)")


def _attribute_rows(parsed: Parsed, frame: pd.DataFrame, cols: dict[str, str], rows: pd.Series, ids: pd.Series,
                    level: pd.Series) -> Parsed:
    """A practice-attribute export (the IMD score): NWL practices' values, with national deciles if it can give
    them. Other rows are counted as skipped, as for metrics."""
    parsed.kind = "practice_attributes"
    values = pd.Series(numbers(parsed, frame[cols["value"]], rows, "Value", "a score")[0], index=frame.index,
                       dtype=float)
    starts = pd.Series([_period_start(parsed, text, row) for text, row in zip(frame[cols["period"]], rows)],
                       index=frame.index, dtype=object)
    totals = frame[cols["category_type"]] == "" if "category_type" in cols else pd.Series(True, index=frame.index)
    gp = frame[cols["area_type"]].str.match(_GP_TYPE) & totals
    deciles = _national_deciles(parsed, values[gp], starts[gp])
    outside = level.where(level != "borough", "local authority rows (practice attributes load for practices only)")
    for reason, count in outside[level != "practice"].value_counts().items():
        parsed.skipped[reason] += int(count)
    blank = (level == "practice") & values.isna()
    if blank.any():
        parsed.skipped["practices with no published value (their attribute is left as it was)"] += int(blank.sum())
    keep = (level == "practice") & values.notna()
    parsed.rows = pd.DataFrame({
        "org_code": frame.loc[keep, cols["area_code"]].to_numpy(),
        "attribute": [PRACTICE_ATTRIBUTES[int(i)] for i in ids[keep]], "period_start": starts[keep].to_numpy(),
        "value": values[keep].to_numpy(), "national_decile": deciles.reindex(values[keep].index).to_numpy(),
        "source_row": rows[keep].to_numpy()}, columns=[*ATTRIBUTE_COLUMNS, "source_row"])
    parsed.notes.append(f"{len(parsed.rows)} practice values of {', '.join(sorted(set(parsed.rows['attribute'])))}"
                        " go into the new snapshot's organisations (the newest period per practice)")
    return parsed


def _period_start(parsed: Parsed, text: str, row: int) -> date | None:
    """A period's first day, or None with the problem recorded against the row (the file goes on being read)."""
    try:
        return period_bounds(text)[0]
    except ValueError as exc:
        parsed.problem([row], ["Time period"], str(exc))
        return None


def _national_deciles(parsed: Parsed, scores: pd.Series, starts: pd.Series) -> pd.Series:
    """Each GP row's national decile (1 = highest score = most deprived) when its period holds every English
    practice; else none, and a note that imd_decile stays as it was."""
    out = pd.Series(pd.NA, index=scores.index, dtype="Int64")
    for _, group in scores.dropna().groupby(starts[scores.notna()].astype(str)):
        if len(group) >= NATIONAL_EXPORT_MIN_PRACTICES:
            rank = group.rank(ascending=False, method="min")
            out[group.index] = ((rank * 10 - 1) // len(group) + 1).clip(1, 10).astype(int)
    if out.notna().any():
        parsed.notes.append("national deciles (1 = most deprived) computed from every English practice in the "
                            "export go into imd_decile")
    else:
        parsed.notes.append(f"imd_decile left as it was: the export holds {scores.notna().sum():,} practice values, "
                            f"not all of England's (a national export, {NATIONAL_EXPORT_MIN_PRACTICES:,}+ practices, "
                            "gives each practice's national decile)")
    return out


def _metric_ids(parsed: Parsed, frame: pd.DataFrame, cols: dict[str, str], ids: pd.Series, rows: pd.Series,
                ctx: Context) -> pd.Series:
    """Catalogue metric per row from its indicator ID; an unmapped indicator is one problem for all its rows."""
    out = pd.Series("", index=frame.index, dtype=object)
    for indicator, group in ids.groupby(ids):
        metric = ctx.catalogue.for_fingertips_indicator(int(indicator)) if indicator.isdigit() else None
        if metric is None:
            name = frame.loc[group.index, cols["indicator_name"]].iloc[0]
            parsed.problem(rows[group.index].tolist(), ["Indicator ID"],
                           f"Fingertips indicator {indicator} ({name}) is not mapped to any catalogue metric "
                           "(expected an ID listed under fingertips_indicator_ids in metrics/catalogue.yaml)")
        else:
            out[group.index] = metric.id
    return out


def _metric_rows(parsed: Parsed, frame: pd.DataFrame, cols: dict[str, str], rows: pd.Series,
                 metric_ids: pd.Series, breakdown: pd.Series, ctx: Context) -> pd.DataFrame:
    counts, count_marker = numbers(parsed, frame[cols["count"]], rows, "Count", "a count")
    dens, _ = numbers(parsed, frame[cols["denominator"]], rows, "Denominator", "a denominator")
    values, _ = numbers(parsed, frame[cols["value"]], rows, "Value", "a value")
    notes = frame[cols["value_note"]] if "value_note" in cols else pd.Series("", index=frame.index)
    starts, ends = [], []
    for text, row in zip(frame[cols["period"]], rows):
        try:
            start, end = period_bounds(text)
        except ValueError as exc:
            parsed.problem([row], ["Time period"], str(exc))
            start = end = None
        starts.append(start)
        ends.append(end)
    scales = {m: _scale(*_columns_for(m, metric_ids, values, counts, dens)) for m in set(metric_ids)}
    suppressed = [(c is None) or ("suppress" in note.lower()) for c, note in zip(counts, notes)]
    if ctx.options.counts_rounded_to_5:
        suppressed = rounded_five(parsed, counts, suppressed)
    n_suppressed = sum(suppressed)
    if n_suppressed:
        parsed.notes.append(f"{n_suppressed} rows have no published count (blank, a marker or a suppression note): "
                            "kept as suppressed, not zero")
    return pd.DataFrame({
        "metric_id": metric_ids.to_numpy(), "period_start": starts, "period_end": ends,
        "org_code": frame[cols["area_code"]].to_numpy(), "breakdown": breakdown.to_numpy(),
        "breakdown_value": [("" if b == "all" else s.capitalize()) for b, s in zip(breakdown, frame[cols["sex"]])],
        "numerator": [None if s else c for c, s in zip(counts, suppressed)], "denominator": dens,
        "value": [None] * len(frame), "suppressed": suppressed, "source_row": rows.to_numpy(),
        "value_given": values,
        "value_tol": [decimals_tolerance(t) if v is not None else None for t, v in zip(frame[cols["value"]], values)],
        "value_scale": [scales.get(m) for m in metric_ids],
    })
