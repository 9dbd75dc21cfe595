"""One load, as the command line and the Load data page both run it: read -> parse -> validate every file, and
only if that passes (or ``allow_partial`` and some rows pass) write a new snapshot.

``prepare`` does everything except writing and returns the report; ``commit`` writes. The page shows the report
between the two; the command line calls both.

Strict by default: a file with any problem is rejected whole, and if any file is rejected nothing is written.
With ``allow_partial`` the valid rows load and the rejected ones go, with their reasons, to a side file
``<root>/rejected/<snapshot>/<file>.rejected.csv``. Mapping files are always all-or-nothing (a partial mapping
would close every practice it left out).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from metrics import layout
from metrics.catalogue import Catalogue, catalogue
from metrics.hierarchy import apply_mapping, with_imd, with_list_sizes
from metrics.ingest.common import Context
from metrics.ingest.formats import FORMATS
from metrics.ingest.model import LoadOptions, Parsed, Problem, summarise
from metrics.ingest.readers import UnreadableFile, read_table
from metrics.ingest.safety import neutralise_formula
from metrics.ingest.snapshot_writer import SnapshotError, WriteResult, base_orgs, write_snapshot
from metrics.ingest.validate import VALIDATORS, cross_file_duplicates


@dataclass
class Source:
    """An input file: its name (as the user knows it) and its bytes; ``provenance`` says where bytes fetched from a
    service came from (URL, time, SHA-256), and goes into the manifest's entry for the file."""

    name: str
    data: bytes
    provenance: dict[str, object] | None = None

    @classmethod
    def from_path(cls, path: Path | str) -> "Source":
        return cls(Path(path).name, Path(path).read_bytes())


@dataclass
class FileOutcome:
    parsed: Parsed
    rejected_rows: set[int] = field(default_factory=set)
    status: str = "accepted"  # accepted | partly accepted | rejected | nothing to load

    @property
    def loaded(self) -> int:
        rows = self.parsed.rows
        return 0 if self.status == "rejected" else int((~rows["source_row"].isin(self.rejected_rows)).sum())

    def report_lines(self) -> list[str]:
        p = self.parsed
        lines = [f"{p.file}: {self.status.upper()} - {self.loaded:,} rows to load"
                 + (f", {len(self.rejected_rows):,} rows rejected" if self.rejected_rows else "")]
        lines += [f"  skipped {n:,} rows: {reason}" for reason, n in p.skipped.items() if n]
        lines += [f"  note: {note}" for note in p.notes]
        if p.problems:
            lines.append(f"  {len(p.problems)} problem(s):")
            lines += [f"    {line}" for line in summarise(p.problems)]
        return lines


@dataclass
class Prepared:
    options: LoadOptions
    outcomes: list[FileOutcome]
    orgs: pd.DataFrame
    hashes: dict[str, str]
    provenance: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def rejected(self) -> bool:
        return any(o.status in ("rejected", "partly accepted") for o in self.outcomes)

    @property
    def writable(self) -> bool:
        """Strict: every file accepted. Partial: whatever passed, as long as something did."""
        if not self.options.allow_partial and self.rejected:
            return False
        return any(o.loaded for o in self.outcomes) or self.orgs_changed

    @property
    def orgs_changed(self) -> bool:
        return any(o.parsed.kind in ("mapping", "list_sizes", "practice_attributes") and o.loaded
                   for o in self.outcomes)

    def report(self) -> str:
        lines = [line for o in self.outcomes for line in o.report_lines()]
        if not self.writable:
            partial = any(o.parsed.kind != "mapping" for o in self.outcomes) and not self.options.allow_partial
            hint = " (or use --allow-partial to load the valid rows)" if partial else ""
            lines.append("Nothing was written: " + (f"fix the problems above and load again{hint}" if self.rejected
                                                    else "no rows to load in these files"))
        return "\n".join(lines)


def _parse_one(source: Source, ctx: Context) -> Parsed:
    try:
        frame, notes = read_table(source.name, source.data)
    except UnreadableFile as exc:
        parsed = Parsed(source.name, "metric_values", pd.DataFrame(columns=["source_row"]), pd.DataFrame())
        parsed.problem([], [], str(exc))
        return parsed
    parsed = FORMATS[ctx.options.format].parse(source.name, frame, ctx)
    parsed.notes[:0] = notes
    return parsed


def prepare(options: LoadOptions, sources: list[Source], root: layout.Root, cat: Catalogue | None = None) -> Prepared:
    """Read, parse and validate every file against the hierarchy the new snapshot will hold. Writes nothing."""
    orgs = base_orgs(root)
    ctx = Context(cat or catalogue(), orgs, options)
    parsed_files = [_parse_one(s, ctx) for s in sources]
    for parsed in sorted(parsed_files, key=lambda p: (p.as_of is None, p.as_of or 0)):
        if parsed.file_level_problems:
            continue
        VALIDATORS[parsed.kind](parsed, ctx)
        if parsed.kind == "mapping" and not parsed.problems:
            orgs, changes = apply_mapping(orgs, parsed.rows, parsed.as_of)
            parsed.notes.append(f"from {changes.as_of}: {len(changes.moved)} practices change PCN, "
                                f"{len(changes.opened)} open, {len(changes.closed)} close"
                                + (f" ({', '.join(changes.closed)})" if changes.closed else ""))
            if changes.without_borough:
                parsed.notes.append(f"no borough known for {', '.join(changes.without_borough)} (unallocated "
                                    "practices new to NWL count only in NWL totals)")
            ctx = Context(ctx.catalogue, orgs, options)
    cross_file_duplicates(parsed_files)
    outcomes = [_outcome(p, options) for p in parsed_files]
    orgs = _apply_practice_attributes(_apply_list_sizes(orgs, outcomes), outcomes)
    hashes = {s.name: hashlib.sha256(s.data).hexdigest() for s in sources}
    return Prepared(options, outcomes, orgs, hashes, {s.name: s.provenance for s in sources if s.provenance})


def _outcome(parsed: Parsed, options: LoadOptions) -> FileOutcome:
    bad = parsed.bad_rows
    if parsed.file_level_problems or (parsed.problems and (not options.allow_partial or parsed.kind == "mapping")):
        return FileOutcome(parsed, set(parsed.rows["source_row"]) if "source_row" in parsed.rows else set(), "rejected")
    if parsed.rows.empty:
        return FileOutcome(parsed, set(), "nothing to load")
    return FileOutcome(parsed, bad, "partly accepted" if bad else "accepted")


def _good_rows(outcome: FileOutcome) -> pd.DataFrame:
    rows = outcome.parsed.rows
    return rows[~rows["source_row"].isin(outcome.rejected_rows)]


def _apply_list_sizes(orgs: pd.DataFrame, outcomes: list[FileOutcome]) -> pd.DataFrame:
    """Each practice's newest all-ages, all-persons count becomes its list size."""
    frames = [_good_rows(o) for o in outcomes if o.parsed.kind == "list_sizes" and o.loaded]
    if not frames:
        return orgs
    rows = pd.concat(frames)
    totals = rows[(rows["sex"] == "ALL") & (rows["age_band"] == "ALL") & rows["patients"].notna()]
    newest = totals.sort_values("extract_date").drop_duplicates("org_code", keep="last")
    return with_list_sizes(orgs, dict(zip(newest["org_code"], newest["patients"]))) if len(newest) else orgs


def _apply_practice_attributes(orgs: pd.DataFrame, outcomes: list[FileOutcome]) -> pd.DataFrame:
    """Each practice's newest IMD score (and national decile, when the export gave one) goes into orgs, as the
    newest list size does: the deprivation breakdowns and similar-practice search read them from there."""
    frames = [_good_rows(o) for o in outcomes if o.parsed.kind == "practice_attributes" and o.loaded]
    if not frames:
        return orgs
    rows = pd.concat(frames).sort_values("period_start").drop_duplicates(["org_code", "attribute"], keep="last")
    imd = rows[rows["attribute"] == "imd_score"]
    deciles = {code: int(d) for code, d in zip(imd["org_code"], imd["national_decile"]) if pd.notna(d)}
    return with_imd(orgs, dict(zip(imd["org_code"], imd["value"].astype(float))), deciles)


def _file_entry(outcome: FileOutcome, prepared: Prepared) -> dict[str, object]:
    """The manifest's record of one file; a fetched file also says where its bytes came from (``source``)."""
    name = outcome.parsed.file
    entry = {"name": name, "sha256": prepared.hashes.get(name), "status": outcome.status,
             "rows_loaded": outcome.loaded, "rows_rejected": len(outcome.rejected_rows),
             "skipped": dict(outcome.parsed.skipped)}
    if name in prepared.provenance:
        entry["source"] = prepared.provenance[name]
    return entry


def commit(prepared: Prepared, root: layout.Root) -> tuple[WriteResult, list[Path | str]]:
    """Write the snapshot (and, for a partial load, the rejected rows' side files)."""
    if not prepared.writable:
        raise SnapshotError(prepared.report())
    kinds = {"metric_values": [], "list_sizes": []}
    for outcome in prepared.outcomes:
        if outcome.parsed.kind in kinds and outcome.loaded:
            kinds[outcome.parsed.kind].append(_good_rows(outcome))
    metric_rows = pd.concat(kinds["metric_values"]) if kinds["metric_values"] else None
    list_rows = pd.concat(kinds["list_sizes"]) if kinds["list_sizes"] else None
    manifest = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "format": prepared.options.format,
        "files": [_file_entry(o, prepared) for o in prepared.outcomes],
    }
    result = write_snapshot(root, prepared.options.snapshot, metric_rows, prepared.orgs, list_rows, manifest)
    side_files = [write_rejected(o, root, prepared.options.snapshot) for o in prepared.outcomes if o.rejected_rows]
    return result, side_files


def write_rejected(outcome: FileOutcome, root: layout.Root, snapshot) -> Path | str:
    """The rejected rows as the file had them, with row numbers and reasons, safe to open in a spreadsheet."""
    parsed = outcome.parsed
    reasons: dict[int, list[str]] = {}
    for problem in parsed.problems:
        for row in problem.rows or sorted(outcome.rejected_rows):
            reasons.setdefault(row, []).append(f"{', '.join(problem.columns)}: {problem.message}")
    raw = parsed.raw.reset_index(drop=True)
    raw.insert(0, "row", range(parsed.first_row, parsed.first_row + len(raw)))
    raw = raw[raw["row"].isin(outcome.rejected_rows)]
    raw.insert(1, "problems", raw["row"].map(lambda r: " | ".join(reasons.get(r, []))))
    files = layout.storage(root)
    path = files.path("rejected", str(snapshot), f"{Path(parsed.file).stem}.rejected.csv")
    buffer = io.StringIO()
    safe = raw.astype(str).map(neutralise_formula)
    safe.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    files.write_bytes(path, buffer.getvalue().encode("utf-8"))
    return Path(path) if files.local else path


def problems_of(prepared: Prepared) -> list[Problem]:
    return [p for o in prepared.outcomes for p in o.parsed.problems]
