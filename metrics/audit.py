"""The audit log: who looked at, exported, packed or loaded what, and what they were refused.

One JSON object per line, appended to a daily file ``<data root>/audit/audit-YYYY-MM-DD.jsonl`` (UTC date)::

    {"time": "2026-12-01T09:30:12.345Z", "user": "ann@nhs.net", "roles": ["Borough.Harrow"], "action": "view",
     "page": "frailty", "params": {"borough": "Harrow", "pcn": "U89806", "period": "2026-09"}, "rows": 12}

Why it is built this way:

* Several Streamlit processes (and their many threads) write the same file. Each line is one ``os.write`` on a
  file opened with ``O_APPEND`` (the kernel puts every write at the current end), under an exclusive
  ``fcntl.flock`` (so a long line, or a write the kernel splits, still cannot interleave with another). A
  reader therefore only ever sees whole lines, and nothing is lost across restarts: files are only appended to.
  ``flock`` is reliable on a local disk; put the audit folder on local or block storage, not on a network
  share (NFS/SMB locks are advisory at best); with several machines, give each its own audit folder and read
  them together.
* Object storage (a data root such as ``s3://bucket/prefix``) cannot append, so there each record is its own
  small object, ``<data root>/audit/audit-YYYY-MM-DD/<time>-<host>-<pid>-<random>.jsonl``: one whole write
  each, never lost or interleaved, from any number of processes and machines; reading lists the day's objects.
* It never holds metric values, only what identifies the view: the page, its URL parameters (all strings),
  and counts. ``record`` accepts only known detail keys (``DETAIL_KEYS``) with checked types, refuses
  non-string URL parameters and any number with a fraction (which is what a rate or a value looks like), and
  raises ``AuditError`` rather than writing a doubtful line: a programming mistake shows in the tests, not in
  the log.
* ``roles`` is the principal's recognised roles (``Principal.granted``), not the raw claim, so one user with
  hundreds of groups does not make every line kilobytes long.
"""

from __future__ import annotations

import fcntl
import json
import os
import posixpath
import re
import secrets
import socket
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from metrics import layout
from metrics.access import Principal

AUDIT_DIR_NAME = "audit"
FILE_PREFIX, FILE_SUFFIX = "audit-", ".jsonl"
ACTIONS = frozenset({"view", "export-csv", "export-png", "export-svg", "pack", "load", "refused", "sign-in",
                     "sign-out"})
# Detail keys and what each may hold. Counts are whole numbers; "areas" is a count or a list of area codes.
DETAIL_KEYS = ("rows", "areas", "file", "format", "reason", "snapshot", "metric", "session")
MAX_TEXT = 300          # longest string kept in params or detail
MAX_AREAS = 500         # longest list of area codes
MAX_PARAMS = 30
_FRACTION = re.compile(r"^[+-]?(\d+[.,]\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)%?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")


class AuditError(ValueError):
    """A record that must not be written (an unknown action or key, a value that looks like a figure)."""


def audit_dir(data_root: Path | str) -> Path | str:
    """Where a data root keeps its audit log (a URL under an object-storage root)."""
    if layout.is_url(data_root):
        return layout.storage(data_root).path(AUDIT_DIR_NAME)
    return Path(data_root) / AUDIT_DIR_NAME


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise AuditError(f"{where}: expected text, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise AuditError(f"{where}: longer than {MAX_TEXT} characters")
    if _FRACTION.match(value.strip()):
        raise AuditError(f"{where}: {value!r} looks like a figure; the audit log holds no metric values")
    return value


def _count(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AuditError(f"{where}: expected a whole number of at least 0, got {value!r}")
    return value


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, str | list[str]]:
    """The view's URL parameters: names to strings (or lists of strings, for repeated parameters)."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise AuditError(f"params: expected a mapping of URL parameters, got {type(params).__name__}")
    if len(params) > MAX_PARAMS:
        raise AuditError(f"params: more than {MAX_PARAMS} URL parameters")
    clean: dict[str, str | list[str]] = {}
    for key, value in params.items():
        if not isinstance(key, str) or not _NAME.match(key):
            raise AuditError(f"params: {key!r} is not a URL parameter name")
        if isinstance(value, (list, tuple)):
            clean[key] = [_text(f"params.{key}", v) for v in value]
        else:
            clean[key] = _text(f"params.{key}", value)
    return clean


def _clean_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in detail.items():
        if value is None:
            continue
        if key not in DETAIL_KEYS:
            raise AuditError(f"detail {key!r} is not one of {', '.join(DETAIL_KEYS)}")
        if key == "rows":
            clean[key] = _count(key, value)
        elif key == "areas":
            if isinstance(value, int) and not isinstance(value, bool):
                clean[key] = _count(key, value)
            elif isinstance(value, (list, tuple, set, frozenset)):
                codes = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
                if len(codes) > MAX_AREAS:
                    raise AuditError(f"areas: more than {MAX_AREAS} area codes (give a count instead)")
                clean[key] = [_text("areas", code) for code in codes]
            else:
                raise AuditError(f"areas: expected a count or a list of area codes, got {type(value).__name__}")
        else:
            clean[key] = _text(key, value)
    return clean


def _day(name: str, suffix: str) -> date | None:
    """The day an audit file (or object-storage folder) is named for, or None."""
    if not (name.startswith(FILE_PREFIX) and name.endswith(suffix)):
        return None
    try:
        return date.fromisoformat(name[len(FILE_PREFIX):len(name) - len(suffix)])
    except ValueError:
        return None


class AuditLog:
    """Append-only JSON-lines audit log in ``directory`` (created when first written)."""

    def __init__(self, directory: Path | str, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._store = layout.storage(directory) if layout.is_url(directory) else None
        self.directory = self._store.root if self._store is not None else Path(directory)
        self._clock = clock

    def path_for(self, day: date) -> Path | str:
        """The day's file (local disk), or the day's folder of one-record objects (object storage)."""
        if self._store is not None:
            return self._store.path(f"{FILE_PREFIX}{day.isoformat()}")
        return self.directory / f"{FILE_PREFIX}{day.isoformat()}{FILE_SUFFIX}"

    def record(self, principal_or_user: Principal | str, action: str, page: str,
               params: Mapping[str, Any] | None = None, **detail: Any) -> dict[str, Any]:
        """Append one line and return what was written.

        ``principal_or_user`` is the signed-in ``Principal`` or, where there is none, a user label such as
        ``"local"`` (open local mode) or ``"cli"``. ``params`` is the view's URL parameters. ``detail`` takes
        only ``DETAIL_KEYS``: ``rows`` and ``areas`` (counts, or area codes for ``areas``) returned,
        ``file``/``format`` of an export, ``reason`` of a refusal, ``snapshot``, ``metric`` (an id), ``session``.
        Raises ``AuditError`` for anything else.
        """
        if isinstance(principal_or_user, Principal):
            user, roles = principal_or_user.user_id, list(principal_or_user.granted)
        elif isinstance(principal_or_user, str) and principal_or_user.strip():
            user, roles = principal_or_user.strip(), []
        else:
            raise AuditError(f"user: expected a Principal or a user label, got {principal_or_user!r}")
        if action not in ACTIONS:
            raise AuditError(f"action {action!r} is not one of {', '.join(sorted(ACTIONS))}")
        if not isinstance(page, str) or not page.strip() or len(page) > MAX_TEXT:
            raise AuditError(f"page: expected a page name, got {page!r}")
        now = self._clock().astimezone(UTC)
        entry: dict[str, Any] = {
            "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "user": _text("user", user),
            "roles": roles,
            "action": action,
            "page": page.strip(),
            "params": _clean_params(params),
            **_clean_detail(detail),
        }
        line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        if self._store is not None:
            self._put(now, line)
        else:
            self._append(self.path_for(now.date()), line)
        return entry

    def _put(self, now: datetime, line: bytes) -> None:
        """Object storage: the record as one object of its own, named so that names never collide and sort by
        time."""
        name = f"{now:%H%M%S.%f}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}{FILE_SUFFIX}"
        self._store.write_bytes(self._store.join(self.path_for(now.date()), name), line)

    def _append(self, path: Path, line: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                view = memoryview(line)
                while view:  # one write in practice; the lock keeps even a split write whole
                    written = os.write(fd, view)
                    view = view[written:]
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # --- reading ------------------------------------------------------------------------------------------

    def files(self, since: date, until: date | None = None) -> list[Path | str]:
        """The daily files from ``since`` to ``until`` (inclusive; default: all later ones), oldest first; on object
        storage every record's object of those days."""
        chosen = []
        for day, path in self._daily():
            if day >= since and (until is None or day <= until):
                chosen.append((day, path))
        return [path for _, path in sorted(chosen)]

    def _daily(self) -> list[tuple[date, Path | str]]:
        """(day, file) for every daily file, or (day, object) for every record on object storage."""
        if self._store is not None:
            names = [(posixpath.basename(posixpath.dirname(p)), p) for p in sorted(self._store.scan())]
            return [(day, path) for folder, path in names if (day := _day(folder, "")) is not None]
        if not self.directory.is_dir():
            return []
        return [(day, path) for path in self.directory.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")
                if (day := _day(path.name, FILE_SUFFIX)) is not None]

    def _lines(self, path: Path | str) -> list[str]:
        if self._store is not None:
            return self._store.read_bytes(str(path)).decode("utf-8", errors="replace").splitlines()
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()

    def read_with_errors(self, since: date, until: date | None = None) -> tuple[list[dict[str, Any]], list[str]]:
        """Every record from the start of ``since`` (UTC) on, and a note for each line that is not a record."""
        start = datetime.combine(since, time(0), tzinfo=UTC)
        end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=UTC) if until else None
        records, problems = [], []
        for path in self.files(since, until):
            for number, line in enumerate(self._lines(path), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    when = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
                except (ValueError, KeyError, TypeError, AttributeError) as error:
                    problems.append(f"{posixpath.basename(str(path))}:{number}: {type(error).__name__}: {error}")
                    continue
                if when >= start and (end is None or when < end):
                    records.append(record)
        records.sort(key=lambda r: r["time"])
        return records, problems

    def read(self, since: date, until: date | None = None) -> list[dict[str, Any]]:
        """Every record from the start of ``since`` (UTC) on, oldest first; unreadable lines are skipped."""
        return self.read_with_errors(since, until)[0]

    def summary(self, since: date, until: date | None = None) -> str:
        """Plain text for ``python -m metrics audit --since DATE``: counts by user, action and page; refusals."""
        records, problems = self.read_with_errors(since, until)
        period = f"{since.isoformat()} to {until.isoformat()}" if until else f"since {since.isoformat()}"
        lines = [f"Audit log {period} ({self.directory}): {len(records)} events, "
                 f"{len({r.get('user') for r in records})} users"]
        if not records:
            lines.append("No events.")
        for title, field_name in (("By user", "user"), ("By action", "action"), ("By page", "page")):
            counts = Counter(str(r.get(field_name)) for r in records)
            if counts:
                lines.append(f"{title}:")
                width = max(len(name) for name in counts)
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                lines += [f"  {name:<{width}}  {n:>7}" for name, n in ranked]
        refusals = [r for r in records if r.get("action") == "refused"]
        lines.append(f"Refusals ({len(refusals)}):" if refusals else "Refusals: none")
        for r in refusals:
            params = " ".join(f"{k}={v}" for k, v in (r.get("params") or {}).items())
            reason = f" - {r['reason']}" if r.get("reason") else ""
            where = f"  [{params}]" if params else ""
            lines.append(f"  {r.get('time')}  {r.get('user')}  {r.get('page')}{reason}{where}")
        if problems:
            lines.append(f"Unreadable lines ({len(problems)}):")
            lines += [f"  {p}" for p in problems[:20]]
            if len(problems) > 20:
                lines.append(f"  ... and {len(problems) - 20} more")
        return "\n".join(lines)

