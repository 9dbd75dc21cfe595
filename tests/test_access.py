"""metrics.access: ID-token claims to a Principal and a Scope; the role map; bad and very large claim sets."""

from __future__ import annotations

import time
import uuid

import pytest

from metrics.access import (
    COOKIE_HEADER_WEBSOCKET_LIMIT,
    MAX_KEPT_ROLES,
    AccessError,
    Principal,
    RoleMap,
    Scope,
    auth_cookie_bytes,
    borough_key,
    canonical_role,
    large_token_warning,
    load_role_map,
    no_access_message,
)

NWL_BOROUGHS = ["Brent", "Ealing", "Hammersmith & Fulham", "Harrow", "Hillingdon", "Hounslow",
                "Kensington & Chelsea", "Westminster"]


def principal(roles=None, **claims) -> Principal:
    claims = {"sub": "sub-1", "email": "ann@nhs.net", **claims}
    if roles is not None:
        claims["roles"] = roles
    return Principal.from_claims(claims)


# --- roles to scope ---------------------------------------------------------------------------------------------


def test_ics_all_sees_every_practice():
    scope = principal(["ICS.All"]).scope
    assert scope.all_practices and scope.has_access and not scope.can_load
    assert scope.key == "all" and scope.label == "All practices"
    assert scope.allows_practice("Brent", "U00001") and scope.allows_borough("Anywhere")
    assert scope.matching_boroughs(NWL_BOROUGHS) == frozenset(NWL_BOROUGHS)


def test_borough_role_keeps_the_name_and_matches_case_insensitively():
    scope = principal(["borough.harrow"]).scope
    assert scope.boroughs == frozenset({"harrow"}) and not scope.all_practices and scope.has_access
    assert scope.allows_borough("Harrow") and scope.allows_borough("HARROW") and not scope.allows_borough("Brent")
    assert scope.allows_practice("Harrow", None) and not scope.allows_practice("Brent", "U89806")
    assert scope.matching_boroughs(NWL_BOROUGHS) == {"Harrow"}
    assert scope.key == "b:harrow"


@pytest.mark.parametrize("role", ["Borough.Hammersmith & Fulham", "Borough.Hammersmith_and_Fulham",
                                  "Borough.hammersmith-&-fulham", "Borough.HammersmithAndFulham",
                                  "Borough.Hammersmith  &  Fulham"])
def test_borough_names_with_ampersands_and_spaces(role):
    scope = Scope.from_roles([role])
    assert scope.matching_boroughs(NWL_BOROUGHS) == {"Hammersmith & Fulham"}
    assert scope.key == "b:hammersmithandfulham"
    assert not scope.unmatched_boroughs(NWL_BOROUGHS)


def test_pcn_role_upper_cases_the_code():
    scope = principal(["pcn.u89806"]).scope
    assert scope.pcns == {"U89806"} and scope.has_access and not scope.boroughs
    assert scope.allows_practice("Harrow", "U89806") and scope.allows_practice(None, "u89806")
    assert not scope.allows_practice("Harrow", "U12345") and not scope.allows_borough("Harrow")
    assert scope.key == "p:U89806" and scope.label == "PCN U89806"


def test_data_load_alone_can_load_but_sees_no_data():
    scope = principal(["Data.Load"]).scope
    assert scope.can_load and not scope.has_access and scope.key == "none"


def test_roles_add_up():
    p = principal(["PCN.U89806", "Borough.Brent", "Data.Load", "Borough.Hammersmith_and_Fulham", "PCN.U89806"])
    scope = p.scope
    assert scope.boroughs == {"Brent", "Hammersmith_and_Fulham"} and scope.pcns == {"U89806"} and scope.can_load
    assert scope.allows_practice("Brent", "U00001") and scope.allows_practice("Harrow", "U89806")
    assert not scope.allows_practice("Harrow", "U00002")
    assert scope.key == "b:brent,hammersmithandfulham|p:U89806"
    assert p.granted == ("PCN.U89806", "Borough.Brent", "Data.Load", "Borough.Hammersmith_and_Fulham")
    assert Scope.from_principal(p) == scope


def test_ics_all_with_other_roles_is_still_everything():
    assert principal(["Borough.Harrow", "ICS.All"]).scope.key == "all"


def test_unknown_roles_are_kept_but_give_nothing():
    p = principal(["Admin", "Borough.", "PCN.!!", "ICS.Everything", "Data.Loader"])
    assert p.roles == ("Admin", "Borough.", "PCN.!!", "ICS.Everything", "Data.Loader")
    assert p.granted == () and not p.scope.has_access and not p.scope.can_load
    message = no_access_message(p)
    assert "ann@nhs.net" in message and "none recognised" in message and "Admin" in message


@pytest.mark.parametrize("roles", [None, [], "", "   "])
def test_no_roles_means_no_access(roles):
    p = principal(roles)
    assert p.roles == () and p.granted == () and p.scope == Scope.nothing() and not p.scope.has_access
    assert "No roles were received" in no_access_message(p)


@pytest.mark.parametrize("roles, expected", [
    ("ICS.All", ("ICS.All",)),
    ("Borough.Harrow, PCN.U89806", ("Borough.Harrow", "PCN.U89806")),
    ('["Borough.Harrow", "Data.Load"]', ("Borough.Harrow", "Data.Load")),
    (("Borough.Harrow",), ("Borough.Harrow",)),
])
def test_roles_as_a_string_or_tuple_defensively(roles, expected):
    assert principal(roles).roles == expected


def test_scope_key_is_stable_and_scopes_are_hashable():
    a = Scope.from_roles(["Borough.Harrow", "PCN.U89806", "Borough.Brent"])
    b = Scope.from_roles(["pcn.u89806", "borough.brent", "BOROUGH.HARROW"])
    assert a.key == b.key == "b:brent,harrow|p:U89806"
    assert hash(a.key) == hash(b.key)
    assert len({Scope.everything(), Scope.everything(), Scope.nothing()}) == 2
    with pytest.raises(AttributeError):
        a.all_practices = True  # frozen


def test_everything_is_open_local_mode():
    scope = Scope.everything()
    assert scope.all_practices and scope.can_load and scope.has_access and scope.key == "all"


def test_unmatched_borough_roles_can_be_reported():
    scope = Scope.from_roles(["Borough.Harow", "Borough.Harrow"])
    assert scope.unmatched_boroughs(NWL_BOROUGHS) == {"Harow"}


def test_canonical_role_and_borough_key():
    assert canonical_role("ics.all") == "ICS.All" and canonical_role("data.LOAD") == "Data.Load"
    assert canonical_role("pcn. u89806 ") == "PCN.U89806" and canonical_role("Borough.Harrow") == "Borough.Harrow"
    assert canonical_role("Borough.&") is None and canonical_role("Reader") is None
    assert borough_key("Kensington and Chelsea") == borough_key("Kensington & Chelsea")


# --- who the user is -----------------------------------------------------------------------------------------------


def test_user_is_the_email_lower_cased_else_sub():
    p = Principal.from_claims({"sub": "abc", "email": " Ann.Smith@NHS.net ", "name": "Ann Smith"})
    assert p.user_id == "ann.smith@nhs.net" and p.email == "Ann.Smith@NHS.net" and p.name == "Ann Smith"
    assert Principal.from_claims({"sub": "abc", "email": ""}).user_id == "abc"
    assert Principal.from_claims({"sub": "abc"}).email is None


def test_streamlit_st_user_extras_are_ignored():
    claims = {"is_logged_in": True, "origin": "http://127.0.0.1:8501", "provider": "default", "iss": "x",
              "aud": ["client"], "exp": 1, "iat": 1, "nonce": "n", "sub": "s", "email": "a@b.c",
              "roles": ["Borough.Harrow"], "tokens": {}}
    assert Principal.from_claims(claims).scope.key == "b:harrow"


def test_principal_is_frozen_and_hashable():
    p = principal(["Borough.Harrow"])
    assert hash(p) == hash(principal(["Borough.Harrow"]))
    with pytest.raises(Exception):
        p.user_id = "someone else"


# --- bad claims: the error names the claim --------------------------------------------------------------------------


@pytest.mark.parametrize("claims, named", [
    ({"sub": "s", "roles": 5}, "claim roles"),
    ({"sub": "s", "roles": ["Borough.Harrow", 3]}, "claim roles.1"),
    ({"sub": "s", "roles": {"Borough": "Harrow"}}, "claim roles"),
    ({"sub": "s", "roles": "[not json"}, "claim roles"),
    ({"sub": "s", "email": 123}, "claim email"),
    ({"sub": ["s"]}, "claim sub"),
    ({"sub": "s", "groups": 7}, "claim groups"),
    ({"name": "No One"}, "claim email and claim sub"),
    ({"sub": "  ", "email": None}, "claim email and claim sub"),
])
def test_bad_claims_name_the_claim(claims, named):
    with pytest.raises(AccessError, match=named.replace(".", r"\.")):
        Principal.from_claims(claims)


def test_claims_must_be_a_mapping():
    with pytest.raises(AccessError, match="mapping"):
        Principal.from_claims(["sub", "s"])


# --- the role map --------------------------------------------------------------------------------------------------


def test_role_map_from_toml(tmp_path):
    path = tmp_path / "roles.toml"
    path.write_text('# who gets what\n"NWL-BI-Team" = ["ICS.All", "Data.Load"]\n'
                    '"Harrow analysts" = "borough.harrow"\n'
                    '"0b7c3f0e-1111-2222-3333-444455556666" = ["PCN.U89806"]\n', encoding="utf-8")
    role_map = load_role_map(path)
    assert role_map.expand(["nwl-bi-team"]) == ("ICS.All", "Data.Load")

    p = Principal.from_claims({"sub": "s", "roles": ["Harrow Analysts", "Other"],
                               "groups": ["0b7c3f0e-1111-2222-3333-444455556666", "ffff"]}, role_map)
    assert p.roles == ("Harrow Analysts", "Other")           # the claim as given
    assert p.granted == ("Borough.harrow", "PCN.U89806")     # what it gives (borough names as written)
    assert p.scope.key == "b:harrow|p:U89806" and not p.scope.can_load

    team = Principal.from_claims({"sub": "t", "roles": ["NWL-BI-Team"]}, role_map)
    assert team.scope == Scope.everything()


def test_role_map_from_yaml_and_from_a_dict(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text("NWL-BI-Team: [ICS.All, Data.Load]\nHarrow analysts: Borough.Harrow\n", encoding="utf-8")
    assert load_role_map(path) == RoleMap(entries={"NWL-BI-Team": ["ICS.All", "Data.Load"],
                                                   "Harrow analysts": "Borough.Harrow"})
    p = Principal.from_claims({"sub": "s", "roles": ["Harrow analysts"]}, {"harrow ANALYSTS": ["Borough.Harrow"]})
    assert p.granted == ("Borough.Harrow",)


def test_our_roles_still_count_with_a_role_map(tmp_path):
    p = Principal.from_claims({"sub": "s", "roles": ["PCN.U89806", "Team"]}, {"Team": "Borough.Brent"})
    assert p.granted == ("PCN.U89806", "Borough.Brent")


@pytest.mark.parametrize("text, named", [
    ('"Team" = ["ICS.Al"]', "'Team': 'ICS.Al' is not a recognised role"),
    ('"Team" = 3', "'Team': expected a role or a list of roles"),
    ('"Team" = [1]', "'Team': expected a role or a list of roles"),
    ('"Team" = [', "cannot read the role map"),
])
def test_role_map_errors_name_the_file_and_entry(tmp_path, text, named):
    path = tmp_path / "roles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AccessError) as error:
        load_role_map(path)
    assert str(path) in str(error.value) and named in str(error.value)


def test_role_map_file_kind_and_existence(tmp_path):
    with pytest.raises(AccessError, match="toml, .yaml or .yml"):
        load_role_map(tmp_path / "roles.json")
    with pytest.raises(AccessError, match="cannot read"):
        load_role_map(tmp_path / "missing.toml")
    (tmp_path / "list.yaml").write_text("- ICS.All\n", encoding="utf-8")
    with pytest.raises(AccessError, match="table of name"):
        load_role_map(tmp_path / "list.yaml")


# --- very large claim sets ----------------------------------------------------------------------------------------


def test_a_huge_claim_set_keeps_what_counts_and_stays_bounded():
    groups = [str(uuid.UUID(int=i)) for i in range(5000)]
    roles = [f"Team.{i:04d}" for i in range(3000)] + ["Borough.Harrow", "x" * 5000, "PCN.U89806"]
    started = time.perf_counter()
    p = Principal.from_claims({"sub": "s", "email": "big@nhs.net", "roles": roles, "groups": groups},
                              {str(uuid.UUID(int=4321)): "Data.Load", "Team.2999": "Borough.Brent"})
    assert time.perf_counter() - started < 1.0
    assert p.granted == ("Borough.Harrow", "PCN.U89806", "Borough.Brent", "Data.Load")
    assert {"Borough.Harrow", "PCN.U89806", "Team.2999"} <= set(p.roles)   # what counts is always kept
    assert len(p.roles) == MAX_KEPT_ROLES + 3 and p.roles_dropped == len(roles) - len(p.roles)
    assert "x" * 5000 not in p.roles
    assert p.scope.key == "b:brent,harrow|p:U89806" and p.scope.can_load


def test_groups_overage_is_detected_and_explained():
    p = Principal.from_claims({"sub": "s", "email": "a@nhs.net", "_claim_names": {"groups": "src1"},
                               "_claim_sources": {"src1": {"endpoint": "https://graph.example/x"}}})
    assert p.groups_overage and not p.scope.has_access
    assert "too many groups" in no_access_message(p)
    assert Principal.from_claims({"sub": "s", "hasgroups": True}).groups_overage
    odd = Principal.from_claims({"sub": "s", "_claim_names": "groups", "hasgroups": {"x": 1}})
    assert not odd.groups_overage   # malformed markers never block a sign-in


def test_a_bad_role_map_given_as_a_dict():
    with pytest.raises(AccessError, match="unusable role map: .*'Team': 'Boss' is not a recognised role"):
        Principal.from_claims({"sub": "s"}, {"Team": "Boss"})


def test_cookie_estimate_grows_with_roles_and_crosses_the_limit():
    base = {"iss": "https://login.example/tenant/v2.0", "aud": "client", "sub": "s", "email": "a@nhs.net",
            "exp": 1796145538, "iat": 1796141938, "nonce": "n" * 20, "roles": ["Borough.Harrow"]}
    small = auth_cookie_bytes(base)
    named = auth_cookie_bytes({**base, "roles": [f"App.Team{i:03d}.Reader" for i in range(400)]})
    guids = auth_cookie_bytes({**base, "roles": [str(uuid.uuid4()) for _ in range(150)]})
    assert 800 < small < named < COOKIE_HEADER_WEBSOCKET_LIMIT < guids
    assert large_token_warning(base) is None
    warning = large_token_warning({**base, "roles": [str(uuid.uuid4()) for _ in range(150)]})
    assert warning and "150 roles" in warning and "cannot load" in warning and "Borough" not in warning
    assert auth_cookie_bytes(base, access_token_bytes=2000) > small + 2000
