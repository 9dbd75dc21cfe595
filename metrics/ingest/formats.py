"""The ingest formats: the one home of their names (what ``--format`` and the Load data page take), the labels the
page shows, and the module that parses each.

Each format is parsed by one module of this package with a ``parse(name, frame, ctx) -> Parsed`` function. The
module is imported when a file is parsed, not here, so the command line and ``LoadOptions`` can list the formats
without loading every parser. ``tests/test_docs.py`` checks that the README's format table lists exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from metrics.ingest.common import Context
    from metrics.ingest.model import Parsed


@dataclass(frozen=True)
class Format:
    name: str  # --format on the command line, LoadOptions.format, the manifest's "format"
    label: str  # the Load data page's choice
    module: str  # metrics.ingest.<module> parses it

    def parse(self, file: str, frame: "pd.DataFrame", ctx: "Context") -> "Parsed":
        return import_module(f"metrics.ingest.{self.module}").parse(file, frame, ctx)


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("fingertips", "OHID Fingertips export (27 columns, any mapped indicator)", "fingertips"),
    Format("gp-list-size", "Patients Registered at a GP Practice (all ages or 5-year bands)", "gp_list_size"),
    Format("practice-mapping", "Practice -> PCN mapping (NHS Digital or QOF)", "practice_mapping"),
    Format("talking-therapies", "NHS Talking Therapies monthly measures", "talking_therapies"),
    Format("tidy", "Tidy template (CSV, Excel or parquet)", "tidy"),
)}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)
