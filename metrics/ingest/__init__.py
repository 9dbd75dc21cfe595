"""Real data in: the published NHS / OHID formats and local extracts, validated, then written as a new snapshot.

    python -m metrics ingest --format fingertips --snapshot 2026-11-01 indicator-data.csv

Formats are listed once, in ``formats`` (name, page label, parsing module), and parsed by one module each.
``load.prepare`` reads and validates (``validate``) without writing; ``load.commit`` writes the snapshot atomically (``snapshot_writer``). ``neutralise_formula`` guards text bound for exported CSVs.
"""

from metrics.ingest.safety import neutralise_formula

__all__ = ["neutralise_formula"]
