"""NHS Digital "Patients Registered at a GP Practice": the all-ages file (gp-reg-pat-prac-all.csv) and the 5-year
age band file (gp-reg-pat-prac-quin-age.csv).

Column names changed across releases: CCG_CODE / ONS_CCG_CODE (to 2022) became SUB_ICB_LOCATION_CODE /
ONS_SUB_ICB_LOCATION_CODE; the band file has ORG_TYPE / ORG_CODE / AGE_GROUP_5 instead of TYPE / CODE / AGE.
EXTRACT_DATE is ``01JAN2021`` in 2021, ``01Jan2022`` in 2022 and ``2026-04-01`` in 2026.

Rows are loaded into the snapshot's ``list_sizes`` table (org_code, extract_date, sex, age_band, patients), and
each practice's newest all-ages count becomes its ``list_size`` in ``orgs``. National files hold all of England:
rows outside NWL (by sub-ICB / legacy CCG code, or by practice code in the band file) and non-GP rows are skipped.
"""

from __future__ import annotations

import pandas as pd

from metrics.hierarchy import LEGACY_CCG_BOROUGH, NWL_SUB_ICB_CODE
from metrics.ingest.common import Context, dates, find_columns, numbers, row_numbers
from metrics.ingest.model import LIST_SIZE_COLUMNS, Parsed
from metrics.ingest.readers import first_row_number, parse_date

COLUMNS = {
    "extract_date": ("EXTRACT_DATE",), "org_type": ("TYPE", "ORG_TYPE"),
    "parent": ("SUB_ICB_LOCATION_CODE", "CCG_CODE"), "code": ("CODE", "ORG_CODE"), "sex": ("SEX",),
    "age": ("AGE", "AGE_GROUP_5"), "patients": ("NUMBER_OF_PATIENTS",),
}
NWL_PARENTS = frozenset({NWL_SUB_ICB_CODE, *LEGACY_CCG_BOROUGH})


def parse(name: str, frame: pd.DataFrame, ctx: Context) -> Parsed:
    parsed = Parsed(name, "list_sizes", pd.DataFrame(columns=[*LIST_SIZE_COLUMNS, "source_row"]), frame,
                    first_row_number(name))
    cols = find_columns(parsed, frame, COLUMNS, frozenset({"parent"}))
    if parsed.file_level_problems:
        return parsed
    rows = row_numbers(frame, parsed.first_row)
    practices = ctx.known_codes("practice")
    gp = frame[cols["org_type"]].str.upper().isin(["GP", "GP PRACTICE"])
    if "parent" in cols:
        in_nwl = frame[cols["parent"]].str.upper().isin(NWL_PARENTS)
        outside = "practices outside NWL (by sub-ICB / CCG code)"
    else:
        in_nwl = frame[cols["code"]].isin(practices)
        outside = "practices outside NWL (not in the NWL hierarchy)"
    parsed.skipped["non-practice rows (PCN, sub-ICB, ICB, region totals)"] += int((~gp).sum())
    parsed.skipped[outside] += int((gp & ~in_nwl).sum())
    parsed.skipped = +parsed.skipped
    keep = gp & in_nwl
    frame, rows = frame[keep], rows[keep]
    patients, suppressed = numbers(parsed, frame[cols["patients"]], rows, "NUMBER_OF_PATIENTS", "a count")
    parsed.rows = pd.DataFrame({
        "org_code": frame[cols["code"]].to_numpy(),
        "extract_date": dates(parsed, frame[cols["extract_date"]], rows, "EXTRACT_DATE", parse_date),
        "sex": frame[cols["sex"]].str.upper().to_numpy(), "age_band": frame[cols["age"]].str.upper().to_numpy(),
        "patients": patients, "suppressed": suppressed, "source_row": rows.to_numpy(),
    })
    if any(suppressed):
        parsed.notes.append(f"{sum(suppressed)} counts are suppressed or blank: kept as suppressed, not zero")
    return parsed
