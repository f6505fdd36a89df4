"""Re-check a released file against the rules stored in its metadata.

From the file alone: metadata present, content digest unchanged, one status per cell and no
value behind a mask, and (additive indicators) the linear attack on published margins leaves
every primary cell an interval at least ``protection_min`` wide (counts), or not reduced to a
point. With the warehouse, the cells
are recomputed: published values must match and the primary mask must be exactly the one the
rules require, every primary cell must be protected at its true protection level.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from . import primary, release, secondary
from .catalogue import get
from .compute import TOTAL, Session, compute_cells
from .hierarchies import HIERARCHIES, ancestors
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
        for i in np.flatnonzero((part["statut"] == "masque_primaire").to_numpy()):
            true = true_values.get((str(period), *keys[i]))
            lo, hi = secondary.interval(model, masked, int(i))
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
    """What an attacker holding every file of ``paths`` recovers: the files of one additive
    indicator, periodicity and set of rules are solved together, one period at a time, as one
    system (each table's margins, and the public nesting of territories and activities:
    a département's cells sum into its région's). Names every primary cell whose feasible
    interval is narrower than its protection level, computed on the interval's upper bound
    (the attacker does not know the true value)."""
    groups: dict[tuple[str, str, str], list[tuple[pl.DataFrame, dict]]] = {}
    problems: list[str] = []
    for path in paths:
        try:
            table, meta = release.read(path)
        except release.ReleaseError as exc:
            problems.append(f"{path.name} : {exc}")
            continue
        if meta.get("additif"):
            key = (meta["indicateur"], meta["periode"], json.dumps(meta["regles"], sort_keys=True))
            groups.setdefault(key, []).append((table, meta))
    for (code, _, rules_text), files in sorted(groups.items(), key=lambda g: g[0]):
        rules = Rules.from_dict(json.loads(rules_text))
        counts = bool(files[0][1].get("comptage", True))
        for period, pinned in _joint_attack(files, rules, counts).items():
            for cell, lo, hi in pinned:
                where = ", ".join(f"{d}={v}" for d, v in cell if v != TOTAL) or "ensemble"
                problems.append(
                    f"{code} {period} ({where}) : case masquée encadrée dans [{lo:g} ; {hi:g}] "
                    f"par l'ensemble des fichiers"
                )
    return problems


def _joint_attack(
    files: list[tuple[pl.DataFrame, dict]], rules: Rules, counts: bool
) -> dict[str, list[tuple[tuple[tuple[str, str], ...], float, float]]]:
    """Per period: the primary cells pinned narrower than their protection, over all files."""
    dims = _union_dims([list(meta["dimensions"]) for _, meta in files])
    cells: dict[tuple[str, tuple[str, ...]], dict] = {}
    for table, meta in files:
        own = list(meta["dimensions"])
        for row in table.select("periode", *own, "valeur", "statut").iter_rows(named=True):
            full = {d: TOTAL for d in dims}
            for d in own:
                if row[d] != TOTAL:
                    full[d] = row[d]
                    full.update({a: v for a, v in ancestors(d, row[d]).items() if a in full})
            where = (str(row["periode"]), tuple(full[d] for d in dims))
            cell = cells.setdefault(where, {"valeur": None, "primaire": False})
            if row["statut"] == "publie":
                cell["valeur"] = float(row["valeur"] or 0.0)
            cell["primaire"] |= row["statut"] == "masque_primaire"
    out: dict[str, list] = {}
    for period in sorted({p for p, _ in cells}):
        keys = [k for p, k in cells if p == period]
        known = [cells[(period, k)]["valeur"] for k in keys]
        model = secondary.build_table(keys, [v or 0.0 for v in known])
        masked = np.array([v is None for v in known])
        for i, values in enumerate(keys):
            if not (masked[i] and cells[(period, values)]["primaire"]):
                continue
            lo, hi = secondary.interval(model, masked, i)
            if np.isnan(lo) or np.isnan(hi) or hi - lo >= rules.protection(hi, counts) - 1e-9:
                continue
            out.setdefault(period, []).append((tuple(zip(dims, values, strict=True)), lo, hi))
    return out


def _union_dims(all_dims: list[list[str]]) -> list[str]:
    """Every file's dimensions, the levels of a hierarchy from the coarsest: a finer cell's key
    then holds its ancestors at the levels published, which links it to them (a level no file
    publishes is left out, so that nothing breaks the chain)."""
    seen = list(dict.fromkeys(d for dims in all_dims for d in dims))
    nested = [d for levels in HIERARCHIES.values() for d in levels if d in seen]
    return nested + [d for d in seen if d not in nested]
