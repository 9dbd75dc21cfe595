"""The reader's scope is enforced in the store's SQL: practice rows, names and codes outside it never come back;
area figures do, for any reader with access; a reader with no access gets nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.access import Scope
from metrics.store import Store
from tests.conftest import SNAP_NEW

FLU = ("flu_uptake_65_plus",)
B1_PRACTICES, N1_PRACTICES = {"P1", "P2", "P3"}, {"P1", "P2"}
SCOPES = {
    "everything": (Scope.everything(), {"P1", "P2", "P3", "P4"}),
    "borough by role name": (Scope.from_roles(["Borough.Borough_One"]), B1_PRACTICES),
    # The tiny fixture's PCN codes are shorter than ODS codes (which PCN roles must be), so these scopes are made
    # directly rather than from roles.
    "pcn": (Scope(pcns=frozenset({"N1"})), N1_PRACTICES),
    "pcn and other borough": (Scope(pcns=frozenset({"N1"}), boroughs=frozenset({"borough two"})),
                              N1_PRACTICES | {"P4"}),
    "load only": (Scope.from_roles(["Data.Load"]), set()),
}


@pytest.fixture(params=["values only", "with roll-ups"])
def store(request, tiny_root, tiny_rollup_root) -> Store:
    return Store(tiny_rollup_root if request.param == "with roll-ups" else tiny_root)


@pytest.mark.parametrize("name", SCOPES)
def test_practice_rows_and_names_are_those_in_scope(store, name):
    scope, allowed = SCOPES[name]
    mine = store.scoped(scope)
    assert set(mine.aggregate(SNAP_NEW, FLU, "practice")["area_code"]) == allowed
    assert set(mine.aggregate(SNAP_NEW, FLU, "practice", within=("ics", "Q1"))["area_code"]) == allowed
    practices = mine.orgs(SNAP_NEW, "practice")
    assert set(practices["org_code"]) == allowed
    everyone = mine.orgs(SNAP_NEW)
    assert set(everyone.loc[everyone["org_type"] == "practice", "org_code"]) == allowed
    assert not {"Practice One", "Practice Four"} - set(store.orgs(SNAP_NEW)["org_name"])  # unscoped sees both
    if allowed:
        assert set(everyone.loc[everyone["org_type"] != "practice", "org_code"]) == {"Q1", "B1", "B2", "N1", "N2",
                                                                                      "N3"}


@pytest.mark.parametrize("name", [n for n in SCOPES if SCOPES[n][1]])
@pytest.mark.parametrize("level", ["pcn", "borough", "ics"])
def test_area_figures_are_the_same_for_every_reader_with_access(store, name, level):
    full = store.aggregate(SNAP_NEW, (*FLU, "discharged_usual_residence"), level)
    pd.testing.assert_frame_equal(store.scoped(SCOPES[name][0]).aggregate(
        SNAP_NEW, (*FLU, "discharged_usual_residence"), level), full)


def test_no_access_gets_no_rows_at_all(store):
    nobody = store.scoped(Scope.nothing())
    assert nobody.orgs(SNAP_NEW).empty
    for level in ("practice", "pcn", "borough", "ics"):
        assert nobody.aggregate(SNAP_NEW, FLU, level).empty


def test_scopes_do_not_share_answers(store):
    """The memo is shared by every reader of a root; a scope's answer is never served to another."""
    wide = store.orgs(SNAP_NEW, "practice")
    narrow = store.scoped(Scope(pcns=frozenset({"N1"}))).orgs(SNAP_NEW, "practice")
    assert len(wide) == 4 and len(narrow) == 2
    assert len(store.orgs(SNAP_NEW, "practice")) == 4


def test_scope_values_are_parameters_not_sql(store):
    hostile = Scope(pcns=frozenset({"N1') OR true --"}), boroughs=frozenset({"x' OR '1'='1"}))
    assert store.scoped(hostile).aggregate(SNAP_NEW, FLU, "practice").empty


def test_practice_in_scope_says_what_the_sql_does(store):
    mine = store.scoped(Scope(pcns=frozenset({"N1"})))
    assert mine.practice_in_scope(SNAP_NEW, "B1", "N1")
    assert not mine.practice_in_scope(SNAP_NEW, "B1", "N2")
    assert store.practice_in_scope(SNAP_NEW, "B2", "N3")


def test_own_areas_are_the_readers_boroughs_pcns_and_practices(store):
    assert store.own_areas(SNAP_NEW) is None  # everything: small numbers shown everywhere
    assert store.scoped(Scope(pcns=frozenset({"N1"}))).own_areas(SNAP_NEW) == {"N1", "P1", "P2"}
    assert store.scoped(Scope(boroughs=frozenset({"Borough One"}))).own_areas(SNAP_NEW) == {
        "B1", "N1", "N2", "P1", "P2", "P3"}
    assert store.scoped(Scope.nothing()).own_areas(SNAP_NEW) == frozenset()
