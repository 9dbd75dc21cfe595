"""The NWL organisation hierarchy (ICS -> borough -> PCN -> practice) built from the real reference file.

The reference CSV is the real public NHS practice -> PCN mapping (QOF 2023-24, April 2024) joined to
legacy-CCG boroughs, list sizes and IMD 2019 scores; see ``data/reference/README.md``.
"""

from __future__ import annotations

import re

import pandas as pd

from metrics.settings import REFERENCE_DIR

HIERARCHY_CSV = REFERENCE_DIR / "nwl_practice_hierarchy_derived.csv"
ICS_CODE = "QRV"
ICS_NAME = "NHS North West London"
UNALLOCATED_PCN = "U"
# Special-allocation / safe-haven services with a handful of patients: not ordinary surgeries.
SPECIAL_SERVICES = frozenset({"Y00230", "Y03528"})
# ONS local authority codes of the eight NWL boroughs.
BOROUGH_CODES: dict[str, str] = {
    "Brent": "E09000005",
    "Ealing": "E09000009",
    "Hammersmith & Fulham": "E09000013",
    "Harrow": "E09000015",
    "Hillingdon": "E09000017",
    "Hounslow": "E09000018",
    "Kensington & Chelsea": "E09000020",
    "Westminster": "E09000033",
}
_KEEP_UPPER = {"PCN", "KWH", "NGP", "HH", "GP", "NHS", "ZT", "UK", "PMS"}
ORG_COLUMNS = [
    "org_code", "org_name", "org_type", "parent_code", "ics_code", "borough_code", "pcn_code",
    "list_size", "imd_score", "imd_decile", "imd_decile_imputed", "postcode",
]


def tidy_name(name: str) -> str:
    """Publisher names are upper case; show them in title case but keep known acronyms."""

    def word(w: str) -> str:
        if w.upper() in _KEEP_UPPER:
            return w.upper()
        if w.upper() == "AND":
            return "and"
        return w.capitalize()

    return re.sub(r"[A-Za-z']+", lambda m: word(m.group(0)), name.strip())


def _practices(raw: pd.DataFrame) -> pd.DataFrame:
    """Practices in the April 2024 mapping, each under its PCN's majority borough."""
    live = raw[(raw["in_qof_2324_mapping"] == "Y") & ~raw["practice_code"].isin(SPECIAL_SERVICES)].copy()
    live["pcn_code"] = live["pcn_code_2024_04"].where(live["pcn_code_2024_04"] != UNALLOCATED_PCN)
    # A PCN can span two boroughs (Great West Road); keep the tree strict by using the PCN's main borough.
    pcn_borough = live.dropna(subset=["pcn_code"]).groupby("pcn_code")["borough"].agg(lambda s: s.mode()[0])
    live["borough"] = live["pcn_code"].map(pcn_borough).fillna(live["borough"])
    live["borough_code"] = live["borough"].map(BOROUGH_CODES)
    decile_by_pcn = live.groupby("pcn_code")["imd2019_practice_decile_england"].median().round()
    decile_by_borough = live.groupby("borough")["imd2019_practice_decile_england"].median().round()
    imputed = live["imd2019_practice_decile_england"].isna()
    fallback = live["pcn_code"].map(decile_by_pcn).fillna(live["borough"].map(decile_by_borough))
    return pd.DataFrame({
        "org_code": live["practice_code"],
        "org_name": live["practice_name"].map(tidy_name),
        "org_type": "practice",
        "parent_code": live["pcn_code"].fillna(live["borough_code"]),
        "ics_code": ICS_CODE,
        "borough_code": live["borough_code"],
        "pcn_code": live["pcn_code"],
        "list_size": live["list_size_2021_01"].astype("int64"),
        "imd_score": live["imd2019_score"],
        "imd_decile": live["imd2019_practice_decile_england"].fillna(fallback).astype("int64"),
        "imd_decile_imputed": imputed,
        "postcode": live["practice_postcode"],
    })


def _roll_up(practices: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """PCN, borough and ICS rows with list sizes summed and IMD score list-weighted."""
    weighted = practices.assign(w=practices["imd_score"] * practices["list_size"])

    def summary(group_col: str) -> pd.DataFrame:
        g = weighted.dropna(subset=[group_col]).groupby(group_col)
        out = g.agg(list_size=("list_size", "sum"), w=("w", "sum"),
                    scored=("list_size", lambda s: s[weighted.loc[s.index, "imd_score"].notna()].sum()))
        out["imd_score"] = out["w"] / out["scored"]
        return out[["list_size", "imd_score"]].reset_index()

    pcn_names = raw.drop_duplicates("pcn_code_2024_04").set_index("pcn_code_2024_04")["pcn_name_2024_04"]
    pcns = summary("pcn_code").rename(columns={"pcn_code": "org_code"})
    pcn_borough = practices.drop_duplicates("pcn_code").set_index("pcn_code")["borough_code"]
    pcns = pcns.assign(org_name=pcns["org_code"].map(pcn_names).map(tidy_name), org_type="pcn",
                       parent_code=pcns["org_code"].map(pcn_borough), ics_code=ICS_CODE,
                       borough_code=pcns["org_code"].map(pcn_borough), pcn_code=pcns["org_code"])
    names = {code: name for name, code in BOROUGH_CODES.items()}
    boroughs = summary("borough_code").rename(columns={"borough_code": "org_code"})
    boroughs = boroughs.assign(org_name=boroughs["org_code"].map(names), org_type="borough",
                               parent_code=ICS_CODE, ics_code=ICS_CODE, borough_code=boroughs["org_code"])
    ics = summary("ics_code").rename(columns={"ics_code": "org_code"})
    ics = ics.assign(org_name=ICS_NAME, org_type="ics", ics_code=ICS_CODE)
    return pd.concat([ics, boroughs, pcns], ignore_index=True)


def build_orgs() -> pd.DataFrame:
    """The ``orgs`` table: one row per ICS, borough, PCN and practice, with ancestors denormalised."""
    raw = pd.read_csv(HIERARCHY_CSV, dtype=str, keep_default_na=False, na_values=[""])
    for col in ("list_size_2021_01", "imd2019_score", "imd2019_practice_decile_england"):
        raw[col] = pd.to_numeric(raw[col])
    practices = _practices(raw)
    orgs = pd.concat([_roll_up(practices, raw), practices], ignore_index=True)
    orgs["imd_decile_imputed"] = orgs["imd_decile_imputed"].fillna(False).astype(bool)
    orgs["imd_decile"] = orgs["imd_decile"].astype("Int64")
    return orgs[ORG_COLUMNS].sort_values(["org_type", "org_code"], key=_type_order).reset_index(drop=True)


def _type_order(col: pd.Series) -> pd.Series:
    order = {"ics": 0, "borough": 1, "pcn": 2, "practice": 3}
    return col.map(order) if col.name == "org_type" else col
