"""Areas: the one place that knows what an area is, which ICS is ours, and how to find a borough, place or PCN.

An ``Area`` is an organisation at one level of the hierarchy. Everything that needs NWL, a borough by name or
code, the PCNs of a borough or a place, or an organisation's name asks here, and every answer comes from the
snapshot's own organisations (so a renamed PCN or a new place is data, not code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from metrics.catalogue import Level
from metrics.hierarchy import ICS_CODE
from metrics.store import Store

UNALLOCATED = "Unallocated"


@dataclass(frozen=True)
class Area:
    """An organisation at one level of the hierarchy."""

    code: str
    name: str
    level: Level


def short_name(name: str) -> str:
    """How an ICS is named in a chart or sentence: its initials without 'NHS'.

    >>> short_name("NHS North West London")
    'NWL'
    """
    words = [w for w in re.split(r"\s+", name.strip()) if w and w.upper() != "NHS"]
    return "".join(w[0].upper() for w in words) if len(words) > 1 else (words[0] if words else name)


def home_ics(store: Store, snapshot: date) -> Area:
    """The ICS the dashboard serves (NWL: the ICB of the reference hierarchy), named from the snapshot's data.
    England-scale data hold other ICSs too; comparisons are always with this one."""
    ics = store.orgs(snapshot, "ics")
    mine = ics[ics["org_code"] == ICS_CODE]
    row = (mine if len(mine) else ics).iloc[0]
    return Area(str(row["org_code"]), short_name(str(row["org_name"])), "ics")


def org_names(store: Store, snapshot: date) -> dict[str, str]:
    """Organisation code -> name, for every organisation in the snapshot."""
    frame = store.orgs(snapshot)
    return dict(zip(frame["org_code"], frame["org_name"]))


def boroughs_and_places(store: Store, snapshot: date) -> dict[str, Area]:
    """The boroughs by name, then the places that group several of them (the set of places is data)."""
    boroughs = store.orgs(snapshot, "borough")
    choices = {name: Area(code, name, "borough") for code, name in zip(boroughs["org_code"], boroughs["org_name"])}
    shared = boroughs["place_code"].value_counts()
    places = store.orgs(snapshot, "place")
    for code, name in zip(places["org_code"], places["org_name"]):
        if shared.get(code, 0) > 1:
            choices[name] = Area(code, name, "place")
    return choices


def find_borough(store: Store, snapshot: date, name_or_code: str) -> Area | None:
    """A borough or place by name (any case) or code, or None."""
    wanted = name_or_code.strip().lower()
    for name, area in boroughs_and_places(store, snapshot).items():
        if wanted in (name.lower(), area.code.lower()):
            return area
    return None


def pcns_in(store: Store, snapshot: date, area: Area) -> dict[str, str]:
    """PCNs of a borough or a place, code -> name."""
    frame = store.orgs(snapshot, "pcn")
    frame = frame[frame["place_code" if area.level == "place" else "borough_code"] == area.code]
    return dict(zip(frame["org_code"], frame["org_name"]))


def pcn(store: Store, snapshot: date, code: str) -> Area | None:
    """A PCN by ODS code, or None."""
    frame = store.orgs(snapshot, "pcn")
    row = frame[frame["org_code"] == code]
    return Area(code, str(row["org_name"].iloc[0]), "pcn") if len(row) else None


def practice_pcn_names(store: Store, snapshot: date) -> dict[str, str]:
    """Practice code -> its PCN's name (or 'Unallocated')."""
    frame = store.orgs(snapshot, "practice")
    names = org_names(store, snapshot)
    return {code: names.get(pcn_code, UNALLOCATED) for code, pcn_code in zip(frame["org_code"], frame["pcn_code"])}


def with_ancestors(store: Store, snapshot: date, area: Area) -> frozenset[str]:
    """The area's code and those of the areas it lies in (its PCN, borough, place and ICS, as now): what a
    catalogue entry declared for a borough also applies to its PCNs and practices."""
    orgs = store.orgs(snapshot)
    row = orgs[orgs["org_code"] == area.code]
    if row.empty:
        return frozenset({area.code})
    found = row.iloc[0][["pcn_code", "borough_code", "place_code", "parent_code"]]
    return frozenset({area.code, *(code for code in found if isinstance(code, str) and code)})


def borough_of(store: Store, snapshot: date, area: Area) -> Area:
    """The borough (or place) an area's PCNs are compared within: the area itself, or a PCN's borough."""
    if area.level in ("borough", "place"):
        return area
    orgs = store.orgs(snapshot)
    row = orgs[orgs["org_code"] == area.code]
    if row.empty or area.level != "pcn":
        raise ValueError(f"PCNs are compared within a borough; {area.name} is not a borough or PCN.")
    code = row["borough_code"].iloc[0]
    return Area(code, orgs.loc[orgs["org_code"] == code, "org_name"].iloc[0], "borough")
