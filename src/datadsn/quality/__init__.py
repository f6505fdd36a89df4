"""Monthly consolidation of the raw declarations into the quality base (mise en qualité)."""

from .consolidate import ConsolidationError, RunSummary, consolidate, pending_months
from .snapshot import catalog_hook, current_month

__all__ = [
    "ConsolidationError",
    "RunSummary",
    "catalog_hook",
    "consolidate",
    "current_month",
    "pending_months",
]
