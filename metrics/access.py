"""Who is signed in, and which practice-level data they may see: the one place where sign-in roles become a scope.

Sign-in is Streamlit's native ``st.login`` (OpenID Connect, Microsoft Entra ID in production). Streamlit hands
the app the ID token's claims (``st.user``); nothing else from the identity provider reaches the app. This module
turns those claims into two small values the rest of the code can rely on:

``Principal``
    who the user is (``user_id``: the ``email`` claim, else ``sub``), their ``roles`` claim exactly as given
    (unknown roles kept, so the audit log and a support call can see them), and ``granted``: the roles this
    dashboard recognises, after an optional role map has translated other role or group names.
``Scope``
    what those granted roles allow: every practice (``ICS.All``), the practices of named boroughs
    (``Borough.<name>``), of PCNs by ODS code (``PCN.<code>``), and loading data (``Data.Load``). Roles add up.

The roles (Entra "app roles", which arrive in the ID token's ``roles`` claim as a JSON list):

============================  ==================================================================
``ICS.All``                   practice-level data of every practice
``Borough.<name>``            practice-level data of that borough's practices, e.g. ``Borough.Harrow``;
                              names match case-insensitively, ``&`` and ``and`` are the same, and
                              spaces, ``_``, ``-`` and ``.`` are ignored, so ``Borough.Hammersmith & Fulham``
                              and ``Borough.Hammersmith_and_Fulham`` (Entra app-role values cannot
                              contain spaces) are the same role
``PCN.<ODS code>``            practice-level data of that PCN's practices, e.g. ``PCN.U89806``
``Data.Load``                 may use Load data (not an area role: on its own it shows no data)
============================  ==================================================================

Area figures (PCN, borough, place and ICS sums) are visible to every signed-in user whose scope has any area
role (``Scope.has_access``); a signed-in user without one sees "no access" (``no_access_message``). Practice-level
rows outside the scope must never leave the server: the store filters them (it resolves borough names to codes
with ``Scope.matching_boroughs``). Without sign-in configured the app runs in open local mode with
``Scope.everything()``.

Other names (a team's Entra group, a legacy role) can be mapped onto these roles by an optional role map file,
read by ``load_role_map(path)``; the library reads no environment variables, the app passes the path.

Very large tokens (measured with Streamlit 1.67 and Chromium, tests/test_signin_harness.py). Streamlit keeps
the claims, and in a second cookie the raw ID and access tokens, in signed, zlib-compressed cookies, split into
~4 KB chunks, and the browser sends them all back in one ``Cookie`` header line on every request, including the
handshake of the websocket that carries the whole app. That handshake (the ``websockets`` package under uvicorn)
refuses a header line over 8192 bytes: the page then stays blank (no script runs, so the app cannot show a
message), for 30 days, until the cookies are cleared (visiting ``/auth/logout`` does it). Role names compress
well (400 names like ``App.Team042.Reader`` make a 4 KB header), Entra group ids do not: about 85 of them are
enough. So: (1) at the identity provider, give the dashboard's app registration only its own app roles (Entra
puts the roles assigned to this application in ``roles``; assign groups to app roles rather than emitting a
``groups`` claim, or emit only "groups assigned to the application" and map them with the role map); (2) as a
safety net, start Streamlit with ``WEBSOCKETS_MAX_LINE_LENGTH=65536`` in its environment (read by ``websockets``
at import; 800 group ids, a 60 KB header, then work) and give any reverse proxy in front a header buffer that
large (nginx's default is 8 KB per header line); (3) in the app, log ``large_token_warning`` after sign-in, so
the BI team hears of a growing token before a user is locked out. This module also keeps only recognised roles
for the scope and the audit log (``Principal.granted``), keeps the raw list bounded (``MAX_KEPT_ROLES``), and
detects Entra's "groups overage" marker (too many groups to put in the token) for ``no_access_message``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ROLE_ALL = "ICS.All"
ROLE_LOAD = "Data.Load"
BOROUGH_PREFIX = "Borough."
PCN_PREFIX = "PCN."

# A roles claim longer than this keeps its first MAX_KEPT_ROLES entries (plus every recognised one): the
# principal lives in session state and feeds log lines, and nothing past a few dozen roles is meaningful here.
MAX_KEPT_ROLES = 200
# A role or group name longer than this is not one of ours (and is not kept).
MAX_ROLE_LENGTH = 200
_PCN_CODE = re.compile(r"^[A-Z0-9]{3,10}$")

# Limits met by Streamlit 1.67's auth cookies, measured with tests/test_signin_harness.py (see auth_cookie_bytes).
# websockets' default MAX_LINE_LENGTH: the longest Cookie header line the /_stcore/stream handshake accepts.
COOKIE_HEADER_WEBSOCKET_LIMIT = 8192


class AccessError(ValueError):
    """Claims or a role map that cannot be used; the message names the claim, file or entry."""


RoleKind = Literal["all", "load", "borough", "pcn"]


def parse_role(role: str) -> tuple[RoleKind, str | None] | None:
    """One of our roles as (kind, value), or None for a role this dashboard does not recognise.

    >>> parse_role("Borough.Harrow"), parse_role("pcn.u89806"), parse_role("ICS.All"), parse_role("Admin")
    (('borough', 'Harrow'), ('pcn', 'U89806'), ('all', None), None)
    """
    text = " ".join(role.split())
    if not text or len(text) > MAX_ROLE_LENGTH:
        return None
    folded = text.casefold()
    if folded == ROLE_ALL.casefold():
        return "all", None
    if folded == ROLE_LOAD.casefold():
        return "load", None
    if folded.startswith(BOROUGH_PREFIX.casefold()):
        name = text[len(BOROUGH_PREFIX):].strip()
        return ("borough", name) if re.search(r"[^\W_]", name.replace("&", "")) else None
    if folded.startswith(PCN_PREFIX.casefold()):
        code = text[len(PCN_PREFIX):].strip().upper()
        return ("pcn", code) if _PCN_CODE.match(code) else None
    return None


def canonical_role(role: str) -> str | None:
    """A recognised role in its canonical spelling (``pcn.u89806`` -> ``PCN.U89806``), else None."""
    parsed = parse_role(role)
    if parsed is None:
        return None
    kind, value = parsed
    return {"all": ROLE_ALL, "load": ROLE_LOAD, "borough": f"{BOROUGH_PREFIX}{value}",
            "pcn": f"{PCN_PREFIX}{value}"}[kind]


def borough_key(name: str) -> str:
    """How borough names are compared: case-insensitive, ``&`` = ``and``, spaces and ``_-.'`` ignored.

    >>> borough_key("Hammersmith & Fulham") == borough_key("hammersmith_and_fulham") == "hammersmithandfulham"
    True
    """
    folded = name.casefold().replace("&", "and")
    return re.sub(r"[^0-9a-z]+", "", folded)


# --- the role map ---------------------------------------------------------------------------------------------


class RoleMap(BaseModel):
    """Other role or group names mapped onto this dashboard's roles, e.g. ``NWL-BI-Team -> ICS.All, Data.Load``.

    Why: Entra app roles are the intended source, but a BI team may already manage access with groups (which
    Entra emits by object id in the ``groups`` claim) or legacy role names. The map keeps that translation in
    one reviewed file instead of in code. Names match case-insensitively; targets must be roles this module
    recognises (a typo in the file is an error, not a silent loss of access).
    """

    model_config = ConfigDict(frozen=True)

    entries: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("entries", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError("a role map is a table of name = [roles]")
        entries: dict[str, tuple[str, ...]] = {}
        for name, targets in value.items():
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"role map name {name!r} is not a non-empty string")
            if isinstance(targets, str):
                targets = [targets]
            if not isinstance(targets, Sequence) or not all(isinstance(t, str) for t in targets):
                raise ValueError(f"role map entry {name!r}: expected a role or a list of roles, got {targets!r}")
            canonical = []
            for target in targets:
                role = canonical_role(target)
                if role is None:
                    raise ValueError(f"role map entry {name!r}: {target!r} is not a recognised role "
                                     f"({ROLE_ALL}, {BOROUGH_PREFIX}<name>, {PCN_PREFIX}<ODS code>, {ROLE_LOAD})")
                canonical.append(role)
            key = name.strip().casefold()
            entries[key] = tuple(dict.fromkeys(entries.get(key, ()) + tuple(canonical)))
        return entries

    def expand(self, names: Iterable[str]) -> tuple[str, ...]:
        """The roles these names map to, in order, without repeats."""
        out: dict[str, None] = {}
        for name in names:
            for role in self.entries.get(name.strip().casefold(), ()):
                out[role] = None
        return tuple(out)


def load_role_map(path: Path | str) -> RoleMap:
    """Read a role map from a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file of ``name = [roles]`` entries.

    TOML::

        "NWL-BI-Team" = ["ICS.All", "Data.Load"]
        "Harrow analysts" = "Borough.Harrow"
        "0b7c3f0e-1111-2222-3333-444455556666" = ["PCN.U89806"]   # an Entra group, by object id

    Raises ``AccessError`` naming the file and the bad entry.
    """
    path = Path(path)
    if path.suffix.lower() not in (".toml", ".yaml", ".yml"):
        raise AccessError(f"{path}: a role map is a .toml, .yaml or .yml file")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else (yaml.safe_load(text) or {})
    except (OSError, tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise AccessError(f"{path}: cannot read the role map: {error}") from error
    try:
        return RoleMap(entries=data)
    except ValidationError as error:
        messages = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
        raise AccessError(f"{path}: {messages}") from error


# --- the principal --------------------------------------------------------------------------------------------


def _listish(value: Any) -> Any:
    """A roles/groups claim as a list: missing -> [], a JSON-list string or a comma-separated string -> list.

    Entra sends a JSON list; a string is accepted defensively (a proxy or another provider may flatten it).
    Anything else is left for pydantic to reject, naming the claim.
    """
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                return value  # pydantic says "roles: input should be a valid list"
            return parsed
        return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    return value


class _Claims(BaseModel):
    """The ID-token claims this module reads, validated so an error names the claim (``roles.2``, ``email``)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    sub: str | None = None
    email: str | None = None
    name: str | None = None
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    # Entra's "groups overage" markers: read leniently, they only ever add an explanation.
    claim_names: Any = Field(default=None, alias="_claim_names")
    hasgroups: Any = None

    @field_validator("roles", "groups", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return _listish(value)


class Principal(BaseModel):
    """The signed-in user, built from the ID token's claims by ``Principal.from_claims``.

    ``user_id`` is the ``email`` claim (lower-cased: mail addresses compare case-insensitively, and the audit log
    must count one person once), else ``sub``. With Entra, add the optional ``email`` claim to the token;
    otherwise users are identified by ``sub`` (stable per app, but opaque in the audit log).
    """

    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1)
    sub: str | None = None
    email: str | None = None
    name: str | None = None
    roles: tuple[str, ...] = ()
    granted: tuple[str, ...] = ()
    roles_dropped: int = 0
    groups_overage: bool = False

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], role_map: RoleMap | Mapping[str, Any] | None = None,
                    ) -> Principal:
        """The principal for ``st.user``'s claims (any mapping); raises ``AccessError`` naming a bad claim.

        ``roles`` may be missing (no roles), a list, or a string; with a role map, names in ``roles`` and in
        ``groups`` are translated too. Unknown roles are kept in ``roles`` but give nothing.

        >>> p = Principal.from_claims({"sub": "s1", "email": "A@nhs.net", "roles": ["Borough.Harrow", "Admin"]})
        >>> p.user_id, p.roles, p.granted, p.scope.key
        ('a@nhs.net', ('Borough.Harrow', 'Admin'), ('Borough.Harrow',), 'b:harrow')
        """
        if not isinstance(claims, Mapping):
            raise AccessError(f"ID-token claims must be a mapping, got {type(claims).__name__}")
        try:
            parsed = _Claims.model_validate(dict(claims))
        except ValidationError as error:
            problems = "; ".join(f"claim {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
            raise AccessError(f"unusable ID-token claims: {problems}") from error
        if role_map is not None and not isinstance(role_map, RoleMap):
            try:
                role_map = RoleMap(entries=role_map)
            except ValidationError as error:
                raise AccessError(f"unusable role map: {error.errors()[0]['msg']}") from error

        email = parsed.email or None
        sub = parsed.sub or None
        user_id = (email.lower() if email else None) or sub
        if not user_id:
            raise AccessError("unusable ID-token claims: claim email and claim sub are both missing or empty")

        raw = tuple(dict.fromkeys(" ".join(r.split()) for r in parsed.roles if r.strip()))
        groups = tuple(dict.fromkeys(g.strip() for g in parsed.groups if g.strip()))
        granted: dict[str, None] = {}
        for role in raw:
            canonical = canonical_role(role)
            if canonical:
                granted[canonical] = None
        if role_map is not None:
            for role in role_map.expand(raw + groups):
                granted[role] = None

        # Keep every role that counts (recognised, or named in the role map) and the first MAX_KEPT_ROLES others.
        mapped = role_map.entries if role_map is not None else {}
        counts = [r for r in raw if canonical_role(r) or r.casefold() in mapped]
        counted = set(counts)
        others = [r for r in raw if r not in counted and len(r) <= MAX_ROLE_LENGTH][:MAX_KEPT_ROLES]
        keep = counted | set(others)
        kept = tuple(r for r in raw if r in keep)
        overage = (isinstance(parsed.claim_names, Mapping) and "groups" in parsed.claim_names) or \
            parsed.hasgroups in (True, "true", "True")
        return cls(user_id=user_id, sub=sub, email=email, name=parsed.name or None, roles=kept,
                   granted=tuple(granted), roles_dropped=len(raw) - len(kept), groups_overage=overage)

    @property
    def scope(self) -> Scope:
        """The data scope of the granted roles."""
        return Scope.from_roles(self.granted)


# --- the scope ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a user may see and do. Frozen and hashable; ``key`` is a stable string for cache keys.

    ``boroughs`` keeps names as written in the roles (the store resolves them to codes, see
    ``matching_boroughs``); ``pcns`` holds upper-case ODS codes.
    """

    all_practices: bool = False
    boroughs: frozenset[str] = field(default_factory=frozenset)
    pcns: frozenset[str] = field(default_factory=frozenset)
    can_load: bool = False

    def __post_init__(self) -> None:
        # Normalise whatever iterable was passed, so equal scopes compare (and hash) equal.
        unique: dict[str, str] = {}
        for name in sorted(self.boroughs):
            cleaned = " ".join(name.split())
            if borough_key(cleaned):
                unique.setdefault(borough_key(cleaned), cleaned)
        object.__setattr__(self, "boroughs", frozenset(unique.values()))
        object.__setattr__(self, "pcns", frozenset(c.strip().upper() for c in self.pcns if c.strip()))

    @classmethod
    def everything(cls) -> Scope:
        """Open local mode (no sign-in configured): every practice, and loading data."""
        return cls(all_practices=True, can_load=True)

    @classmethod
    def nothing(cls) -> Scope:
        return cls()

    @classmethod
    def from_roles(cls, roles: Iterable[str]) -> Scope:
        """The scope of some roles; roles this dashboard does not recognise are ignored.

        >>> Scope.from_roles(["PCN.U89806", "Borough.Harrow", "Data.Load", "Admin"]).key
        'b:harrow|p:U89806'
        """
        all_practices = can_load = False
        boroughs: list[str] = []
        pcns: list[str] = []
        for role in roles:
            parsed = parse_role(role)
            if parsed is None:
                continue
            kind, value = parsed
            if kind == "all":
                all_practices = True
            elif kind == "load":
                can_load = True
            elif kind == "borough":
                boroughs.append(value)
            else:
                pcns.append(value)
        return cls(all_practices=all_practices, boroughs=frozenset(boroughs), pcns=frozenset(pcns),
                   can_load=can_load)

    @classmethod
    def from_principal(cls, principal: Principal) -> Scope:
        return cls.from_roles(principal.granted)

    @property
    def has_access(self) -> bool:
        """Any area role (``ICS.All``, ``Borough.*``, ``PCN.*``): may see area figures. ``Data.Load`` alone is not."""
        return self.all_practices or bool(self.boroughs) or bool(self.pcns)

    @property
    def key(self) -> str:
        """A stable string naming the practice rows this scope allows, for cache keys.

        ``all``, ``none``, or ``b:<borough keys>|p:<PCN codes>`` sorted. ``can_load`` is not part of it: it does
        not change which rows a query returns.
        """
        if self.all_practices:
            return "all"
        if not self.has_access:
            return "none"
        parts = []
        if self.boroughs:
            parts.append("b:" + ",".join(sorted(borough_key(b) for b in self.boroughs)))
        if self.pcns:
            parts.append("p:" + ",".join(sorted(self.pcns)))
        return "|".join(parts)

    def allows_borough(self, name: str) -> bool:
        """Every practice of this borough is in scope (compared by ``borough_key``)."""
        return self.all_practices or borough_key(name) in {borough_key(b) for b in self.boroughs}

    def allows_practice(self, borough_name: str | None, pcn_code: str | None) -> bool:
        """A practice in this borough and PCN may be shown at practice level."""
        if self.all_practices:
            return True
        if borough_name and self.allows_borough(borough_name):
            return True
        return bool(pcn_code) and pcn_code.strip().upper() in self.pcns

    def matching_boroughs(self, known_names: Iterable[str]) -> frozenset[str]:
        """The names among ``known_names`` (as the data spells them) that this scope's borough roles name.

        >>> sorted(Scope(boroughs=frozenset({"hammersmith_and_fulham"})).matching_boroughs(
        ...     ["Harrow", "Hammersmith & Fulham"]))
        ['Hammersmith & Fulham']
        """
        wanted = {borough_key(b) for b in self.boroughs}
        return frozenset(n for n in known_names if self.all_practices or borough_key(n) in wanted)

    def unmatched_boroughs(self, known_names: Iterable[str]) -> frozenset[str]:
        """Borough roles that name no known borough (a typo in Entra, or a renamed borough): worth a warning."""
        known = {borough_key(n) for n in known_names}
        return frozenset(b for b in self.boroughs if borough_key(b) not in known)

    @property
    def label(self) -> str:
        """A short description for the sidebar, e.g. ``Harrow; PCN U89806``."""
        if self.all_practices:
            return "All practices"
        if not self.has_access:
            return "No access"
        parts = sorted(self.boroughs) + [f"PCN {code}" for code in sorted(self.pcns)]
        return "; ".join(parts)


# --- messages and large tokens ----------------------------------------------------------------------------------


def no_access_message(principal: Principal) -> str:
    """What a signed-in user without an area role is told (names what was received, and what to ask for)."""
    lines = [f"You are signed in as {principal.email or principal.user_id}, but your account has no access to "
             "this dashboard's data."]
    if principal.groups_overage:
        lines.append("Your account belongs to too many groups for them to be sent at sign-in; access must be "
                     "given as an app role on the dashboard's app registration.")
    if principal.granted:
        lines.append(f"Roles recognised: {', '.join(principal.granted)} (none of them gives access to an area).")
    elif principal.roles:
        shown = ", ".join(principal.roles[:5]) + (" ..." if len(principal.roles) > 5 else "")
        lines.append(f"Roles received, none recognised: {shown}.")
    else:
        lines.append("No roles were received.")
    lines.append(f"Ask the BI team for one of {ROLE_ALL}, {BOROUGH_PREFIX}<borough> or {PCN_PREFIX}<ODS code>.")
    return "\n\n".join(lines)


_AUTH_COOKIE_ATTRIBUTES = "; Path=/; HttpOnly; SameSite=lax; Max-Age=2592000"
_MAX_COOKIE_BYTES = 4096


def _noise(length: int, seed: str) -> str:
    """``length`` base64url characters that do not compress (a signature or an opaque token stands in)."""
    digest = hashlib.shake_256(seed.encode()).digest(length)
    return base64.urlsafe_b64encode(digest).decode()[:length]


def _b64url(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _streamlit_cookies(name: str, value: Mapping[str, Any], secret: str) -> list[str]:
    """The ``name=value`` pairs Streamlit 1.67 sets for one auth cookie (auth_util.set_cookie_with_chunks)."""
    from itsdangerous import URLSafeTimedSerializer

    def sign(cookie: str, text: str) -> str:
        return URLSafeTimedSerializer(secret, salt=cookie).dumps(text)

    serialized = json.dumps(value)
    if len(name) + 1 + len(sign(name, serialized)) + len(_AUTH_COOKIE_ATTRIBUTES) <= _MAX_COOKIE_BYTES:
        return [f"{name}={sign(name, serialized)}"]
    overhead = len(sign(name, "x")) - 4 + 50
    chunk = ((_MAX_COOKIE_BYTES - len(name) - 1 - len(_AUTH_COOKIE_ATTRIBUTES) - overhead) * 3) // 4
    pieces = [serialized[i:i + chunk] for i in range(0, len(serialized), chunk)]
    cookies = [f"{name}={sign(name, f'chunks-{len(pieces)}')}"]
    cookies += [f"{name}_{i}={sign(f'{name}_{i}', piece)}" for i, piece in enumerate(pieces, start=1)]
    return cookies


def auth_cookie_bytes(claims: Mapping[str, Any], *, access_token_bytes: int = 0,
                      tokens: Mapping[str, str] | None = None, cookie_secret: str = "s" * 32) -> int:
    """Estimate the ``Cookie`` header (bytes) that Streamlit 1.67's sign-in makes the browser send for these claims.

    Streamlit stores ``st.user`` (the ID-token claims plus ``origin``, ``is_logged_in``, ``provider``) in the
    signed, compressed cookie ``_streamlit_user`` and the raw ``id_token`` and ``access_token`` in
    ``_streamlit_user_tokens``, splitting either into ~4 KB chunks. The browser sends them all back in one
    header line, which Streamlit's websocket handshake refuses past ``COOKIE_HEADER_WEBSOCKET_LIMIT`` (8192)
    bytes: the page then stays blank. Pass ``st.user.to_dict()``. The ID token is rebuilt from the claims (an
    RS256 JWT); the access token is opaque to the app: pass ``tokens`` (``st.user.tokens.to_dict()``, with
    ``expose_tokens = ["id", "access"]`` in ``[auth]``) for exact figures, or its length. Entra's access tokens
    are JWTs of their own, one to a few KB. Compare with the limit and warn well before it.

    Agrees with what Chromium holds to within a few per cent (tests/test_signin_harness.py measures it).
    """
    user = {k: v for k, v in claims.items() if k != "tokens"}
    user.setdefault("origin", "https://dashboard.example.nhs.uk")
    user.setdefault("is_logged_in", True)
    user.setdefault("provider", "default")
    if tokens:
        raw_tokens = {"id_token": tokens.get("id", ""), "access_token": tokens.get("access", "")}
        raw_tokens = {k: v for k, v in raw_tokens.items() if v}
    else:
        body = {k: v for k, v in user.items() if k not in ("origin", "is_logged_in", "provider")}
        header = {"alg": "RS256", "kid": _noise(43, "kid"), "typ": "JWT"}
        raw_tokens = {"id_token": f"{_b64url(header)}.{_b64url(body)}.{_noise(342, json.dumps(body))}"}
        if access_token_bytes:
            raw_tokens["access_token"] = _noise(access_token_bytes, "access")
    cookies = (_streamlit_cookies("_streamlit_user", user, cookie_secret)
               + _streamlit_cookies("_streamlit_user_tokens", raw_tokens, cookie_secret))
    return len("; ".join(cookies))


TOKEN_WARNING_BYTES = 6144  # three quarters of COOKIE_HEADER_WEBSOCKET_LIMIT


def large_token_warning(claims: Mapping[str, Any], *, access_token_bytes: int = 0,
                        tokens: Mapping[str, str] | None = None) -> str | None:
    """A warning for the server log when a user's sign-in cookies approach the size that locks them out, else None.

    Meant to be logged once per session after sign-in (with the user id), so the BI team can trim the user's
    roles or groups before the next one added leaves them with a blank page. No role values are included.
    """
    size = auth_cookie_bytes(claims, access_token_bytes=access_token_bytes, tokens=tokens)
    if size < TOKEN_WARNING_BYTES:
        return None
    roles = _listish(claims.get("roles"))
    groups = _listish(claims.get("groups"))
    count = lambda v: len(v) if isinstance(v, list) else 0  # noqa: E731
    verdict = ("over the limit: the app cannot load for this user" if size > COOKIE_HEADER_WEBSOCKET_LIMIT
               else "close to the limit")
    return (f"sign-in cookies of about {size} bytes ({count(roles)} roles, {count(groups)} groups) are {verdict} "
            f"of {COOKIE_HEADER_WEBSOCKET_LIMIT} bytes for the Cookie header of Streamlit's websocket; give the "
            "app registration fewer roles or groups for this user (see metrics/access.py, 'Very large tokens')")
