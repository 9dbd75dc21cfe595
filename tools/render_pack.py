"""Render a pack's slides to PNG for looking at them (LibreOffice -> PDF -> pdftoppm); not used by tests.

Usage: python tools/render_pack.py harrow-2026-09.pptx out_dir [first_slide last_slide]
Needs Debian's libreoffice-impress and poppler-utils.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(pptx: Path, out: Path, first: int | None = None, last: int | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), str(pptx)],
                   check=True, capture_output=True, timeout=300)
    pdf = out / f"{pptx.stem}.pdf"
    pages = (["-f", str(first)] if first else []) + (["-l", str(last)] if last else [])
    subprocess.run(["pdftoppm", "-png", "-r", "100", *pages, str(pdf), str(out / "slide")], check=True, timeout=300)
    for png in sorted(out.glob("slide-*.png")):
        print(png)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]), Path(args[1]), *(int(a) for a in args[2:4]))
