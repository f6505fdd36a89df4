"""Synthetic DSN economy: NEODES files, DSNP3 CSV and the ground truth behind them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runner import SimulationResult, simulate

__all__ = ["SimulationResult", "simulate"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the command line must not load NumPy and Polars to print its help.
    if name in __all__:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(name)
