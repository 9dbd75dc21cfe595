"""The tidy template any local extract (WSIC, local BI) can be shaped into: CSV, Excel or parquet with exactly

    metric_id, period_start, period_end, org_code, breakdown, breakdown_value, numerator, denominator[, value]

Dates are ISO (YYYY-MM-DD); ``breakdown`` is ``all`` with an empty ``breakdown_value`` for totals; ``value``,
if given, is in the catalogue's unit (percent, or per 100,000) and is checked against numerator/denominator.
A suppressed count is blank, ``*``, ``-`` or ``NA`` (never 0). Rows are at the metric's lowest level: practice
ODS codes, or borough ONS codes (E09...) for borough-level metrics.
"""

from __future__ import annotations

import pandas as pd

from metrics.ingest.common import Context, dates, find_columns, numbers, rounded_five, row_numbers
from metrics.ingest.model import Parsed
from metrics.ingest.readers import decimals_tolerance, first_row_number, parse_iso_date

TIDY_COLUMNS = ("metric_id", "period_start", "period_end", "org_code", "breakdown", "breakdown_value",
                "numerator", "denominator")
OPTIONAL_COLUMNS = ("value",)


def parse(name: str, frame: pd.DataFrame, ctx: Context) -> Parsed:
    parsed = Parsed(name, "metric_values", pd.DataFrame(), frame, first_row_number(name))
    spec = {c: (c,) for c in (*TIDY_COLUMNS, *OPTIONAL_COLUMNS)}
    cols = find_columns(parsed, frame, spec, frozenset(OPTIONAL_COLUMNS))
    extra = [c for c in frame.columns if c.lower() not in spec]
    if extra:
        parsed.problem([], extra, "unexpected column(s): the tidy template has exactly "
                                  f"{', '.join(TIDY_COLUMNS)} and optionally value")
    if parsed.file_level_problems:
        return parsed
    rows = row_numbers(frame, parsed.first_row)
    numerators, suppressed = numbers(parsed, frame[cols["numerator"]], rows, "numerator", "a count")
    denominators, _ = numbers(parsed, frame[cols["denominator"]], rows, "denominator", "a count")
    value_text = frame[cols["value"]] if "value" in cols else pd.Series("", index=frame.index)
    values, _ = numbers(parsed, value_text, rows, "value", "a value")
    metric_ids = frame[cols["metric_id"]]
    scales = [ctx.catalogue.metric(m).multiplier if m in _known(ctx) else None for m in metric_ids]
    if ctx.options.counts_rounded_to_5:
        suppressed = rounded_five(parsed, numerators, suppressed)
    parsed.rows = pd.DataFrame({
        "metric_id": metric_ids.to_numpy(),
        "period_start": dates(parsed, frame[cols["period_start"]], rows, "period_start", parse_iso_date),
        "period_end": dates(parsed, frame[cols["period_end"]], rows, "period_end", parse_iso_date),
        "org_code": frame[cols["org_code"]].to_numpy(), "breakdown": frame[cols["breakdown"]].to_numpy(),
        "breakdown_value": frame[cols["breakdown_value"]].to_numpy(),
        "numerator": [None if s else n for n, s in zip(numerators, suppressed)], "denominator": denominators,
        "value": [None] * len(frame), "suppressed": suppressed, "source_row": rows.to_numpy(), "value_given": values,
        "value_tol": [decimals_tolerance(t) if v is not None else None for t, v in zip(value_text, values)],
        "value_scale": scales,
    })
    n_suppressed = sum(suppressed)
    if n_suppressed:
        parsed.notes.append(f"{n_suppressed} rows have a suppressed numerator: kept as suppressed, not zero")
    return parsed


def _known(ctx: Context) -> set[str]:
    return {m.id for m in ctx.catalogue.metrics}

