"""Where DataDSN keeps its data: ``$DATADSN_HOME``, else ``./.datadsn`` (read here only)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = ".datadsn"


def default_home() -> Path:
    """The data folder: the warehouse is ``<home>/warehouse``, the portal's database beside it."""
    return Path(os.environ.get("DATADSN_HOME") or DEFAULT_HOME)
