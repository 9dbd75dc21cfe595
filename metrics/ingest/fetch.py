"""Published files fetched from the service that publishes them, rather than downloaded by hand: the OHID
Fingertips API's CSV export of an indicator for GP practices (``python -m metrics fetch fingertips``).

The bytes received go through exactly the load an analyst's downloaded file goes through (``load.prepare`` /
``load.commit`` with the ``fingertips`` format): the same validation, the same atomic snapshot writer. Each
response becomes a ``Source`` named after its request, carrying its provenance (URL, time received, SHA-256 of the
bytes, attempts), which the snapshot's manifest records beside the file.

A request has a timeout and is retried with back-off (1, 2 and 4 seconds) when the service cannot be reached,
times out, drops the connection or answers 5xx / 429; any other answer (e.g. 404 for an unknown indicator) is not
retried. When any request fails for good, ``FetchError`` says which and why, and nothing is loaded: a refresh is
all of its indicators or none. Sleeping and opening URLs are injectable, so tests neither wait nor leave
127.0.0.1; the library reads no environment (proxies are passed in by the command line).
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from metrics.catalogue import Catalogue
from metrics.ingest.fingertips import PRACTICE_ATTRIBUTES
from metrics.ingest.load import Source

API_BASE = "https://fingertips.phe.org.uk/api"
GP_AREA_TYPE = 7  # Fingertips area type id of GP practices
PCN_AREA_TYPE = 204  # primary care networks: as the GPs' parent, the export also holds the PCN rows
ENGLAND_AREA_TYPE = 15  # England: the parent for an indicator published without a PCN grouping
RETRY_DELAYS = (1.0, 2.0, 4.0)  # seconds to wait before each retry: 4 attempts in all
TIMEOUT_SECONDS = 60.0
USER_AGENT = "nwl-icp-metrics-dashboard (python -m metrics fetch)"


class FetchError(RuntimeError):
    """A request failed for good (after its retries, or with an answer retrying cannot change)."""


class Response(Protocol):
    status: int

    def read(self) -> bytes: ...

    def __enter__(self) -> "Response": ...

    def __exit__(self, *exc: object) -> None: ...


Opener = Callable[[urllib.request.Request, float], Response]


class FingertipsRequest(BaseModel):
    """One indicator's CSV export for GP practices (with the parent areas' own rows), validated at the edge."""

    model_config = ConfigDict(frozen=True)

    indicator_id: int = Field(gt=0)
    base_url: str = API_BASE
    child_area_type: int = Field(GP_AREA_TYPE, gt=0)
    parent_area_type: int = Field(PCN_AREA_TYPE, gt=0)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL (expected e.g. {API_BASE})")
        return value.rstrip("/")

    @property
    def url(self) -> str:
        """The API's all-data CSV endpoint, as fingertipsR calls it (sortable time periods included, so the
        export has the 27 columns of a file downloaded from the site)."""
        query = urllib.parse.urlencode({
            "indicator_ids": self.indicator_id, "child_area_type_id": self.child_area_type,
            "parent_area_type_id": self.parent_area_type, "include_sortable_time_periods": "yes"})
        return f"{self.base_url}/all_data/csv/by_indicator_id?{query}"

    @property
    def file_name(self) -> str:
        """The name the validation report and the manifest give the response."""
        return (f"fingertips_{self.indicator_id}_area{self.child_area_type}"
                f"_parent{self.parent_area_type}.csv")


class Provenance(BaseModel):
    """Where a fetched file's bytes came from: the manifest's ``source`` for the file."""

    model_config = ConfigDict(frozen=True)

    url: str
    received_at: str  # UTC, ISO 8601, when the last byte arrived
    sha256: str
    bytes: int
    http_status: int
    attempts: int


def _transient(error: Exception) -> bool:
    """Worth retrying: the service was unreachable, slow, dropped the connection, overloaded or failing."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code == 429
    return isinstance(error, (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException))


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"cannot connect ({error.reason})"
    if isinstance(error, TimeoutError):
        return "no answer within the timeout"
    return f"{type(error).__name__}: {error}"


def default_opener(proxies: Mapping[str, str]) -> Opener:
    """urllib with exactly these proxies (none: direct), never the environment's: the caller decides."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(dict(proxies)))
    return lambda request, timeout: opener.open(request, timeout=timeout)


@dataclass(frozen=True)
class Client:
    """How requests are made: timeout, back-off, and the injectable opener and sleep."""

    timeout: float = TIMEOUT_SECONDS
    delays: tuple[float, ...] = RETRY_DELAYS
    sleep: Callable[[float], None] = time.sleep
    opener: Opener = field(default_factory=lambda: default_opener({}))

    def get(self, url: str) -> tuple[bytes, int, int]:
        """(body, HTTP status, attempts made); raises FetchError once retrying cannot help."""
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/csv"})
        failures: list[str] = []
        for attempt, delay in enumerate((*self.delays, None), start=1):
            try:
                with self.opener(request, self.timeout) as response:
                    return response.read(), response.status, attempt
            except Exception as error:  # noqa: BLE001 - sorted into retry / give up just below
                failures.append(f"attempt {attempt}: {_reason(error)}")
                if not _transient(error) or delay is None:
                    raise FetchError(f"{url}: {'; '.join(failures)}") from error
            self.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises


def fetch(request: FingertipsRequest, client: Client) -> Source:
    """One export as an input file, with its provenance."""
    data, status, attempts = client.get(request.url)
    provenance = Provenance(url=request.url, received_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), http_status=status,
                            attempts=attempts)
    return Source(request.file_name, data, provenance.model_dump())


def fetch_all(requests: Sequence[FingertipsRequest], client: Client,
              progress: Callable[[str], None] = lambda _: None) -> list[Source]:
    """Every export, in order; the first that fails for good stops the lot (FetchError), so a refresh never
    loads some indicators and silently misses others."""
    sources = []
    for request in requests:
        progress(f"GET {request.url}")
        sources.append(fetch(request, client))
        progress(f"  {sources[-1].provenance['bytes']:,} bytes, sha256 {sources[-1].provenance['sha256']}")
    return sources


def mapped_indicators(cat: Catalogue) -> list[int]:
    """Every Fingertips indicator the catalogue maps to a metric (what ``--all`` fetches), in catalogue order."""
    return [i for m in cat.metrics for i in m.fingertips_indicator_ids]


def loadable_indicator(indicator_id: int, cat: Catalogue) -> bool:
    """An export the fingertips format can load: mapped to a metric, or a practice attribute (the IMD score)."""
    return cat.for_fingertips_indicator(indicator_id) is not None or indicator_id in PRACTICE_ATTRIBUTES
