"""Synthetic DSN economy: NEODES files, DSNP3 CSV and the ground truth behind them."""

from __future__ import annotations

from .runner import SimulationResult, simulate

__all__ = ["SimulationResult", "simulate"]
