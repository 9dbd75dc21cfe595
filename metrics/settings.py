"""Where data lives. Every command and the app read the data root from here."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"
DATA_ROOT_ENV = "ICP_DATA_ROOT"


def data_root() -> Path:
    """The data root: ``$ICP_DATA_ROOT`` if set, else the project's ``data/`` folder."""
    configured = os.environ.get(DATA_ROOT_ENV)
    return Path(configured).expanduser().resolve() if configured else PROJECT_ROOT / "data"


def store_root() -> str:
    """The data root as the store takes it: a string, part of every cached query's key."""
    return str(data_root())
