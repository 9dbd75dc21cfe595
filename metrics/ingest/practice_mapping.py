"""Practice -> PCN mapping files: NHS Digital's gp-reg-pat-prac-map.csv (CCG_/STP_ columns to 2022,
SUB_ICB_LOCATION_/ICB_ columns since) and the QOF practice mapping (PCN_ODS_CODE, CCG_ODS_CODE, no date).

A mapping is the membership on one date: EXTRACT_DATE in the file, or ``--as-of`` for files without one (the QOF
mapping's date is in its publication's control file). Loading it closes memberships that changed the day before
and opens the new ones (``metrics.hierarchy.apply_mapping``). Rows outside NWL are skipped.
"""

from __future__ import annotations

import re

import pandas as pd

from metrics.hierarchy import ICS_CODE, LEGACY_CCG_BOROUGH, NWL_SUB_ICB_CODE, UNALLOCATED_PCN
from metrics.ingest.common import Context, dates, find_columns, row_numbers
from metrics.ingest.model import MAPPING_COLUMNS, Parsed
from metrics.ingest.readers import first_row_number, parse_date

COLUMNS = {
    "practice_code": ("PRACTICE_CODE",), "practice_name": ("PRACTICE_NAME",), "postcode": ("PRACTICE_POSTCODE",),
    "pcn_code": ("PCN_CODE", "PCN_ODS_CODE"), "pcn_name": ("PCN_NAME",),
    "sub_icb": ("SUB_ICB_LOCATION_CODE", "CCG_CODE", "CCG_ODS_CODE"), "icb": ("ICB_CODE", "STP_CODE", "STP_ODS_CODE"),
    "extract_date": ("EXTRACT_DATE",),
}
OPTIONAL = frozenset({"postcode", "icb", "extract_date", "pcn_name"})
PRACTICE_CODE = re.compile(r"^[A-Z]\d{5}$")
PCN_CODE = re.compile(rf"^(U\d{{5}}|{UNALLOCATED_PCN})$")


def parse(name: str, frame: pd.DataFrame, ctx: Context) -> Parsed:
    parsed = Parsed(name, "mapping", pd.DataFrame(columns=[*MAPPING_COLUMNS, "source_row"]), frame,
                    first_row_number(name))
    cols = find_columns(parsed, frame, COLUMNS, OPTIONAL)
    if parsed.file_level_problems:
        return parsed
    rows = row_numbers(frame, parsed.first_row)
    in_nwl = frame[cols["sub_icb"]].str.upper().isin({NWL_SUB_ICB_CODE, *LEGACY_CCG_BOROUGH})
    if "icb" in cols:
        in_nwl |= frame[cols["icb"]].str.upper().eq(ICS_CODE)
    if (~in_nwl).any():
        parsed.skipped["practices outside NWL"] += int((~in_nwl).sum())
    frame, rows = frame[in_nwl], rows[in_nwl]
    parsed.as_of = _as_of(parsed, frame, cols, rows, ctx)
    codes, pcns = frame[cols["practice_code"]].str.upper(), frame[cols["pcn_code"]].str.upper()
    for row, code in zip(rows[~codes.str.match(PRACTICE_CODE)], codes[~codes.str.match(PRACTICE_CODE)]):
        parsed.problem([row], [cols["practice_code"]], f"{code!r} is not a practice ODS code (expected e.g. E84002)")
    for row, code in zip(rows[~pcns.str.match(PCN_CODE)], pcns[~pcns.str.match(PCN_CODE)]):
        parsed.problem([row], [cols["pcn_code"]], f"{code!r} is not a PCN code (expected e.g. U89375, or U for "
                                                  "unallocated)")
    for code, group in rows.groupby(codes.to_numpy()):
        if len(group) > 1:
            parsed.problem(group.tolist(), [cols["practice_code"]], f"practice {code} is listed more than once "
                                                                    "(expected one PCN per practice)")
    empty = pd.Series("", index=frame.index)
    parsed.rows = pd.DataFrame({
        "practice_code": codes.to_numpy(), "practice_name": frame[cols["practice_name"]].to_numpy(),
        "postcode": frame[cols["postcode"]].to_numpy() if "postcode" in cols else empty.to_numpy(),
        "pcn_code": pcns.to_numpy(),
        "pcn_name": frame[cols["pcn_name"]].to_numpy() if "pcn_name" in cols else empty.to_numpy(),
        "source_row": rows.to_numpy(),
    })
    return parsed


def _as_of(parsed: Parsed, frame: pd.DataFrame, cols: dict[str, str], rows: pd.Series, ctx: Context):
    """The one date the mapping describes: EXTRACT_DATE, else the --as-of option."""
    given = ctx.options.as_of
    if "extract_date" not in cols:
        if given is None:
            parsed.problem([], ["EXTRACT_DATE"], "this mapping has no EXTRACT_DATE column: give the date it describes "
                                                 "(--as-of YYYY-MM-DD, e.g. 2024-04-01 for the QOF 2023-24 mapping)")
        return given
    found = {d for d in dates(parsed, frame[cols["extract_date"]], rows, "EXTRACT_DATE", parse_date) if d}
    if len(found) > 1:
        listed = ", ".join(sorted(map(str, found)))
        parsed.problem([], ["EXTRACT_DATE"], f"the file holds several extract dates ({listed}); "
                                             "expected one mapping date per file")
        return None
    as_of = next(iter(found), given)
    if given and as_of != given:
        parsed.problem([], ["EXTRACT_DATE"], f"EXTRACT_DATE is {as_of} but --as-of says {given}")
    return as_of
