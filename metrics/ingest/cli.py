"""``python -m metrics ingest``: load files into a new snapshot from the command line.

    python -m metrics ingest --format fingertips --snapshot 2026-11-01 indicator-data.csv
    python -m metrics ingest --format practice-mapping --snapshot 2026-11-01 --as-of 2024-04-01 QOF_MAPPING.csv
    python -m metrics ingest --format tidy --snapshot 2026-11-01 --allow-partial wsic_extract.xlsx

Prints the validation report; exits 0 when everything loaded, 1 when anything was rejected (strict: nothing is
written then), 2 when the command itself is wrong (unknown file, snapshot not newer than the newest).
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from collections.abc import Mapping
from datetime import date
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from metrics.ingest.formats import FORMAT_NAMES
from metrics.settings import DATA_ROOT_ENV

if TYPE_CHECKING:
    from metrics.ingest.fetch import Client
    from metrics.ingest.load import Source
    from metrics.ingest.model import LoadOptions

FETCH_DOC = """``python -m metrics fetch fingertips``: fetch OHID Fingertips exports for GP practices from its API
and load them as a new snapshot, through the same validation and snapshot writer as ``ingest --format fingertips``.

    python -m metrics fetch fingertips --all --snapshot 2026-11-01
    python -m metrics fetch fingertips --indicator 91547 --indicator 93930 --snapshot 2026-11-01
    python -m metrics fetch fingertips --indicator 93553 --snapshot 2026-11-01     # IMD score into the practices

Exits 0 when everything loaded, 1 when anything was rejected (nothing written), 2 when the service could not be
reached after its retries or the command is wrong (nothing written either).
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    ingest = commands.add_parser("ingest", help="validate files and load them as a new snapshot",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ingest.add_argument("--format", required=True, choices=FORMAT_NAMES, help="layout of the files")
    ingest.add_argument("--snapshot", required=True, type=date.fromisoformat,
                        help="date of the new snapshot, YYYY-MM-DD (after the newest one)")
    ingest.add_argument("files", nargs="+", type=Path, help="files to load (CSV; tidy also Excel or parquet)")
    ingest.add_argument("--allow-partial", action="store_true",
                        help="load the valid rows and write rejected ones, with reasons, to a side file")
    ingest.add_argument("--as-of", type=date.fromisoformat,
                        help="date a practice-mapping file describes, when it has no EXTRACT_DATE column")
    ingest.add_argument("--counts-rounded-to-5", action="store_true",
                        help="the source rounds counts to 5 (NDA): a count of 5 means 1-7 and is kept as suppressed")
    ingest.add_argument("--root", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    ingest.set_defaults(func=run)


def run(args: argparse.Namespace, root: Path | str) -> int:
    from metrics.ingest.load import Source
    from metrics.ingest.model import LoadOptions

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        options = LoadOptions(format=args.format, snapshot=args.snapshot, allow_partial=args.allow_partial,
                              counts_rounded_to_5=args.counts_rounded_to_5, as_of=args.as_of)
    except ValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Validating {len(args.files)} file(s) as {args.format} for snapshot {args.snapshot} under {root}")
    return load_and_report(options, [Source.from_path(f) for f in args.files], root)


def load_and_report(options: LoadOptions, sources: list[Source], root: Path | str) -> int:
    """Validate, print the report and write the snapshot if allowed: the one load ``ingest`` and ``fetch`` share.
    Exit status 0 loaded, 1 something rejected, 2 the snapshot could not be written."""
    from metrics.ingest.load import commit, prepare
    from metrics.ingest.snapshot_writer import SnapshotError

    prepared = prepare(options, sources, root)
    print(prepared.report())
    if not prepared.writable:
        return 1
    try:
        result, side_files = commit(prepared, root)
    except SnapshotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Wrote snapshot {result.snapshot} at {result.path}: {result.summary()}.")
    for path in side_files:
        print(f"Rejected rows and reasons: {path}")
    return 1 if prepared.rejected else 0


def add_fetch_parser(commands: argparse._SubParsersAction) -> None:
    from metrics.ingest.fetch import API_BASE, PCN_AREA_TYPE, TIMEOUT_SECONDS

    fetch = commands.add_parser("fetch", help="fetch published exports from their service and load them as a new "
                                              "snapshot", description=FETCH_DOC,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    fetch.add_argument("service", choices=("fingertips",), help="the publisher's service: OHID Fingertips")
    fetch.add_argument("--indicator", type=int, action="append", default=[], metavar="ID",
                       help="a Fingertips indicator id (repeat for more): one the catalogue maps, or 93553 (IMD score)")
    fetch.add_argument("--all", action="store_true",
                       help="every indicator the catalogue maps (fingertips_indicator_ids in metrics/catalogue.yaml)")
    fetch.add_argument("--snapshot", required=True, type=date.fromisoformat,
                       help="date of the new snapshot, YYYY-MM-DD (after the newest one)")
    fetch.add_argument("--base-url", default=API_BASE, help=f"the Fingertips API (default: {API_BASE})")
    fetch.add_argument("--parent-area-type", type=int, default=PCN_AREA_TYPE,
                       help=f"Fingertips area type of the GPs' parents (default {PCN_AREA_TYPE}, PCNs; 15, England, "
                            "for an indicator not published by PCN)")
    fetch.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS,
                       help=f"seconds to wait for the service on each attempt (default {TIMEOUT_SECONDS:g})")
    fetch.add_argument("--allow-partial", action="store_true",
                       help="load the valid rows and write rejected ones, with reasons, to a side file")
    fetch.add_argument("--root", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    fetch.set_defaults(func=run_fetch)


def _indicators(args: argparse.Namespace) -> list[int]:
    """The ids asked for, ``--all`` expanded, each once; raises ValueError naming any the format cannot load."""
    from metrics.catalogue import catalogue
    from metrics.ingest.fetch import loadable_indicator, mapped_indicators

    wanted = list(dict.fromkeys([*args.indicator, *(mapped_indicators(catalogue()) if args.all else [])]))
    if not wanted:
        raise ValueError("name the indicators with --indicator ID, or fetch every mapped one with --all")
    unknown = [str(i) for i in wanted if not loadable_indicator(i, catalogue())]
    if unknown:
        raise ValueError(f"indicator {', '.join(unknown)} is not mapped to a metric (fingertips_indicator_ids in "
                         "metrics/catalogue.yaml) nor a practice attribute (93553, IMD score)")
    return wanted


def _proxies(base_url: str, proxies: Mapping[str, str]) -> Mapping[str, str]:
    """The command line's proxies, except for a service on this machine (a test server is never proxied)."""
    host = urllib.parse.urlsplit(base_url).hostname or ""
    try:
        local = host == "localhost" or ip_address(host).is_loopback
    except ValueError:
        local = False
    return {} if local else proxies


def _newer_than_newest(snapshot: date, root: Path | str) -> str | None:
    """Why the snapshot cannot be written, found before any request is made (else the writer says it later)."""
    from metrics.ingest.snapshot_writer import base_snapshot

    newest = base_snapshot(root)
    if newest is not None and snapshot <= newest[0]:
        return f"snapshot {snapshot} is not after the newest snapshot {newest[0]} (choose a later date)"
    return None


def run_fetch(args: argparse.Namespace, root: Path | str, client: Client | None = None) -> int:
    """Fetch, then load as ``ingest`` does. ``client`` (timeout, back-off, sleep, opener) is made from the options
    unless given: tests give one whose sleep only records, so a retried request does not make them wait."""
    from metrics.ingest.fetch import Client, FetchError, FingertipsRequest, default_opener, fetch_all
    from metrics.ingest.model import LoadOptions

    try:
        requests = [FingertipsRequest(indicator_id=i, base_url=args.base_url, parent_area_type=args.parent_area_type)
                    for i in _indicators(args)]
        options = LoadOptions(format="fingertips", snapshot=args.snapshot, allow_partial=args.allow_partial)
    except (ValueError, ValidationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.timeout > 0:
        print(f"error: --timeout must be a positive number of seconds, not {args.timeout:g}", file=sys.stderr)
        return 2
    if problem := _newer_than_newest(args.snapshot, root):
        print(f"error: {problem}; nothing was fetched", file=sys.stderr)
        return 2
    client = client or Client(timeout=args.timeout,
                              opener=default_opener(_proxies(args.base_url, getattr(args, "proxies", {}))))
    print(f"Fetching {len(requests)} Fingertips export(s) for snapshot {args.snapshot} under {root}")
    try:
        sources = fetch_all(requests, client, progress=print)
    except FetchError as error:
        print(f"error: cannot fetch from Fingertips: {error}. Nothing was written; try again later, or download "
              "the export from the Fingertips site and load it with python -m metrics ingest --format fingertips",
              file=sys.stderr)
        return 2
    return load_and_report(options, sources, root)
