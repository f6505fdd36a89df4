"""Render one month of declarations as NEODES text, block instances built column-wise.

Each block instance becomes one multi-line string (absent rubriques are null and skipped),
tagged with sort keys (file, declaration, individual, k1, k2, k3) that reproduce the message
tree order; one sort and one string join per file then give the file bodies.
"""

from __future__ import annotations

import polars as pl

IND_HEADER = -1  # sort position of a declaration's S20/S21.G00.06/S21.G00.11 lines
IND_TRAILER = 2**62  # sort position of the S21.G00.85 blocks after all individuals


def line(rub: str, value: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(f"{rub},'"), value, pl.lit("'")])


def block(prefix: str, items: list[tuple[str, pl.Expr]]) -> tuple[pl.Expr, pl.Expr]:
    """Text and line count of one block instance per row; null values omit the rubrique."""
    lines = [line(f"{prefix}.{num}", expr) for num, expr in items]
    text = pl.concat_str(lines, separator="\n", ignore_nulls=True)
    count = pl.sum_horizontal([ln.is_not_null().cast(pl.Int64) for ln in lines])
    return text, count


def date(col: str | pl.Expr) -> pl.Expr:
    expr = pl.col(col) if isinstance(col, str) else col
    return expr.cast(pl.Date).dt.strftime("%d%m%Y")


def cents(col: str | pl.Expr) -> pl.Expr:
    """Integer hundredths -> 'x.yy' with a leading '-' for negatives."""
    expr = pl.col(col) if isinstance(col, str) else col
    mag = expr.abs()
    return pl.concat_str(
        [
            pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            (mag // 100).cast(pl.String),
            pl.lit("."),
            (mag % 100).cast(pl.String).str.zfill(2),
        ]
    )


def when(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(value)


def _parts(
    df: pl.DataFrame, text: pl.Expr, count: pl.Expr, ind: pl.Expr, k1: int, k2: pl.Expr, k3: pl.Expr
) -> pl.LazyFrame:
    return df.lazy().select(
        pl.col("file"),
        pl.col("decl"),
        ind.cast(pl.Int64).alias("ind"),
        pl.lit(k1, dtype=pl.Int64).alias("k1"),
        k2.cast(pl.Int64).alias("k2"),
        k3.cast(pl.Int64).alias("k3"),
        text.alias("text"),
        count.cast(pl.Int64).alias("n"),
    )


def individual_parts(rows: pl.DataFrame) -> list[pl.LazyFrame]:
    """All S21.G00.30 subtrees. `rows` has one row per declared contract (see runner)."""
    rows = rows.sort(["file", "decl", "person", "start_decl", "c"]).with_columns(
        pl.int_range(pl.len()).over(["file", "decl", "person"]).alias("j")
    )
    ind = pl.col("person")
    first = rows.filter(pl.col("j") == 0)
    out = []

    t, n = block(
        "S21.G00.30",
        [
            ("001", pl.col("nir")),
            ("002", pl.col("nom")),
            ("004", pl.col("prenoms")),
            ("005", pl.col("sexe")),
            ("006", pl.col("ddn")),
            ("007", pl.col("lieu_naissance")),
            ("008", pl.col("adresse")),
            ("009", pl.col("cp")),
            ("010", pl.col("localite")),
            ("014", pl.col("dep_naissance")),
            ("019", pl.col("matricule")),
        ],
    )
    out.append(_parts(first, t, n, ind, 0, pl.lit(0), pl.lit(0)))

    chg = first.filter(pl.col("chg31_date").is_not_null())
    if chg.height:
        t, n = block(
            "S21.G00.31",
            [
                ("001", date("chg31_date")),
                ("008", pl.col("chg31_nir")),
                ("009", pl.col("chg31_nom")),
                ("011", pl.col("chg31_ddn")),
            ],
        )
        out.append(_parts(chg, t, n, ind, 1, pl.lit(0), pl.lit(0)))
        frag = chg.filter(pl.col("frag31_ddn").is_not_null())
        if frag.height:
            t, n = block("S21.G00.31", [("001", date("chg31_date")), ("011", pl.col("frag31_ddn"))])
            out.append(_parts(frag, t, n, ind, 1, pl.lit(1), pl.lit(0)))

    j = pl.col("j")
    t, n = block(
        "S21.G00.40",
        [
            ("001", date("start_decl")),
            ("002", pl.col("statut")),
            ("003", pl.col("statut_rc")),
            ("004", pl.col("pcs")),
            ("006", pl.col("libelle")),
            ("007", pl.col("nature")),
            ("008", pl.col("dispositif")),
            ("009", pl.col("numero")),
            ("010", date("planned_end")),
            ("011", pl.lit("10")),
            ("012", pl.lit("151.67")),
            ("013", cents("quotite")),
            ("014", pl.col("modalite")),
            ("016", pl.lit("99")),
            ("017", pl.col("idcc")),
            ("018", pl.lit("200")),
            ("019", pl.col("lieu")),
            ("020", pl.lit("200")),
            ("021", pl.col("recours")),
            ("024", pl.lit("99")),
            ("026", pl.lit("99")),
            ("036", pl.lit("01")),
            ("037", pl.lit("01")),
            ("039", pl.lit("200")),
            ("040", pl.col("risque_at")),
            ("043", pl.lit("2.10")),
            ("046", pl.col("user_siret")),
        ],
    )
    out.append(_parts(rows, t, n, ind, 2, j, pl.lit(0)))

    chg = rows.filter(pl.col("chg41_date").is_not_null())
    if chg.height:
        t, n = block(
            "S21.G00.41",
            [
                ("001", date("chg41_date")),
                ("012", pl.col("chg41_siret")),
                ("014", pl.col("chg41_numero")),
                ("021", date("chg41_start")),
            ],
        )
        out.append(_parts(chg, t, n, ind, 2, j, pl.lit(1)))

    sick = rows.filter(pl.col("abs_kind") == 1)
    if sick.height:
        t, n = block(
            "S21.G00.60",
            [
                ("001", pl.lit("01")),
                ("002", date(pl.col("abs_from") - 1)),
                ("003", date("abs_to")),
                ("004", pl.lit("02")),
            ],
        )
        out.append(_parts(sick, t, n, ind, 2, j, pl.lit(2)))

    ends = rows.filter(pl.col("end62_motif").is_not_null())
    if ends.height:
        t, n = block("S21.G00.62", [("001", date("end62_date")), ("002", pl.col("end62_motif"))])
        out.append(_parts(ends, t, n, ind, 2, j, pl.lit(3)))

    leave = rows.filter(pl.col("abs_kind") == 2)
    if leave.height:
        t, n = block(
            "S21.G00.65",
            [("001", pl.lit("501")), ("002", date("abs_from")), ("003", date("abs_to"))],
        )
        out.append(_parts(leave, t, n, ind, 2, j, pl.lit(4)))

    t, n = block("S21.G00.71", [("002", pl.lit("RETA"))])
    out.append(_parts(rows, t, n, ind, 2, j, pl.lit(5)))

    # One payment (S21.G00.50) per individual, then one S21.G00.51 per contract and type.
    pay = rows.group_by(["file", "decl", "person"]).agg(
        pl.col("brut").sum(),
        pl.col("corr_amount").sum(),
        pl.col("pas_rate").first(),
        pl.col("pay_date").first(),
    )
    net = (pl.col("brut") + pl.col("corr_amount")) * 78 // 100
    t, n = block(
        "S21.G00.50",
        [
            ("001", date("pay_date")),
            ("002", cents(net)),
            ("003", pl.lit("01")),
            ("004", cents(net - net.clip(0) * pl.col("pas_rate") // 10000)),
            ("006", cents("pas_rate")),
            ("007", pl.lit("01")),
            ("009", cents(net.clip(0) * pl.col("pas_rate") // 10000)),
        ],
    )
    out.append(_parts(pay, t, n, ind, 3, pl.lit(0), pl.lit(0)))

    has = rows.filter(pl.col("b") >= pl.col("a"))
    work_unit = pl.when(pl.col("days")).then(pl.lit("12")).otherwise(pl.lit("10"))
    work = pl.when(pl.col("days")).then(pl.col("paid") // 700 * 100).otherwise(pl.col("paid"))
    gone = pl.when(pl.col("days")).then(pl.col("unpaid") // 700 * 100).otherwise(pl.col("unpaid"))
    r51 = [
        ("001", date("a")),
        ("002", date("b")),
        ("010", pl.col("numero")),
        ("011", pl.lit("002")),
        ("013", cents(pl.col("brut") - pl.col("ot_amount"))),
    ]
    t51, n51 = block("S21.G00.51", r51)
    t53a, n53a = block(
        "S21.G00.53", [("001", pl.lit("01")), ("002", cents(work)), ("003", work_unit)]
    )
    t53b, n53b = block(
        "S21.G00.53", [("001", pl.lit("02")), ("002", cents(gone)), ("003", work_unit)]
    )
    with_abs = pl.col("unpaid") > 0
    text = pl.concat_str(
        [t51, t53a, pl.when(with_abs).then(t53b)], separator="\n", ignore_nulls=True
    )
    count = n51 + n53a + pl.when(with_abs).then(n53b).otherwise(0)
    out.append(_parts(has, text, count, ind, 3, 1 + j, pl.lit(0)))

    corr = rows.filter(pl.col("corr_hours") < 0)
    if corr.height:
        t51, n51 = block(
            "S21.G00.51",
            [
                ("001", date("corr_a")),
                ("002", date("corr_b")),
                ("010", pl.col("numero")),
                ("011", pl.lit("002")),
                ("013", cents("corr_amount")),
            ],
        )
        t53, n53 = block(
            "S21.G00.53",
            [("001", pl.lit("01")), ("002", cents("corr_hours")), ("003", pl.lit("10"))],
        )
        text = pl.concat_str([t51, t53], separator="\n")
        out.append(_parts(corr, text, n51 + n53, ind, 3, 1 + j, pl.lit(1)))

    for k3, typ, col in ((2, "017", "ot017"), (3, "018", "ot018")):
        ot = has.filter(pl.col(col) > 0)
        if ot.height:
            t, n = block(
                "S21.G00.51",
                [
                    ("001", date("a")),
                    ("002", date("b")),
                    ("010", pl.col("numero")),
                    ("011", pl.lit(typ)),
                    ("012", cents(col)),
                    ("013", cents(pl.col(col) * pl.col("hourly") * 125 // 10000)),
                ],
            )
            out.append(_parts(ot, t, n, ind, 3, 1 + j, pl.lit(k3)))

    t, n = block(
        "S21.G00.51",
        [
            (
                "001",
                date(pl.when(pl.col("b") >= pl.col("a")).then(pl.col("a")).otherwise(pl.col("m0"))),
            ),
            (
                "002",
                date(pl.when(pl.col("b") >= pl.col("a")).then(pl.col("b")).otherwise(pl.col("m1"))),
            ),
            ("010", pl.col("numero")),
            ("011", pl.lit("001")),
            ("013", cents("brut")),
        ],
    )
    out.append(_parts(rows, t, n, ind, 3, 1 + j, pl.lit(4)))

    senior = rows.filter(pl.col("nature") == "01")
    if senior.height:
        t, n = block(
            "S21.G00.86",
            [
                ("001", pl.lit("07")),
                ("002", pl.lit("02")),
                ("003", pl.col("seniority").cast(pl.String)),
                ("005", pl.col("numero")),
            ],
        )
        out.append(_parts(senior, t, n, ind, 4, j, pl.lit(0)))
    return out


def declaration_parts(decls: pl.DataFrame) -> list[pl.LazyFrame]:
    """S20.G00.05 + S21.G00.06 + S21.G00.11 header of each declaration."""
    t05, n05 = block(
        "S20.G00.05",
        [
            ("001", pl.lit("01")),
            ("002", pl.col("type_decl")),
            ("003", pl.col("fraction")),
            ("004", pl.col("rang")),
            ("005", pl.col("mois_declare")),
            ("007", pl.col("date_fichier")),
            ("008", pl.lit("01")),
            ("010", pl.lit("01")),
        ],
    )
    t06, n06 = block(
        "S21.G00.06",
        [
            ("001", pl.col("siren")),
            ("002", pl.col("nic_siege")),
            ("003", pl.col("naf")),
            ("004", pl.col("adresse")),
            ("005", pl.col("cp")),
            ("006", pl.col("localite")),
            ("015", pl.col("idcc")),
        ],
    )
    t11, n11 = block(
        "S21.G00.11",
        [
            ("001", pl.col("nic")),
            ("002", pl.col("naf")),
            ("003", pl.col("adresse")),
            ("004", pl.col("cp")),
            ("005", pl.col("localite")),
            ("022", pl.col("idcc")),
        ],
    )
    text = pl.concat_str([t05, t06, t11], separator="\n")
    return [_parts(decls, text, n05 + n06 + n11, pl.lit(IND_HEADER), 0, pl.lit(0), pl.lit(0))]


def user_parts(users: pl.DataFrame) -> list[pl.LazyFrame]:
    """S21.G00.85: one block per user establishment named by the declaration's interim contracts."""
    if users.height == 0:
        return []
    t, n = block(
        "S21.G00.85",
        [
            ("001", pl.col("user_siret")),
            ("002", pl.col("user_naf")),
            ("003", pl.col("user_adresse")),
            ("004", pl.col("user_cp")),
            ("005", pl.col("user_localite")),
            ("011", pl.col("user_commune")),
        ],
    )
    return [_parts(users, t, n, pl.lit(IND_TRAILER), 0, pl.col("user_rank"), pl.lit(0))]


def assemble(parts: list[pl.LazyFrame]) -> pl.DataFrame:
    """file -> body text (without envoi header and total) and its line count."""
    return (
        pl.concat(parts)
        .sort(["file", "decl", "ind", "k1", "k2", "k3"])
        .group_by("file", maintain_order=True)
        .agg(pl.col("text").str.join("\n"), pl.col("n").sum())
        .collect()
    )
