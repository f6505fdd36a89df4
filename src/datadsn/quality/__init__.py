"""Monthly consolidation of the raw declarations into the quality base (mise en qualité)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .consolidate import ConsolidationError, RunSummary, pending_months
    from .snapshot import catalog_hook, current_month

_EXPORTS = {
    "ConsolidationError": "consolidate",
    "RunSummary": "consolidate",
    "pending_months": "consolidate",
    "catalog_hook": "snapshot",
    "current_month": "snapshot",
}
__all__ = [
    "ConsolidationError",
    "RunSummary",
    "catalog_hook",
    "current_month",
    "pending_months",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: the command line must not load the SQL engine to print its help.
    if name not in _EXPORTS:
        raise AttributeError(name)
    for export, module in _EXPORTS.items():
        # Bound explicitly, as imported on first use. The function `consolidate` is not
        # exported here: once the submodule of that name is imported, the package's attribute is
        # the module, whatever this hook would say (`datadsn.quality.consolidate.consolidate`).
        globals()[export] = getattr(importlib.import_module(f".{module}", __name__), export)
    return globals()[name]
