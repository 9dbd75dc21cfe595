"""The NWL organisation hierarchy (ICS -> borough -> PCN -> practice, plus places) from the real reference files.

The reference CSV is the real public NHS practice -> PCN mapping (QOF 2023-24, April 2024, and Patients
Registered at a GP Practice, January 2022) joined to legacy-CCG boroughs, list sizes and IMD 2019 scores; see
``data/reference/README.md``.

Two builds share one assembly step:

- ``build_orgs()`` is the April 2024 tree with no dates (every row always valid). The demo's synthetic values
  are drawn on that tree for every period, so saying it always held is true of the demo.
- ``build_orgs(dated=True)`` is the real, dated hierarchy for loaded data: the January 2022 mapping (taken to
  hold for earlier periods too: PCNs began in July 2019 and no earlier mapping is held), then the April 2024
  mapping applied with ``apply_mapping`` -- the same step ``python -m metrics ingest --format practice-mapping``
  uses. Practices that move PCN get one row per membership, closed practices get a ``valid_to``, and five
  practices in the January 2021 list that had closed by January 2022 are kept for their early periods.

``valid_from`` / ``valid_to`` are inclusive; null means open. Aggregation for a period uses the row valid on the
period's first day. Places group boroughs (e.g. the Kensington & Chelsea and Westminster Bi-borough); which
places exist is data, ``data/reference/places.csv``, not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
import pyarrow as pa

from metrics.settings import REFERENCE_DIR

HIERARCHY_CSV = REFERENCE_DIR / "nwl_practice_hierarchy_derived.csv"
LIST_2021_CSV = REFERENCE_DIR / "nhsd_gp_reg_pat_prac_all_2021-01_nwl.csv"
PLACES_CSV = REFERENCE_DIR / "places.csv"


def _the_icb(path) -> str:
    """The one ICB code every practice of the reference hierarchy carries (QRV, NHS North West London)."""
    codes = pd.read_csv(path, usecols=["icb_code"], dtype=str)["icb_code"].dropna().unique()
    if len(codes) != 1:
        raise ValueError(f"{path}: expected one icb_code, found {sorted(codes)}")
    return str(codes[0])


ICS_CODE = _the_icb(HIERARCHY_CSV)  # the ICS the dashboard serves: from the reference data, not a literal
ICS_NAME = "NHS North West London"
NWL_SUB_ICB_CODE = "W2U3Z"
UNALLOCATED_PCN = "U"
FIRST_MAPPING_DATE = date(2022, 1, 1)  # EXTRACT_DATE of the Patients Registered mapping, January 2022
QOF_MAPPING_DATE = date(2024, 4, 1)  # PRAC_MAPPING_DATE of the QOF 2023-24 publication
# Special-allocation / safe-haven services with a handful of patients: not ordinary surgeries. The demo leaves
# them out; the dated hierarchy keeps them, because real published files carry rows for them.
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
# The eight NWL CCGs before they merged into W2U3Z in April 2021: one per borough.
LEGACY_CCG_BOROUGH: dict[str, str] = {
    "07P": "Brent", "07W": "Ealing", "08C": "Hammersmith & Fulham", "08E": "Harrow",
    "08G": "Hillingdon", "07Y": "Hounslow", "08Y": "Kensington & Chelsea", "09A": "Westminster",
}
_KEEP_UPPER = {"PCN", "KWH", "NGP", "HH", "GP", "NHS", "ZT", "UK", "PMS"}
ORG_TYPES = ("ics", "place", "borough", "pcn", "practice")
ORG_COLUMNS = [
    "org_code", "org_name", "org_type", "parent_code", "ics_code", "borough_code", "pcn_code",
    "list_size", "imd_score", "imd_decile", "imd_decile_imputed", "postcode", "place_code",
    "valid_from", "valid_to",
]
DATE_TYPE = pd.ArrowDtype(pa.date32())


def tidy_name(name: str) -> str:
    """Publisher names are upper case; show them in title case but keep known acronyms."""

    def word(w: str) -> str:
        if w.upper() in _KEEP_UPPER:
            return w.upper()
        if w.upper() == "AND":
            return "and"
        return w.capitalize()

    return re.sub(r"[A-Za-z']+", lambda m: word(m.group(0)), name.strip())


def places() -> pd.DataFrame:
    """The places table (place_code, place_name, borough_code): every NWL borough in exactly one place."""
    table = pd.read_csv(PLACES_CSV, dtype=str, keep_default_na=False)
    counts = table["borough_code"].value_counts()
    unknown = set(table["borough_code"]) - set(BOROUGH_CODES.values())
    missing = set(BOROUGH_CODES.values()) - set(table["borough_code"])
    if unknown or missing or (counts > 1).any():
        raise ValueError(f"{PLACES_CSV}: every NWL borough must be in exactly one place "
                         f"(unknown {sorted(unknown)}, missing {sorted(missing)}, "
                         f"repeated {sorted(counts[counts > 1].index)})")
    return table


def _dates(values: list | pd.Series | None, n: int) -> pd.Series:
    data = [None] * n if values is None else list(values)
    return pd.Series(pd.array(data, dtype=DATE_TYPE))


@dataclass
class MappingChanges:
    """What applying one practice -> PCN mapping changed, for the ingest report."""

    as_of: date
    moved: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    without_borough: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------- reference practices
def _reference() -> pd.DataFrame:
    raw = pd.read_csv(HIERARCHY_CSV, dtype=str, keep_default_na=False, na_values=[""])
    for col in ("list_size_2021_01", "imd2019_score", "imd2019_practice_decile_england"):
        raw[col] = pd.to_numeric(raw[col])
    return raw


def _members(raw: pd.DataFrame, pcn_column: str) -> pd.DataFrame:
    """Practice rows in the members layout (own legacy borough, PCN or None, attributes, open validity)."""
    pcn = raw[pcn_column].where(raw[pcn_column] != UNALLOCATED_PCN)
    n = len(raw)
    return pd.DataFrame({
        "org_code": raw["practice_code"].to_numpy(),
        "org_name": raw["practice_name"].map(tidy_name).to_numpy(),
        "pcn_code": pcn.to_numpy(),
        "borough_code": raw["borough"].map(BOROUGH_CODES).to_numpy(),
        "list_size": raw["list_size_2021_01"].astype("Int64").to_numpy(),
        "imd_score": raw["imd2019_score"].to_numpy(),
        "imd_decile": raw["imd2019_practice_decile_england"].astype("Int64").to_numpy(),
        "imd_decile_imputed": [False] * n,
        "postcode": raw["practice_postcode"].to_numpy(),
        "valid_from": _dates(None, n).to_numpy(),
        "valid_to": _dates(None, n).to_numpy(),
    })


def _closed_before_first_mapping(raw: pd.DataFrame) -> pd.DataFrame:
    """Practices in the January 2021 list that were gone by the January 2022 mapping (codes only: the list
    file carries no names)."""
    listed = pd.read_csv(LIST_2021_CSV, dtype=str, keep_default_na=False)
    gone = listed[~listed["CODE"].isin(raw["practice_code"])]
    n = len(gone)
    return pd.DataFrame({
        "org_code": gone["CODE"].to_numpy(),
        "org_name": (gone["CODE"] + " (closed by January 2022)").to_numpy(),
        "pcn_code": [None] * n,
        "borough_code": gone["CCG_CODE"].map(LEGACY_CCG_BOROUGH).map(BOROUGH_CODES).to_numpy(),
        "list_size": pd.to_numeric(gone["NUMBER_OF_PATIENTS"]).astype("Int64").to_numpy(),
        "imd_score": [float("nan")] * n,
        "imd_decile": pd.array([None] * n, dtype="Int64"),
        "imd_decile_imputed": [False] * n,
        "postcode": gone["POSTCODE"].to_numpy(),
        "valid_from": _dates(None, n).to_numpy(),
        "valid_to": _dates([FIRST_MAPPING_DATE - timedelta(days=1)] * n, n).to_numpy(),
    })


def reference_mapping(raw: pd.DataFrame, when: str) -> pd.DataFrame:
    """One epoch of the reference file as a canonical mapping frame (``when`` is '2022_01' or '2024_04')."""
    rows = raw if when == "2022_01" else raw[raw["in_qof_2324_mapping"] == "Y"]
    return pd.DataFrame({
        "practice_code": rows["practice_code"], "practice_name": rows["practice_name"],
        "postcode": rows["practice_postcode"], "pcn_code": rows[f"pcn_code_{when}"],
        "pcn_name": rows[f"pcn_name_{when}"],
    }).reset_index(drop=True)


# ---------------------------------------------------------------------------------------- assembly
def _mode(values: pd.Series) -> str | None:
    values = values.dropna()
    return values.mode().iloc[0] if len(values) else None


def _assemble(members: pd.DataFrame, pcn_names: dict[str, str], pcn_borough: dict[str, str]) -> pd.DataFrame:
    """Practice rows (one per membership) plus PCN, borough, place and ICS rows, ancestors denormalised.

    A PCN can span two boroughs (Great West Road): the tree stays strict by placing every member under the
    PCN's main borough (``pcn_borough``, else the members' most common borough). Unallocated practices hang
    off their own borough.
    """
    members = members.copy()
    guessed = members.dropna(subset=["pcn_code"]).groupby("pcn_code")["borough_code"].agg(_mode)
    pcn_borough = {**guessed.dropna().to_dict(), **pcn_borough}
    members["borough_code"] = members["pcn_code"].map(pcn_borough).fillna(members["borough_code"])
    place_of = places().set_index("borough_code")["place_code"]
    members = _impute_deciles(members)
    members = members.assign(
        org_type="practice", parent_code=members["pcn_code"].fillna(members["borough_code"]).fillna(ICS_CODE),
        ics_code=ICS_CODE, place_code=members["borough_code"].map(place_of))
    orgs = pd.concat([_roll_ups(members, pcn_names, pcn_borough), members], ignore_index=True)
    orgs["imd_decile_imputed"] = orgs["imd_decile_imputed"].fillna(False).astype(bool)
    orgs["imd_decile"] = orgs["imd_decile"].astype("Int64")
    orgs["valid_from"] = orgs["valid_from"].astype(DATE_TYPE)
    orgs["valid_to"] = orgs["valid_to"].astype(DATE_TYPE)
    return _sorted(orgs[ORG_COLUMNS])


def _impute_deciles(members: pd.DataFrame) -> pd.DataFrame:
    """Practices with no Fingertips IMD value take their PCN's median decile, else their borough's (flagged)."""
    known = members["imd_decile"].where(~members["imd_decile_imputed"].astype(bool))
    by_pcn = known.groupby(members["pcn_code"]).median().round()
    by_borough = known.groupby(members["borough_code"]).median().round()
    fallback = members["pcn_code"].map(by_pcn).fillna(members["borough_code"].map(by_borough))
    return members.assign(imd_decile=known.astype("Float64").fillna(fallback).astype("Int64"),
                          imd_decile_imputed=known.isna())


def _latest(members: pd.DataFrame) -> pd.DataFrame:
    """Each group's members on its last day: current rows for live groups, final rows for closed ones."""
    return members[members["valid_to"].isna()]


def _roll_ups(members: pd.DataFrame, pcn_names: dict[str, str], pcn_borough: dict[str, str]) -> pd.DataFrame:
    """PCN, borough, place and ICS rows with list sizes summed and IMD score list-weighted."""
    current = _latest(members)

    def summary(rows: pd.DataFrame, group_col: str) -> pd.DataFrame:
        rows = rows.dropna(subset=[group_col]).assign(
            w=rows["imd_score"] * rows["list_size"].astype("Float64"),
            scored=rows["list_size"].where(rows["imd_score"].notna(), 0))
        out = rows.groupby(group_col).agg(list_size=("list_size", "sum"), w=("w", "sum"), scored=("scored", "sum"))
        out["imd_score"] = (out["w"] / out["scored"]).astype(float)
        return out[["list_size", "imd_score"]].reset_index().rename(columns={group_col: "org_code"})

    pcns = _pcn_rows(members, summary, pcn_names, pcn_borough)
    names = {code: name for name, code in BOROUGH_CODES.items()}
    place_table = places()
    boroughs = summary(current, "borough_code")
    boroughs = boroughs.assign(org_name=boroughs["org_code"].map(names), org_type="borough", parent_code=ICS_CODE,
                               ics_code=ICS_CODE, borough_code=boroughs["org_code"],
                               place_code=boroughs["org_code"].map(place_table.set_index("borough_code")["place_code"]))
    place_rows = summary(current, "place_code")
    place_rows = place_rows.assign(
        org_name=place_rows["org_code"].map(place_table.drop_duplicates("place_code").set_index("place_code")["place_name"]),
        org_type="place", parent_code=ICS_CODE, ics_code=ICS_CODE, place_code=place_rows["org_code"])
    ics = summary(current, "ics_code").assign(org_name=ICS_NAME, org_type="ics", ics_code=ICS_CODE)
    return pd.concat([ics, place_rows, boroughs, pcns], ignore_index=True)


def _pcn_rows(members: pd.DataFrame, summary, pcn_names: dict[str, str], pcn_borough: dict[str, str]) -> pd.DataFrame:
    """One row per PCN code ever seen, valid from its first member's start to its last member's end."""
    in_pcn = members.dropna(subset=["pcn_code"])
    far = date(9999, 12, 31)
    ends = in_pcn.assign(end=in_pcn["valid_to"].astype(object).where(in_pcn["valid_to"].notna(), far))
    last_end = ends.groupby("pcn_code")["end"].transform("max")
    final_members = ends[ends["end"] == last_end]
    pcns = summary(final_members, "pcn_code")
    starts = in_pcn.groupby("pcn_code")["valid_from"].agg(lambda s: None if s.isna().any() else min(s))
    stops = ends.groupby("pcn_code")["end"].max().map(lambda d: None if d == far else d)
    borough = pcns["org_code"].map(pcn_borough)
    return pcns.assign(
        org_name=pcns["org_code"].map(pcn_names).fillna(pcns["org_code"]).map(tidy_name), org_type="pcn",
        parent_code=borough.fillna(ICS_CODE), ics_code=ICS_CODE, borough_code=borough, pcn_code=pcns["org_code"],
        place_code=borough.map(places().set_index("borough_code")["place_code"]),
        valid_from=_dates(pcns["org_code"].map(starts), len(pcns)),
        valid_to=_dates(pcns["org_code"].map(stops), len(pcns)))


def _sorted(orgs: pd.DataFrame) -> pd.DataFrame:
    order = {t: i for i, t in enumerate(ORG_TYPES)}
    keys = orgs.assign(_t=orgs["org_type"].map(order), _f=orgs["valid_from"].astype(object).fillna(date.min))
    return orgs.loc[keys.sort_values(["_t", "org_code", "_f"]).index].reset_index(drop=True)


# ------------------------------------------------------------------------------------ dated changes
def members_of(orgs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """Split an orgs table back into practice memberships, PCN names and PCN boroughs."""
    practices = orgs[orgs["org_type"] == "practice"]
    pcns = orgs[orgs["org_type"] == "pcn"]
    members = practices[["org_code", "org_name", "pcn_code", "borough_code", "list_size", "imd_score",
                         "imd_decile", "imd_decile_imputed", "postcode", "valid_from", "valid_to"]]
    return (members.reset_index(drop=True), dict(zip(pcns["org_code"], pcns["org_name"])),
            {c: b for c, b in zip(pcns["org_code"], pcns["borough_code"]) if isinstance(b, str)})


def latest_change(orgs: pd.DataFrame) -> date | None:
    """The newest membership change held (a mapping must be newer to be applied)."""
    dates = pd.concat([orgs["valid_from"].dropna(), orgs["valid_to"].dropna().map(lambda d: d + timedelta(days=1))])
    return max(dates) if len(dates) else None


def apply_mapping(orgs: pd.DataFrame, mapping: pd.DataFrame, as_of: date) -> tuple[pd.DataFrame, MappingChanges]:
    """A new practice -> PCN mapping as at ``as_of``: the dated orgs table with the mapping's memberships.

    ``mapping`` has practice_code, practice_name, postcode, pcn_code ('U' = unallocated), pcn_name and lists every
    NWL practice open on that date. Practices that changed PCN get a new row from ``as_of``; open practices
    missing from the mapping are closed the day before; practices new to NWL are added (borough from their PCN).
    """
    members, pcn_names, pcn_borough = members_of(orgs)
    changes = MappingChanges(as_of)
    day_before = as_of - timedelta(days=1)
    target = mapping.assign(pcn_code=mapping["pcn_code"].where(mapping["pcn_code"] != UNALLOCATED_PCN))
    target = target.set_index("practice_code")
    is_open = members["valid_to"].isna()
    current = members[is_open].set_index("org_code")
    changes.closed = sorted(set(current.index) - set(target.index))
    both = current.index.intersection(target.index)
    changed = both[current.loc[both, "pcn_code"].fillna("") != target.loc[both, "pcn_code"].fillna("")]
    changes.moved = sorted(changed)
    changes.opened = sorted(set(target.index) - set(current.index))
    ending = is_open & members["org_code"].isin(changes.closed + changes.moved)
    members.loc[ending, "valid_to"] = day_before
    staying = is_open & members["org_code"].isin(both.difference(changed))
    members.loc[staying, "org_name"] = members.loc[staying, "org_code"].map(target["practice_name"]).map(tidy_name)
    postcodes = members.loc[staying, "org_code"].map(target["postcode"].replace("", None))
    members.loc[staying, "postcode"] = postcodes.fillna(members.loc[staying, "postcode"])
    new_rows = _new_memberships(members, target.loc[changes.moved + changes.opened], as_of)
    members = pd.concat([members, new_rows], ignore_index=True)
    pcn_names.update({code: name for code, name in zip(target["pcn_code"], target["pcn_name"])
                      if isinstance(code, str)})
    orgs = _assemble(members, pcn_names, pcn_borough)
    practices = orgs[(orgs["org_type"] == "practice") & orgs["valid_to"].isna()]
    changes.without_borough = sorted(practices.loc[practices["borough_code"].isna(), "org_code"])
    return orgs, changes


def _new_memberships(members: pd.DataFrame, rows: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Rows from ``as_of`` for moved or (re)opened practices, keeping what is known of each practice."""
    previous = members.sort_values("valid_to", na_position="last").drop_duplicates("org_code", keep="last")
    previous = previous.set_index("org_code")
    n = len(rows)
    known = rows.index.isin(previous.index)

    def attr(col: str, default):
        return [previous.at[c, col] if k else default for c, k in zip(rows.index, known)]

    return pd.DataFrame({
        "org_code": rows.index.to_numpy(), "org_name": rows["practice_name"].map(tidy_name).to_numpy(),
        "pcn_code": rows["pcn_code"].to_numpy(),
        # A new practice's borough comes from its PCN at assembly; an unallocated one keeps its old borough.
        "borough_code": attr("borough_code", None),
        "list_size": pd.array(attr("list_size", None), dtype="Int64"),
        "imd_score": attr("imd_score", float("nan")), "imd_decile": pd.array(attr("imd_decile", None), dtype="Int64"),
        "imd_decile_imputed": attr("imd_decile_imputed", False),
        "postcode": [p or old for p, old in zip(rows["postcode"], attr("postcode", None))],
        "valid_from": _dates([as_of] * n, n).to_numpy(), "valid_to": _dates(None, n).to_numpy(),
    })


# ------------------------------------------------------------------------------------------- builds
def build_orgs(dated: bool = False) -> pd.DataFrame:
    """The ``orgs`` table: one row per ICS, place, borough, PCN and practice membership, ancestors denormalised."""
    raw = _reference()
    if not dated:
        live = raw[(raw["in_qof_2324_mapping"] == "Y") & ~raw["practice_code"].isin(SPECIAL_SERVICES)]
        names = dict(zip(raw["pcn_code_2024_04"], raw["pcn_name_2024_04"]))
        orgs = _assemble(_members(live, "pcn_code_2024_04"), names, {})
        orgs["list_size"] = orgs["list_size"].astype("int64")
        return orgs
    members = pd.concat([_members(raw, "pcn_code_2022_01"), _closed_before_first_mapping(raw)], ignore_index=True)
    # Boroughs of PCNs come from the April 2024 members (as the undated tree), so a PCN sits in one borough.
    live = _members(raw[raw["in_qof_2324_mapping"] == "Y"], "pcn_code_2024_04").dropna(subset=["pcn_code"])
    pcn_borough = live.groupby("pcn_code")["borough_code"].agg(_mode).to_dict()
    names = dict(zip(raw["pcn_code_2022_01"], raw["pcn_name_2022_01"]))
    first = _assemble(members, names, pcn_borough)
    orgs, _ = apply_mapping(first, reference_mapping(raw, "2024_04"), QOF_MAPPING_DATE)
    return orgs


def valid_on(orgs: pd.DataFrame, day: date) -> pd.DataFrame:
    """Rows of a (possibly dated) orgs table that hold on ``day``."""
    starts, ends = orgs["valid_from"], orgs["valid_to"]
    ok = (starts.isna() | (starts.astype(object).fillna(date.min) <= day)) & \
         (ends.isna() | (ends.astype(object).fillna(date.max) >= day))
    return orgs[ok]


def with_list_sizes(orgs: pd.DataFrame, sizes: dict[str, float]) -> pd.DataFrame:
    """Practices' list sizes replaced by newer counts (every membership row of the practice), roll-ups redone."""
    members, pcn_names, pcn_borough = members_of(orgs)
    newer = members["org_code"].map(sizes)
    members["list_size"] = newer.round().astype("Int64").fillna(members["list_size"])
    return _assemble(members, pcn_names, pcn_borough)


def with_imd(orgs: pd.DataFrame, scores: dict[str, float], deciles: dict[str, int]) -> pd.DataFrame:
    """Practices' IMD scores replaced by newer ones (every membership row of the practice), and their national
    deciles where given (no longer imputed); PCN and higher scores re-weighted by list size."""
    members, pcn_names, pcn_borough = members_of(orgs)
    members["imd_score"] = members["org_code"].map(scores).astype(float).fillna(members["imd_score"])
    given = members["org_code"].map(deciles)
    members["imd_decile"] = given.astype("Int64").fillna(members["imd_decile"].astype("Int64"))
    members["imd_decile_imputed"] = members["imd_decile_imputed"].astype(bool) & given.isna()
    return _assemble(members, pcn_names, pcn_borough)
