"""Real data in: the published NHS / OHID formats and local extracts, validated, then written as a new snapshot.

    python -m metrics ingest --format fingertips --snapshot 2026-11-01 indicator-data.csv
    python -m metrics fetch fingertips --all --snapshot 2026-11-01      # the same, fetched from the Fingertips API

Formats are listed once, in ``formats`` (name, page label, parsing module), and parsed by one module each.
``fetch`` gets published exports from the publisher's service (Fingertips) as input files with their provenance.
``load.prepare`` reads and validates (``validate``) without writing; ``load.commit`` writes the snapshot atomically (``snapshot_writer``). ``neutralise_formula`` guards text bound for exported CSVs.
"""

from metrics.ingest.safety import neutralise_formula

__all__ = ["neutralise_formula"]
