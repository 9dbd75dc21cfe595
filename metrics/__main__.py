"""Command line: ``python -m metrics demo`` regenerates the demo snapshots under the data root."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from metrics.settings import DATA_ROOT_ENV, data_root


def _demo(args: argparse.Namespace) -> int:
    from metrics.demo import DEMO_SEED, generate_demo

    root = Path(args.root) if args.root else data_root()
    print(f"Generating demo snapshots under {root} (seed {args.seed or DEMO_SEED})...")
    summary = generate_demo(root, seed=args.seed or DEMO_SEED,
                            progress=lambda f, message: print(f"  {f:4.0%} {message}", flush=True))
    print(f"Done: {summary['rows']:,} rows in snapshots {', '.join(map(str, summary['snapshots']))} "
          f"({summary['seconds']:.1f} s).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics", description="ICP metrics dashboard tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="(re)generate the built-in NWL demo snapshots")
    demo.add_argument("--root", help=f"data root (default: ${DATA_ROOT_ENV} or ./data)")
    demo.add_argument("--seed", type=int, help="random seed (default: the fixed demo seed)")
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
