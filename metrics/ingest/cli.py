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
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from metrics.ingest.formats import FORMAT_NAMES
from metrics.settings import DATA_ROOT_ENV


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
    from metrics.ingest.load import Source, commit, prepare
    from metrics.ingest.model import LoadOptions
    from metrics.ingest.snapshot_writer import SnapshotError

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
    prepared = prepare(options, [Source.from_path(f) for f in args.files], root)
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
