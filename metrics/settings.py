"""Where things live by default. The library reads no environment variables: the app's glue (``metrics.ui``)
and the command line read ``$ICP_DATA_ROOT`` once and hand a ``Store`` down."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"
DEFAULT_DATA_ROOT = PROJECT_ROOT / "data"
DATA_ROOT_ENV = "ICP_DATA_ROOT"


def resolve_root(configured: str | Path | None) -> Path | str:
    """A configured data root (``--root`` or ``$ICP_DATA_ROOT``) as an absolute path, or as given when it is an
    object-storage URL (``s3://bucket/prefix``, ``abfs://container/prefix``); else the project's data/."""
    if isinstance(configured, str) and "://" in configured:
        return configured.rstrip("/")
    return Path(configured).expanduser().resolve() if configured else DEFAULT_DATA_ROOT
