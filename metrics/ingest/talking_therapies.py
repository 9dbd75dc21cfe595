"""NHS Talking Therapies (formerly IAPT) monthly measures CSV.

Layout: REPORTING_PERIOD_START, REPORTING_PERIOD_END, GROUP_TYPE, ORG_CODE1, ORG_NAME1, ORG_CODE2, ORG_NAME2,
MEASURE_ID, MEASURE_NAME and the value, named MEASURE_VALUE_SUPPRESSED in every month except March 2021
(MEASURE_VALUE). Dates are ``01/05/2023`` in 2023 and ``2025-06-01`` in 2025. A suppressed value is ``-``.

The recovery rate is built from the counts as NHS England defines it: people who moved to recovery over people
who finished a course of treatment less those not at caseness at the start. Measures are matched by
MEASURE_NAME, which is stable across releases. The access metric's denominator is the borough's plan, which
is not in this file, so it is not loaded from here.

The catalogue keeps these metrics by borough, so rows for the eight legacy NWL CCGs (one per borough, until April
2021) load; rows for the merged NWL sub-ICB (W2U3Z) describe NWL as a whole and are skipped with a note, as are
England, region and provider rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metrics.hierarchy import BOROUGH_CODES, LEGACY_CCG_BOROUGH, NWL_SUB_ICB_CODE
from metrics.ingest.common import Context, dates, empty_metric_rows, find_columns, numbers, row_numbers
from metrics.ingest.model import Parsed
from metrics.ingest.readers import decimals_tolerance, first_row_number, parse_date

COLUMNS = {
    "start": ("REPORTING_PERIOD_START",), "end": ("REPORTING_PERIOD_END",), "group_type": ("GROUP_TYPE",),
    "org1": ("ORG_CODE1",), "org2": ("ORG_CODE2",), "measure_name": ("MEASURE_NAME",),
    "value": ("MEASURE_VALUE_SUPPRESSED", "MEASURE_VALUE"),
}


@dataclass(frozen=True)
class Derived:
    """A catalogue metric built from published counts: numerator = sum(adds), denominator = adds - subtracts."""

    metric_id: str
    numerator: tuple[str, ...]
    denominator_add: tuple[str, ...]
    denominator_subtract: tuple[str, ...]
    percentage: str | None


DERIVED = (
    Derived("talking_therapies_recovery", ("Count_Recovery",), ("Count_FinishedCourseTreatment",),
            ("Count_NotAtCaseness",), "Percentage_Recovery"),
)


def _borough(org1: str) -> str | None:
    borough = LEGACY_CCG_BOROUGH.get(org1.upper())
    return BOROUGH_CODES[borough] if borough else None


def parse(name: str, frame: pd.DataFrame, ctx: Context) -> Parsed:
    parsed = Parsed(name, "metric_values", empty_metric_rows(), frame, first_row_number(name))
    cols = find_columns(parsed, frame, COLUMNS)
    if parsed.file_level_problems:
        return parsed
    rows = row_numbers(frame, parsed.first_row)
    used = {m for d in DERIVED for m in (*d.numerator, *d.denominator_add, *d.denominator_subtract, d.percentage) if m}
    org1, org2 = frame[cols["org1"]], frame[cols["org2"]].str.lower()
    borough = org1.map(_borough)
    reasons = pd.Series("", index=frame.index, dtype=object)
    reasons[org2.ne("all") & org2.ne("")] = "provider rows (split by provider)"
    reasons[(reasons == "") & org1.str.upper().eq(NWL_SUB_ICB_CODE)] = (
        "NWL-wide sub-ICB (W2U3Z) rows: these metrics are stored by borough")
    reasons[(reasons == "") & borough.isna()] = "England, region and other areas outside NWL"
    reasons[(reasons == "") & ~frame[cols["measure_name"]].isin(used)] = "measures no catalogue metric uses"
    for reason, count in reasons[reasons != ""].value_counts().items():
        parsed.skipped[reason] += int(count)
    keep = reasons == ""
    frame, rows, borough = frame[keep], rows[keep], borough[keep]
    values, suppressed = numbers(parsed, frame[cols["value"]], rows, cols["value"], "a count")
    long = pd.DataFrame({
        "start": dates(parsed, frame[cols["start"]], rows, cols["start"], parse_date),
        "end": dates(parsed, frame[cols["end"]], rows, cols["end"], parse_date),
        "org": borough.to_numpy(), "measure": frame[cols["measure_name"]].to_numpy(), "value": values,
        "suppressed": suppressed, "text": frame[cols["value"]].to_numpy(), "row": rows.to_numpy(),
    }).dropna(subset=["start", "end"])
    parsed.rows = pd.DataFrame([r for d in DERIVED for r in _derive(parsed, long, d)],
                               columns=empty_metric_rows().columns)
    return parsed


def _derive(parsed: Parsed, long: pd.DataFrame, derived: Derived) -> list[dict]:
    """One metric row per period and borough from the measures that make it up."""
    out = []
    parts = (*derived.numerator, *derived.denominator_add, *derived.denominator_subtract)
    for (start, end, org), group in long.groupby(["start", "end", "org"]):
        by_measure = group.drop_duplicates("measure", keep=False).set_index("measure")
        repeated = group[group.duplicated("measure", keep=False)]
        if len(repeated):
            parsed.problem(repeated["row"].tolist(), ["MEASURE_NAME"],
                           f"{repeated['measure'].iloc[0]} appears more than once for {org} in {start:%b %Y}")
            continue
        missing = [m for m in parts if m not in by_measure.index]
        if missing:
            if any(m in by_measure.index for m in parts):
                parsed.problem(group["row"].tolist(), ["MEASURE_NAME"],
                               f"{derived.metric_id} needs {', '.join(missing)} too for {org} in {start:%b %Y}")
            continue

        def total(names: tuple[str, ...]) -> float | None:
            vals = [by_measure.at[m, "value"] for m in names]
            return None if any(v is None or v != v for v in vals) else float(sum(vals))

        numerator = total(derived.numerator)
        add, subtract = total(derived.denominator_add), total(derived.denominator_subtract) or 0.0
        denominator = None if add is None else add - subtract
        pct = derived.percentage if derived.percentage in by_measure.index else None
        value_given = by_measure.at[pct, "value"] if pct else None
        out.append({
            "metric_id": derived.metric_id, "period_start": start, "period_end": end, "org_code": org,
            "breakdown": "all", "breakdown_value": "", "numerator": numerator, "denominator": denominator,
            "value": None, "suppressed": numerator is None, "source_row": int(by_measure.at[parts[0], "row"]),
            "value_given": value_given if value_given == value_given else None,
            "value_tol": decimals_tolerance(by_measure.at[pct, "text"]) if value_given is not None else None,
            "value_scale": 100.0,
        })
    return out
