"""A small simulated economy, ingested and consolidated: the common ground of later-stage tests."""

from __future__ import annotations

from pathlib import Path

from datadsn.engine.warehouse import Warehouse


def consolidated_economy(
    root: Path, employers: int, months: tuple[str, str], seed: int, noise: str = "none"
) -> Warehouse:
    """Simulate ``employers`` over ``months`` (no noise unless told) under ``root``, ingest,
    consolidate all."""
    from datadsn.ingest.pseudonymize import Secret
    from datadsn.ingest.run import ingest
    from datadsn.quality.consolidate import consolidate, pending_months
    from datadsn.simulate import simulate

    sim = simulate(
        root, employers=employers, months=f"{months[0]}..{months[1]}", seed=seed, noise=noise,
        write_dsnp3=False,
    )  # fmt: skip
    store = Warehouse(root / "wh")
    ingest([sim.out / "dsn"], store, Secret(b"k", demo=True), workers=1)
    for month in pending_months(store, months[1]):
        consolidate(store, month, threads=2)
    return store
