"""Command line: ``python -m metrics demo`` regenerates the demo snapshots under the data root;
``python -m metrics pack`` builds a borough's Health & Care Executive pack; ``python -m metrics rollups`` adds
the area roll-ups to snapshots written before roll-ups existed; ``python -m metrics copy`` copies snapshots from
another data root (e.g. a local one up to object storage); ``python -m metrics ingest`` loads files, and
``python -m metrics fetch fingertips`` fetches OHID Fingertips exports, as a new snapshot.

The data root is a folder or an object-storage URL (``s3://bucket/prefix``, ``abfs://container/prefix``); the
object store's own SDK reads its endpoint and credentials from the standard environment (``AWS_*``,
``AZURE_STORAGE_*``), as the library passes none."""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from datetime import date
from pathlib import Path

from metrics.settings import DATA_ROOT_ENV, resolve_root


def data_root(args: argparse.Namespace) -> Path | str:
    """The data root every command works on: ``--root``, else ``$ICP_DATA_ROOT``, else ./data (read once, here);
    a path, or an object-storage URL as given."""
    return resolve_root(args.root or os.environ.get(DATA_ROOT_ENV))


def _demo(args: argparse.Namespace) -> int:
    from metrics.demo import DEMO_SEED, generate_demo

    if args.scale != "nwl":
        return _demo_scaled(args)
    root = data_root(args)
    print(f"Generating demo snapshots under {root} (seed {args.seed or DEMO_SEED})...")
    summary = generate_demo(root, seed=args.seed or DEMO_SEED,
                            progress=lambda f, message: print(f"  {f:4.0%} {message}", flush=True))
    print(f"Done: {summary['rows']:,} rows in snapshots {', '.join(map(str, summary['snapshots']))} "
          f"({summary['seconds']:.1f} s).")
    return 0


def _demo_scaled(args: argparse.Namespace) -> int:
    """England-sized data (``--scale england`` or ``quarter``) for the benchmark, never into the app's data/."""
    from metrics.demo_england import ENGLAND_SEED, SCALES, generate_england

    if not (args.root or os.environ.get(DATA_ROOT_ENV)):
        print(f"error: --scale {args.scale} needs --root or ${DATA_ROOT_ENV} (./data holds the NWL demo)",
              file=sys.stderr)
        return 2
    root = data_root(args)
    print(f"Generating {args.scale}-scale snapshots under {root} (seed {args.seed or ENGLAND_SEED})...")
    summary = generate_england(root, SCALES[args.scale], seed=args.seed or ENGLAND_SEED,
                               progress=lambda f, message: print(f"  {f:4.0%} {message}", flush=True))
    print(f"Done: {summary['rows']:,} rows in snapshots {', '.join(summary['snapshots'])}, "
          f"organisations {summary['orgs']} ({summary['seconds']:.1f} s).")
    return 0


def _rollups(args: argparse.Namespace) -> int:
    from metrics.store import build_missing_rollups

    root = data_root(args)
    written = build_missing_rollups(root)
    for folder, rows in written.items():
        print(f"  {folder}: {rows:,} area rows")
    print(f"Done: {len(written)} roll-up(s) written under {root}" + ("" if written else " (all were up to date)"))
    return 0


def _audit(args: argparse.Namespace) -> int:
    from metrics.audit import AuditLog, audit_dir

    print(AuditLog(audit_dir(data_root(args))).summary(args.since, args.until))
    return 0


def _copy(args: argparse.Namespace) -> int:
    from metrics.layout import copy_snapshots

    source, root = resolve_root(args.source), data_root(args)
    copied = copy_snapshots(source, root)
    print(f"Copied {len(copied)} snapshot(s) from {source} to {root}"
          + (f": {', '.join(map(str, copied))}" if copied else " (it had them all)"))
    return 0


def _pack(args: argparse.Namespace) -> int:
    from metrics.exports import ExportError, use_browser
    from metrics.pack import PackError, build_pack, pack_file_name
    from metrics.store import NoDataError, Store

    use_browser(os.environ.get("BROWSER_PATH"))
    out = Path(args.out or pack_file_name(args.borough, args.period))
    try:
        data = build_pack(Store(data_root(args)), args.borough, args.period, args.snapshot)
    except (PackError, ExportError, NoDataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    staged = out.with_name(out.name + ".part")  # never leave half a pack under the real name
    staged.write_bytes(data)
    staged.replace(out)
    print(f"Wrote {out} ({len(data) / 1e6:.1f} MB).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Every sub-command and option (tests/test_docs.py checks the README names them all)."""
    parser = argparse.ArgumentParser(prog="python -m metrics", description="ICP metrics dashboard tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="(re)generate the built-in NWL demo snapshots")
    demo.add_argument("--root", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    demo.add_argument("--seed", type=int, help="random seed (default: the fixed demo seed)")
    demo.add_argument("--scale", choices=("nwl", "quarter", "england"), default="nwl",
                      help="nwl: the NWL demo (default); quarter / england: NWL plus synthetic ICSs, about "
                           "1,700 / 6,300 practices and 60 monthly periods, for the benchmark (needs --root)")
    demo.set_defaults(func=_demo)
    pack = commands.add_parser("pack", help="build the Health & Care Executive PowerPoint pack")
    pack.add_argument("--borough", required=True, help="borough name (any case) or code, e.g. Harrow")
    pack.add_argument("--period", required=True, help="month as YYYY-MM, e.g. 2026-09")
    pack.add_argument("--snapshot", help="snapshot date YYYY-MM-DD (default: the latest)")
    pack.add_argument("--out", help="output .pptx (default: <borough>-<period>.pptx)")
    pack.add_argument("--root", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    pack.set_defaults(func=_pack)
    rollups = commands.add_parser("rollups", help="write the area roll-ups that snapshots lack (older data roots)")
    rollups.add_argument("--root", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    rollups.set_defaults(func=_rollups)
    audit = commands.add_parser("audit", help="summarise the audit log: who viewed, exported, loaded or was refused")
    audit.add_argument("--since", required=True, type=date.fromisoformat, help="first day, YYYY-MM-DD")
    audit.add_argument("--until", type=date.fromisoformat, help="last day, YYYY-MM-DD (default: today)")
    audit.add_argument("--root", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    audit.set_defaults(func=_audit)
    copy = commands.add_parser("copy", help="copy the snapshots another data root has and this one lacks "
                                            "(e.g. a local data root up to s3:// or abfs://)")
    copy.add_argument("--from", dest="source", required=True, help="the data root to copy from (a path or URL)")
    copy.add_argument("--root", help=f"data root to copy into (default: ${DATA_ROOT_ENV} or ./data)")
    copy.set_defaults(func=_copy)
    from metrics.ingest.cli import add_fetch_parser
    from metrics.ingest.cli import add_parser as add_ingest_parser

    add_ingest_parser(commands)
    add_fetch_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("ingest", "fetch"):
        from metrics.ingest.snapshot_writer import set_test_hooks

        set_test_hooks(dict(os.environ))
        if args.command == "fetch":  # proxies as the environment sets them (the library reads no environment)
            args.proxies = urllib.request.getproxies()
        return args.func(args, data_root(args))
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
