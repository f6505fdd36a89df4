"""Re-check a released file against the rules stored in its metadata.

From the file alone: metadata present, content digest unchanged, one status per cell and no
value behind a mask, and (additive indicators) the linear attack on published margins leaves
every primary cell an interval at least ``protection_min`` wide (counts), or not reduced to a
point. With the warehouse, the cells
are recomputed: published values must match and the primary mask must be exactly the one the
rules require, every primary cell must be protected at its true protection level.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from . import attacker, primary, release, secondary
from .catalogue import get
from .compute import Session, compute_cells
from .rules import Rules


def audit(path: Path, session: Session | None = None) -> list[str]:
    """Problems found (French), empty when the file passes."""
    try:
        table, meta = release.read(path)
    except release.ReleaseError as exc:
        return [str(exc)]
    if meta.get("format") != release.FORMAT:
        return ["métadonnées absentes ou d'un autre format"]
    problems: list[str] = []
    if release.canonical_digest(table) != meta.get("empreinte_sha256"):
        problems.append("empreinte SHA-256 différente : le contenu a été modifié après diffusion")
    dims = list(meta["dimensions"])
    rules = Rules.from_dict(meta["regles"])
    flags = table.select(
        *[pl.col(s).str.to_lowercase().is_in(["true", "1"]).alias(s) for s in release.STATUSES],
        pl.col("statut"),
        pl.col("valeur").fill_null(""),
    )
    n_flags = flags.select(pl.sum_horizontal(*release.STATUSES)).to_series()
    if (n_flags != 1).any():
        problems.append(f"{int((n_flags != 1).sum())} case(s) sans statut unique")
    for status in release.STATUSES:
        bad = flags.filter(pl.col(status) != (pl.col("statut") == status)).height
        if bad:
            problems.append(f"{bad} case(s) dont la colonne {status} contredit le statut")
    shown = flags.filter(~pl.col("publie") & (pl.col("valeur") != "")).height
    if shown:
        problems.append(f"{shown} case(s) masquée(s) dont la valeur figure dans le fichier")
    truth = None
    if session is not None:
        indicator = get(meta["indicateur"])
        cells = compute_cells(session, indicator, dims, meta["du"], meta["au"], meta["periode"])
        truth = primary.apply(cells, rules, indicator.amounts)
        problems += _against_truth(table, truth, dims)
    if meta.get("additif"):
        problems += _attack(table, dims, rules, truth, bool(meta.get("comptage", True)))
    return problems


def _against_truth(table: pl.DataFrame, truth: pl.DataFrame, dims: list[str]) -> list[str]:
    keys = ["periode", *dims]
    joined = table.join(
        truth.select(*keys, "valeur", "masque_primaire").rename(
            {"valeur": "valeur_recalculee", "masque_primaire": "requis"}
        ),
        on=keys,
        how="full",
        coalesce=True,
    )
    problems = []
    missing = joined.filter(pl.col("statut").is_null() | pl.col("requis").is_null()).height
    if missing:
        problems.append(f"{missing} case(s) absentes du fichier ou du recalcul")
    joined = joined.filter(pl.col("statut").is_not_null() & pl.col("requis").is_not_null())
    is_primary = pl.col("statut") == "masque_primaire"
    wrong = joined.filter(is_primary != pl.col("requis")).height
    if wrong:
        problems.append(f"{wrong} case(s) dont le secret primaire diffère de celui des règles")
    published = joined.filter(pl.col("statut") == "publie").with_columns(
        pl.col("valeur").cast(pl.Float64)
    )
    off = published.filter(
        (pl.col("valeur") - pl.col("valeur_recalculee").round(4)).abs() > 1e-3
    ).height
    if off:
        problems.append(f"{off} valeur(s) publiée(s) différentes du recalcul")
    return problems


def _attack(
    table: pl.DataFrame,
    dims: list[str],
    rules: Rules,
    truth: pl.DataFrame | None,
    counts: bool,
) -> list[str]:
    if not dims:
        return []
    true_values: dict[tuple[str, ...], float] = {}
    if truth is not None:
        for row in truth.select("periode", *dims, "valeur").iter_rows():
            true_values[tuple(row[:-1])] = float(row[-1] or 0.0)
    exposed = inconsistent = 0
    for (period,), part in table.group_by("periode", maintain_order=True):
        keys = [tuple(r) for r in part.select(dims).iter_rows()]
        values = [float(v) if v not in (None, "") else 0.0 for v in part["valeur"].to_list()]
        model = secondary.build_table(keys, values)
        masked = (part["statut"] != "publie").to_numpy()
        solved = secondary.bounds(model, masked)
        for i in np.flatnonzero((part["statut"] == "masque_primaire").to_numpy()):
            true = true_values.get((str(period), *keys[i]))
            lo, hi = solved.interval(int(i))
            if np.isnan(lo) or np.isnan(hi):
                inconsistent += 1
                continue
            if true is not None:
                ok = hi - lo >= rules.protection(true, counts) - 1e-9
            else:
                ok = hi - lo >= (rules.protection_min if counts else 1e-6) - 1e-9
            if not ok:
                exposed += 1
    problems = []
    if inconsistent:
        problems.append(f"{inconsistent} case(s) dont les marges publiées sont incohérentes")
    if exposed:
        problems.append(
            f"{exposed} case(s) en secret primaire recalculables depuis les marges publiées"
        )
    return problems


def attack(paths: list[Path]) -> list[str]:
    """What an attacker holding every file of ``paths`` recovers (``attacker.attack``: the
    files of one additive indicator and periodicity solved together, one period at a time, with
    the public nesting of territories and activities)."""
    holdings: list[attacker.Holding] = []
    problems: list[str] = []
    for path in paths:
        try:
            found = attacker.file_holding(path)
        except release.ReleaseError as exc:
            problems.append(f"{path.name} : {exc}")
            continue
        if found is not None:
            holdings.append(found)
    return problems + attacker.attack(holdings)
