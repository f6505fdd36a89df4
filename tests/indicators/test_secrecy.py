"""Disclosure control: primary cells are exactly those the rules require, a linear attack on the
published margins cannot recover them, and the audit catches tampered files."""

from __future__ import annotations

import itertools
import json

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog

from datadsn.indicators import release
from datadsn.indicators.audit import audit
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import TOTAL, compute_cells
from datadsn.indicators.publish import protected_table, publish
from datadsn.indicators.rules import Rules

from . import direct
from .conftest import MONTHS

START, END = MONTHS
DIMS = ["naf_section", "sexe", "tranche_age_large"]


def _band(age: pl.Expr) -> pl.Expr:
    return (
        pl.when(age < 25)
        .then(pl.lit("moins de 25 ans"))
        .when(age < 50)
        .then(pl.lit("25-49 ans"))
        .otherwise(pl.lit("50 ans ou plus"))
    )


def test_primary_cells_are_exactly_those_the_rules_require(session, economy) -> None:
    rules = Rules()
    cells, _ = protected_table(session, get("EFF_FIN"), DIMS, START, END, "mois", rules)
    rows = (
        direct.contract_months(economy.store, START, END)
        .filter(~pl.col("copie") & (pl.col("present_fin") == 1))
        .with_columns(_band(pl.col("age")).alias("tranche_age_large"), pl.col("sexe"))
    )
    expected = []
    for r in range(len(DIMS) + 1):
        for subset in itertools.combinations(DIMS, r):
            per_etab = rows.group_by("periode", *subset, "etablissement_id").agg(
                pl.len().alias("n"), pl.col("salarie_id")
            )
            g = per_etab.group_by("periode", *subset).agg(
                pl.col("n").sum().alias("total"),
                pl.col("n").max().alias("top"),
                pl.len().alias("etabs"),
                pl.col("salarie_id")
                .list.explode(keep_nulls=False, empty_as_null=False)
                .n_unique()
                .alias("sal"),
            )
            expected.append(
                g.with_columns(*[pl.lit(TOTAL).alias(d) for d in DIMS if d not in subset]).select(
                    "periode", *DIMS, "total", "top", "etabs", "sal"
                )
            )
    want = pl.concat(expected).with_columns(
        (
            (pl.col("sal") < 5) | (pl.col("etabs") < 3) | (pl.col("top") > 0.85 * pl.col("total"))
        ).alias("requis")
    )
    joined = cells.join(want, on=["periode", *DIMS], how="full", coalesce=True)
    assert joined.height == cells.height == want.height
    assert (joined["masque_primaire"] == joined["requis"]).all()
    assert joined["requis"].sum() > 0 and (~joined["requis"]).sum() > 0


def _attack(published: pl.DataFrame, dims: list[str]) -> dict[tuple, tuple[float, float]]:
    """What an attacker gets: [min, max] of each masked cell from the published cells alone."""
    out = {}
    for (period,), part in published.group_by("periode"):
        keys = [tuple(r) for r in part.select(dims).iter_rows()]
        status = dict(zip(keys, part["statut"].to_list(), strict=True))
        value = {k: float(v) if v not in (None, "") else None
                 for k, v in zip(keys, part["valeur"].to_list(), strict=True)}  # fmt: skip
        unknown = [k for k in keys if status[k] != "publie"]
        col = {k: j for j, k in enumerate(unknown)}
        rows, rhs = [], []
        for total in keys:
            for d, part_value in enumerate(total):
                if part_value != TOTAL:
                    continue
                kids = [k for k in keys if all(
                    (k[i] != TOTAL) if i == d else (k[i] == total[i]) for i in range(len(dims))
                )]  # fmt: skip
                row, b = np.zeros(len(unknown)), 0.0
                for k, coef in [(total, -1.0)] + [(k, 1.0) for k in kids]:
                    if k in col:
                        row[col[k]] += coef
                    else:
                        b -= coef * value[k]  # type: ignore[operator]
                if row.any():
                    rows.append(row)
                    rhs.append(b)
        for k in unknown:
            c = np.zeros(len(unknown))
            c[col[k]] = 1
            if not rows:
                out[(period, *k)] = (0.0, float("inf"))
                continue
            lo = linprog(c, A_eq=np.array(rows), b_eq=rhs, bounds=(0, None), method="highs")
            hi = linprog(-c, A_eq=np.array(rows), b_eq=rhs, bounds=(0, None), method="highs")
            out[(period, *k)] = (lo.fun, float("inf") if hi.status == 3 else -hi.fun)
    return out


def test_masked_cells_cannot_be_recovered_from_margins(session, tmp_path) -> None:
    rules = Rules()
    path = tmp_path / "eff.csv"
    publish(session, get("EFF_FIN"), DIMS, START, END, "mois", rules, path, chart=False)
    published = pl.read_csv(path, infer_schema=False)
    cells = compute_cells(session, get("EFF_FIN"), DIMS, START, END, "mois")
    truth = {(r[0], *r[1:4]): r[4] for r in cells.select("periode", *DIMS, "valeur").iter_rows()}
    intervals = _attack(published, DIMS)
    primaries = published.filter(pl.col("statut") == "masque_primaire")
    assert primaries.height > 0
    assert published.filter(pl.col("statut") == "masque_secondaire").height > 0
    for row in primaries.select("periode", *DIMS).iter_rows():
        lo, hi = intervals[row]
        assert lo - 1e-6 <= truth[row] <= hi + 1e-6
        assert hi - lo >= rules.protection(truth[row], counts=True) - 1e-6, (row, lo, hi)

    # Without the complementary cells the same attack pins some primary cell exactly.
    naive = published.with_columns(
        pl.when(pl.col("statut") == "masque_secondaire")
        .then(pl.lit("publie"))
        .otherwise(pl.col("statut"))
        .alias("statut")
    )
    naive = naive.with_columns(
        pl.Series("valeur", [
            str(truth[r[:4]]) if r[4] == "masque_secondaire" else r[5]
            for r in published.select("periode", *DIMS, "statut", "valeur").iter_rows()
        ])
    )  # fmt: skip
    naive_intervals = _attack(naive, DIMS)
    assert any(hi - lo < 1e-6 for lo, hi in naive_intervals.values())


def test_custom_rules_change_the_mask(session) -> None:
    lax = Rules(min_salaries=1, min_etablissements=1, min_entreprises=1, dominance_pct=100)
    cells, _ = protected_table(session, get("EFF_FIN"), DIMS, START, END, "mois", lax)
    assert not cells["masque_primaire"].any() and not cells["masque_secondaire"].any()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_audit_accepts_a_clean_release(session, tmp_path, suffix) -> None:
    path = tmp_path / f"masse{suffix}"
    publish(session, get("MASSE_SALARIALE"), ["naf_section", "sexe"], START, END, "trimestre",
            Rules(), path)  # fmt: skip
    assert path.with_suffix(".svg").read_text(encoding="utf-8").startswith("<svg")
    assert audit(path) == []
    assert audit(path, session) == []


def test_audit_catches_tampered_files(session, tmp_path) -> None:
    path = tmp_path / "eff.csv"
    publish(session, get("EFF_FIN"), DIMS, START, END, "mois", Rules(), path, chart=False)
    original = pl.read_csv(path, infer_schema=False)
    cells = compute_cells(session, get("EFF_FIN"), DIMS, START, END, "mois")

    # 1. a published value edited
    edited = original.with_columns(
        pl.when(pl.int_range(pl.len()) == original["publie"].arg_max())
        .then(pl.lit("999.0")).otherwise(pl.col("valeur")).alias("valeur")
    )  # fmt: skip
    edited.write_csv(path)
    assert any("SHA-256" in p for p in audit(path))

    # 2. a primary cell unmasked with its true value, digest recomputed to hide it
    i = original["masque_primaire"].arg_max()
    row = original.row(i, named=True)
    true = cells.filter(
        (pl.col("periode") == row["periode"]) & pl.all_horizontal(pl.col(d) == row[d] for d in DIMS)
    )["valeur"][0]
    forged = original.with_columns(
        pl.when(pl.int_range(pl.len()) == i).then(pl.lit(str(true))).otherwise(pl.col("valeur"))
        .alias("valeur"),
        pl.when(pl.int_range(pl.len()) == i).then(pl.lit("publie")).otherwise(pl.col("statut"))
        .alias("statut"),
        pl.when(pl.int_range(pl.len()) == i).then(pl.lit("true")).otherwise(pl.col("publie"))
        .alias("publie"),
        pl.when(pl.int_range(pl.len()) == i).then(pl.lit("false"))
        .otherwise(pl.col("masque_primaire")).alias("masque_primaire"),
    )  # fmt: skip
    forged.write_csv(path)
    meta_path = release.sidecar(path)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["empreinte_sha256"] = release.canonical_digest(pl.read_csv(path, infer_schema=False))
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    # The file alone may look consistent (or expose neighbours through the margins); the
    # recomputation from the warehouse always sees the unmasked cell.
    problems = audit(path, session)
    assert any("secret primaire" in p for p in problems)

    # 3. a masked cell showing its value
    leaked = original.with_columns(
        pl.when(pl.int_range(pl.len()) == i).then(pl.lit(str(true))).otherwise(pl.col("valeur"))
        .alias("valeur")
    )  # fmt: skip
    leaked.write_csv(path)
    assert any("masquée" in p for p in audit(path))


@pytest.mark.parametrize("seed", range(12))
def test_random_tables_resist_the_attack(seed: int) -> None:
    """Random 2-D and 3-D count tables with margins: every primary cell keeps its interval."""
    from datadsn.indicators import secondary

    rng = np.random.default_rng(seed)
    shape = [(4, 5), (3, 3, 4), (6, 2)][seed % 3]
    inner = rng.integers(0, 40, size=shape) * (rng.random(shape) > 0.2)
    dims = [f"d{i}" for i in range(len(shape))]
    keys, values = [], []
    for idx in itertools.product(*[[*range(n), None] for n in shape]):
        sl = tuple(slice(None) if i is None else i for i in idx)
        keys.append(tuple(TOTAL if i is None else f"v{i}" for i in idx))
        values.append(float(inner[sl].sum()))
    primary = np.array([0 < v < 8 for v in values])
    rules = Rules()
    masked = secondary.protect(secondary.build_table(keys, values), primary, rules)
    frame = pl.DataFrame(
        {
            "periode": ["p"] * len(keys),
            **{d: [k[i] for k in keys] for i, d in enumerate(dims)},
            "valeur": [None if m else str(v) for m, v in zip(masked, values, strict=True)],
            "statut": [
                "masque_primaire" if p else ("masque_secondaire" if m else "publie")
                for p, m in zip(primary, masked, strict=True)
            ],
        }
    )
    intervals = _attack(frame, dims)
    for key, value, is_primary in zip(keys, values, primary, strict=True):
        if is_primary:
            lo, hi = intervals[("p", *key)]
            assert lo - 1e-6 <= value <= hi + 1e-6
            assert hi - lo >= rules.protection(value) - 1e-6
