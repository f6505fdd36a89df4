"""Several indicators with the same dimensions aggregated in one read of ``ind_base``.

Each indicator step is ``SELECT *, <num> AS numerateur, <den> AS denominateur FROM ind_base
[WHERE <cond>]``; read this way, its row filter and measures become columns of one pass (a
measure is NULL where the indicator's filter rejects the row), and every aggregate is taken per
indicator. A cell exists for an indicator when at least one establishment has a row of it there.
Steps of another shape are aggregated alone: ``compute.aggregation_sql`` is the same query for one
indicator over its step.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import polars as pl
import sqlglot
from sqlglot import exp

from .catalogue import ESTABLISHMENT_DIMS, Indicator


@dataclass(frozen=True)
class Parts:
    """An indicator step as three DuckDB expressions."""

    numerateur: str
    denominateur: str
    condition: str


def parts(sql: str) -> Parts | None:
    """The step's measures and filter, or None when it is not the plain shape."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    if not isinstance(tree, exp.Select):
        return None
    extra = ("joins", "group", "having", "order", "limit", "offset", "distinct", "qualify", "with")
    if any(tree.args.get(key) for key in extra):
        return None
    source = tree.args.get("from_") or tree.args.get("from")
    if not (
        source is not None
        and isinstance(source.this, exp.Table)
        and source.this.name == "ind_base"
        and not source.this.args.get("db")
        and not source.this.alias
    ):
        return None
    items = tree.expressions
    if len(items) != 3 or not isinstance(items[0], exp.Star):
        return None
    measures = {}
    for item in items[1:]:
        if not isinstance(item, exp.Alias) or item.alias not in ("numerateur", "denominateur"):
            return None
        measures[item.alias] = item.this.sql(dialect="duckdb")
    if len(measures) != 2:
        return None
    where = tree.args.get("where")
    cond = where.this.sql(dialect="duckdb") if where is not None else "TRUE"
    return Parts(measures["numerateur"], measures["denominateur"], cond)


# The establishment dimensions, one row per establishment (see its SQL step).
ESTABLISHMENT_TABLE = "ind_dims_etablissement"
UNKNOWN = "inconnu"


def establishment_cols(cols: list[str]) -> list[str]:
    """The ``d_`` columns of ``cols`` that are an establishment's, not in ``ind_base``."""
    return [c for c in cols if c[2:] in ESTABLISHMENT_DIMS]


def own_cols(cols: list[str]) -> list[str]:
    """The ``d_`` columns of ``cols`` that ``ind_base`` holds (the person's, the contract's)."""
    return [c for c in cols if c[2:] not in ESTABLISHMENT_DIMS]


def with_establishment(source: str, cols: list[str]) -> str:
    """``source`` (a table name or a parenthesised query with ``etablissement_id``) with the
    establishment dimensions of ``cols`` looked up; itself when there are none. An unknown
    establishment has every dimension ``inconnu``, as a poste-mois with an unknown value."""
    wanted = establishment_cols(cols)
    if not wanted:
        return source
    looked = ", ".join(f"coalesce(e.{c}, '{UNKNOWN}') AS {c}" for c in wanted)
    return f"""(
        SELECT s.*, {looked}
        FROM {source} AS s
        LEFT JOIN {ESTABLISHMENT_TABLE} AS e ON e.etablissement_id = s.etablissement_id
    )"""


# Rough number of values per establishment and month: a margin is summed from the finer margin
# that keeps the dimension with the fewest (an establishment's own dimensions keep one value).
_SPREAD = {"sexe": 1, "tranche_age_large": 2, "nature_contrat": 3, "motif_recours": 4,
           "motif_rupture": 5, "tranche_age": 6}  # fmt: skip


def margins(cols: list[str], measures: list[str]) -> tuple[str, str]:
    """Per-establishment totals of every margin of ``f`` (one CTE each) and their UNION ALL.

    Each margin is summed from the smallest finer margin already computed rather than from
    ``f``: with person dimensions, the finest cells per establishment hold nearly as many rows
    as the base. Returns the CTE definitions (each followed by a comma) and the union branches
    (each starting with ``UNION ALL``); the branches carry every column of ``cols``, NULL where
    the margin sums it.
    """
    sets = [c for r in range(len(cols) - 1, -1, -1) for c in itertools.combinations(cols, r)]
    names = {tuple(cols): "f"}
    ctes = ""
    branches = ""
    sums = ", ".join(f"sum({m}) AS {m}" for m in measures)
    for k, s in enumerate(sets):
        extra = min(
            (c for c in cols if c not in s), key=lambda c: (_SPREAD.get(c[2:], 0), cols.index(c))
        )
        parent = names[tuple(c for c in cols if c in s or c == extra)]
        names[s] = f"g{k}"
        keys = ", ".join(["periode", *s, "etablissement_id"])
        ctes += f"""
g{k} AS (
    SELECT {keys}, {sums} FROM {parent} GROUP BY {keys}
),"""
        shown = ", ".join(c if c in s else f"CAST(NULL AS VARCHAR) AS {c}" for c in cols)
        branches += f"""
    UNION ALL
    SELECT periode, {shown}, etablissement_id, {", ".join(measures)} FROM g{k}"""
    return ctes, branches


def batch_sql(
    items: list[tuple[Parts, str, str]], dims: list[str], total: str, source: str = "ind_base"
) -> str:
    """One query for ``items`` (parts, numerator weight, denominator weight); portable SQL.

    Columns per indicator ``k``: ``num_k``, ``den_k``, ``nb_salaries_k``,
    ``nb_etablissements_k``, ``max_num_k``, ``max_den_k`` and their enterprise counterparts
    ``nb_entreprises_k``, ``max_num_ent_k``, ``max_den_ent_k``, ``second_num_ent_k``. When
    every dimension is an establishment's, an establishment falls in one cell of each margin:
    its per-cell totals are its rows of ``f``, and the margins are taken from ``f`` directly.
    """
    by_establishment = all(d in ESTABLISHMENT_DIMS for d in dims)
    cols = [f"d_{d}" for d in dims]
    # ind_base holds the other dimensions; the establishment's are looked up once the rows are
    # summed per establishment (f) and for the few employees counted with DISTINCT (m).
    own = own_cols(cols)
    select_own = "".join(f"{c}, " for c in own)
    sets = [c for r in range(len(cols), -1, -1) for c in itertools.combinations(cols, r)]
    without = ", ".join("(" + ", ".join(["periode", *s]) + ")" for s in sets)
    select_dims = "".join(f"{c}, " for c in cols)
    named = "".join(f"coalesce({c}, '{total}') AS {c[2:]}, " for c in cols)
    join = " AND ".join(["c.periode = m.periode"] + [f"c.{d} = m.{d}" for d in dims])
    group_c = ", ".join(["periode", *cols])
    group_own = ", ".join(["periode", *own])
    ks = range(len(items))
    # A NULL denominator is 0 in every row of its indicator: its sums are 0 wherever the
    # indicator has a row (n_k not NULL), and are not carried through the aggregation.
    dens = [k for k, (p, _, _) in enumerate(items) if p.denominateur.upper() not in NULLS]

    measures = ", ".join(
        f"CASE WHEN {p.condition} THEN coalesce({p.numerateur}, 0) * {wn} END AS a{k}"
        + (
            f", CASE WHEN {p.condition} THEN coalesce({p.denominateur}, 0) * {wd} END AS b{k}"
            if k in dens
            else ""
        )
        for k, (p, wn, wd) in enumerate(items)
    )
    # A row counts for indicator k when one of its measures is non-zero; elsewhere n_k and d_k
    # are NULL, so that a NULL sum means "no row of k" (no establishment, no cell).
    kept = [f"a{k} <> 0 OR b{k} <> 0" if k in dens else f"a{k} <> 0" for k in ks]
    passed = ", ".join(
        f"CASE WHEN {kept[k]} THEN a{k} END AS n{k}"
        + (f", CASE WHEN {kept[k]} THEN b{k} END AS d{k}" if k in dens else "")
        for k in ks
    )
    any_kept = " OR ".join(f"({c})" for c in kept)
    # Inlined twice rather than a CTE read twice, which DuckDB would materialise.
    rows = f"""(
        SELECT periode, {select_own}etablissement_id, salarie_id, salarie_multiple,
            CASE WHEN salarie_multiple OR salarie_id IS NULL THEN 0 ELSE 1 END AS seul, {passed}
        FROM (
            SELECT periode, {select_own}etablissement_id, salarie_id, salarie_multiple,
                {measures}
            FROM {source}
        ) AS r0
        WHERE {any_kept}
    )"""

    def d_sum(k: int) -> str:
        return f"sum(d{k}) AS d{k}, " if k in dens else ""

    f_aggs = ", ".join(
        f"sum(n{k}) AS n{k}, {d_sum(k)}sum(CASE WHEN n{k} IS NULL THEN 0 ELSE seul END) AS s{k}"
        for k in ks
    )
    zero = "CASE WHEN count(n{k}) > 0 THEN CAST(0 AS DOUBLE) END"
    c_aggs = ", ".join(
        f"sum(n{k}) AS num{k}, "
        + (f"sum(d{k})" if k in dens else zero.format(k=k))
        + f" AS den{k}, count(n{k}) AS nb_etablissements_{k}, max(n{k}) AS max_num_{k}, "
        + (f"max(d{k})" if k in dens else zero.format(k=k))
        + f" AS max_den_{k}, sum(s{k}) AS s{k}"
        for k in ks
    )
    m_aggs = ", ".join(
        f"count(DISTINCT CASE WHEN n{k} IS NOT NULL THEN salarie_id END) AS m{k}" for k in ks
    )
    out = ", ".join(
        f"c.num{k} AS num_{k}, c.den{k} AS den_{k}, "
        f"CAST(c.s{k} + coalesce(m.m{k}, 0) AS BIGINT) AS nb_salaries_{k}, "
        f"c.nb_etablissements_{k}, c.max_num_{k}, c.max_den_{k}"
        for k in ks
    )
    out_dims = "".join(f"c.{d}, " for d in dims)
    f = f"""f0 AS (
    SELECT periode, {select_own}etablissement_id, {f_aggs}
    FROM {rows} AS r1 GROUP BY {group_own}, etablissement_id
),
f AS (
    SELECT * FROM {with_establishment("f0", cols)} AS f1
)"""
    if by_establishment:
        cells = f"""c AS (
    SELECT periode, {named}{c_aggs}
    FROM f GROUP BY GROUPING SETS ({without})
)"""
    else:
        # The finest cells' per-establishment totals are the rows of f: only the margins are
        # summed, each from a finer one (see margins).
        summed = [m for k in ks for m in (f"n{k}", *([f"d{k}"] if k in dens else []), f"s{k}")]
        margin_ctes, e_margins = margins(cols, summed)
        f += f",{margin_ctes.rstrip(',')}"
        cells = f"""e AS (
    SELECT periode, {select_dims}etablissement_id, {", ".join(summed)} FROM f{e_margins}
),
c AS (
    SELECT periode, {named}{c_aggs}
    FROM e GROUP BY {group_c}
)"""
    enterprises = enterprise_ctes(
        "f" if by_establishment else "e",
        dims,
        named,
        without if by_establishment else None,
        dens,
        len(items),
    )
    join_v = " AND ".join(["c.periode = v.periode"] + [f"c.{d} = v.{d}" for d in dims])
    out_v = ", ".join(
        f"v.nb_entreprises_{k}, v.max_num_ent_{k}, v.max_den_ent_{k}, v.second_num_ent_{k}"
        for k in ks
    )
    return f"""
WITH {f},
{cells},
{enterprises},
m AS (
    SELECT periode, {named}{m_aggs}
    FROM {with_establishment(f"(SELECT * FROM {rows} AS r2 WHERE salarie_multiple)", cols)} AS r3
    GROUP BY GROUPING SETS ({without})
)
SELECT c.periode, {out_dims}{out}, {out_v}
FROM c LEFT JOIN m ON {join} LEFT JOIN v ON {join_v}
"""


def enterprise_ctes(
    source: str, dims: list[str], named: str, sets: str | None, dens: list[int], count: int
) -> str:
    """CTEs ``u``, ``t`` and ``v``: per cell, the enterprises (SIREN) with a row of each
    indicator, the largest enterprise contributions to its numerator and denominator, and the
    second largest to its numerator (p % rule). ``source`` holds per-establishment totals; its
    rows are the cells themselves (``sets`` None) or the finest cells, summed up the grouping
    ``sets``."""
    cols = [f"d_{d}" for d in dims]
    ks = range(count)
    sums = ", ".join(
        f"sum(n{k}) AS n{k}" + (f", sum(d{k}) AS d{k}" if k in dens else "") for k in ks
    )
    if sets is None:
        group = "GROUP BY " + ", ".join(["periode", *cols, "entreprise"])
    else:
        with_ent = sets.replace(")", ", entreprise)")
        group = f"GROUP BY GROUPING SETS ({with_ent})"
    keys = ", ".join(["periode", *dims])
    on = " AND ".join(["u.periode = t.periode"] + [f"u.{d} = t.{d}" for d in dims])
    t_aggs = ", ".join(
        f"count(n{k}) AS ne{k}, max(n{k}) AS xn{k}" + (f", max(d{k}) AS xd{k}" if k in dens else "")
        for k in ks
    )
    zero = "CASE WHEN max(t.ne{k}) > 0 THEN CAST(0 AS DOUBLE) END"
    v_aggs = ", ".join(
        f"max(t.ne{k}) AS nb_entreprises_{k}, max(t.xn{k}) AS max_num_ent_{k}, "
        + (f"max(t.xd{k})" if k in dens else zero.format(k=k))
        + f" AS max_den_ent_{k}, "
        # Ties: a largest value held twice is also the second largest.
        f"CASE WHEN sum(CASE WHEN u.n{k} = t.xn{k} THEN 1 ELSE 0 END) > 1 THEN max(t.xn{k}) "
        f"ELSE coalesce(max(CASE WHEN u.n{k} < t.xn{k} THEN u.n{k} END), 0) END "
        f"AS second_num_ent_{k}"
        for k in ks
    )
    u_keys = ", ".join(f"u.{d}" for d in ["periode", *dims])
    return f"""u AS (
    SELECT periode, {named}entreprise, {sums}
    FROM (
        SELECT y.*, x.entreprise FROM {source} AS y
        LEFT JOIN {ESTABLISHMENT_TABLE} AS x ON x.etablissement_id = y.etablissement_id
    ) AS z
    {group}
),
t AS (
    SELECT {keys}, {t_aggs} FROM u GROUP BY {keys}
),
v AS (
    SELECT {u_keys}, {v_aggs}
    FROM u JOIN t ON {on}
    GROUP BY {u_keys}
)"""


NULLS = ("NULL", "CAST(NULL AS DOUBLE)")
CELL_COLUMNS = (
    "num",
    "den",
    "nb_salaries",
    "nb_etablissements",
    "max_num",
    "max_den",
    "nb_entreprises",
    "max_num_ent",
    "max_den_ent",
    "second_num_ent",
)


def split(wide: pl.DataFrame, codes: list[str], dims: list[str]) -> dict[str, pl.DataFrame]:
    """The batch result as one frame per indicator, shaped and ordered as the single query."""
    keys = ["periode", *dims]
    out = {}
    for k, code in enumerate(codes):
        frame = wide.filter(pl.col(f"nb_etablissements_{k}") > 0).select(
            *keys, *(pl.col(f"{c}_{k}").alias(c) for c in CELL_COLUMNS)
        )
        out[code] = frame.sort(keys)
    return out


def plan(indicators: list[Indicator]) -> list[tuple[Indicator, Parts]]:
    """The indicators a batch can take, with their parts."""
    found = []
    for ind in indicators:
        p = parts(ind.sql)
        if p is not None:
            found.append((ind, p))
    return found
