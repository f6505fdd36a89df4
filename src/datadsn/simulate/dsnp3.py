"""DSNP3 CSV export: the same declarations as the NEODES files, in the reference pipeline's input.

One CSV per table and sending month (`champollion_<table>_YYYY-MM-01.csv`), cp1252, `;`
separator, `|` text qualifier, empty field = NULL, columns of champollion_spec.md §2.2 in that
order. Dates are ISO (`YYYY-MM-DD`) except DateNaissance (`DDMMYYYY`, as in DSNP3). What the
platform filters upstream is not exported: line-level defects, the replaced original of an
'annule et remplace' and duplicate envois. A late declaration goes in the extract of the month it
is sent (loaded by the platform in that month's window, champollion_spec §2.1), however late.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl

from .dsnp3_columns import COLUMNS
from .workdays import add_months

__all__ = ["COLUMNS", "Dsnp3Writer"]


def _iso(col: str | pl.Expr) -> pl.Expr:
    expr = pl.col(col) if isinstance(col, str) else col
    return expr.cast(pl.Date).dt.strftime("%Y-%m-%d")


def _num(expr: pl.Expr) -> pl.Expr:
    return (expr / 100).round(2).cast(pl.String)


class Dsnp3Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.next_id = {t: 1 for t in [*COLUMNS, "envoi"]}
        # rows of late declarations by (table, sending month), written with that month's extract
        self.pending: dict[tuple[str, dt.date], list[pl.DataFrame]] = {}

    def _ids(self, table: str, n: int) -> pl.Series:
        start = self.next_id[table]
        self.next_id[table] = start + n
        return pl.Series(f"Id{table}", range(start, start + n), dtype=pl.Int64)

    def add_month(
        self,
        month: dt.date,
        frame: pl.DataFrame,
        decls: pl.DataFrame,
        late: dict[int, int],
        first: bool,
        users: pl.DataFrame | None = None,
    ) -> None:
        """Append one batch of a month; a late declaration's rows wait for its sending month
        (``late``: file group -> months of delay)."""
        declared = month.isoformat()
        tables = self._tables(frame, decls, declared, users)
        delay = decls.unique("decl").select(
            "decl",
            pl.col("file_group").replace_strict(late, default=0, return_dtype=pl.Int64).alias("d"),
        )
        delays = sorted(set(delay["d"].to_list()) - {0})
        for name, (df, decl_col) in tables.items():
            df = df.join(
                delay.rename({"decl": decl_col}), on=decl_col, how="left", maintain_order="left"
            )
            now = df.filter(pl.col("d").fill_null(0) == 0).drop(decl_col, "d")
            if first:
                now = pl.concat([*self.pending.pop((name, month), []), now])
            for d in delays:
                rows = df.filter(pl.col("d") == d).drop(decl_col, "d")
                self.pending.setdefault((name, add_months(month, d)), []).append(rows)
            self._write(name, month, now, first)

    def finish(self) -> None:
        """Declarations sent after the window's last month are never loaded inside it."""
        self.pending.clear()

    def _write(self, name: str, month: dt.date, df: pl.DataFrame, first: bool) -> None:
        folder = self.folder / month.strftime("%Y-%m")
        folder.mkdir(parents=True, exist_ok=True)
        # The extract is loaded from the 9th of the month after sending (champollion_spec §2.1).
        loaded = add_months(month, 1).replace(day=10)
        df = df.with_columns(
            pl.lit(loaded.isoformat()).alias("DateChargement"),
            pl.lit(int(loaded.strftime("%Y%m%d"))).alias("IdDateChargement"),
        )
        missing = [
            pl.lit(None, dtype=pl.String).alias(c) for c in COLUMNS[name] if c not in df.columns
        ]
        buf = io.BytesIO()
        df.with_columns(missing).select(COLUMNS[name]).write_csv(
            buf,
            separator=";",
            quote_char="|",
            quote_style="non_numeric",
            null_value="",
            include_header=False,
        )
        header = ";".join(COLUMNS[name]) + "\n" if first else ""
        data = (header + buf.getvalue().decode("utf-8")).encode("cp1252")
        with (folder / f"champollion_{name}_{month.isoformat()}.csv").open(
            "ab" if not first else "wb"
        ) as fh:
            fh.write(data)

    def _tables(
        self, frame: pl.DataFrame, decls: pl.DataFrame, declared: str, users: pl.DataFrame | None
    ) -> dict[str, tuple[pl.DataFrame, str]]:
        d = pl.lit(declared)
        etab = decls.sort("decl").with_columns(
            self._ids("etablissement", decls.height).alias("IdEtablissement"),
            self._ids("declaration", decls.height).alias("IdDeclaration"),
        )
        envois = etab.select("file").unique().sort("file")
        envois = envois.with_columns(self._ids("envoi", envois.height).alias("IdEnvoi"))
        decl_t = etab.join(envois, on="file").select(
            "IdDeclaration",
            "IdEnvoi",
            "decl",
            pl.lit("01").alias("NatureDeclaration"),
            pl.col("type_decl").alias("TypeDeclaration"),
            pl.col("fraction").alias("NumeroFraction"),
            pl.col("rang").alias("NumeroOrdreDeclaration"),
            d.alias("DateDeclaration"),
            pl.col("date_fichier")
            .str.strptime(pl.Date, "%d%m%Y")
            .dt.strftime("%Y-%m-%d")
            .alias("DateFichier"),
            pl.lit("01").alias("ChampDeclaration"),
            pl.lit("01").alias("DeviseDeclaration"),
            pl.col("siret").alias("SiretEtab"),
        )
        etab_t = etab.select(
            "IdEtablissement",
            "IdDeclaration",
            "decl",
            pl.col("siren").alias("Siren"),
            pl.col("nic").alias("NIC"),
            pl.col("nic_siege").alias("NICEntre"),
            pl.lit("ENTREPRISE ").add(pl.col("siren")).alias("RaisonSocialeEntr"),
            pl.lit(None, dtype=pl.String).alias("EnseigneEtablissement"),
            pl.col("adresse").alias("VoieEtab"),
            pl.lit(None, dtype=pl.String).alias("CompltVoieEtab"),
            pl.col("cp").alias("CP"),
            pl.col("localite").alias("Localite"),
            pl.lit(None, dtype=pl.String).alias("CategorieJuridique"),
            pl.col("naf").alias("CodeAPET"),
            pl.col("naf").alias("CodeAPEN"),
            pl.col("commune").alias("CodeINSEECommune"),
            pl.col("idcc").alias("CodeConvCollectivePrinci"),
            d.alias("DateDeclaration"),
        )
        rows = frame.sort(["decl", "person", "start_decl", "c"]).with_columns(
            pl.int_range(pl.len()).over(["decl", "person"]).alias("j")
        )
        ind = rows.filter(pl.col("j") == 0).select(
            "decl",
            "person",
            "nir",
            "nom",
            "prenoms",
            "ddn",
            "lieu_naissance",
            "sexe",
            "adresse",
            "cp",
            "localite",
            "dep_naissance",
            "matricule",
            "pay_date",
        )
        ind = ind.with_columns(self._ids("individu", ind.height).alias("IdIndividu"))
        ind = ind.join(etab.select("decl", "IdEtablissement"), on="decl", how="left")
        ind_t = ind.select(
            "IdIndividu",
            "IdEtablissement",
            "decl",
            pl.col("nir").alias("NIRDeclare"),
            pl.col("nom").alias("NomFamille"),
            pl.lit(None, dtype=pl.String).alias("NomUsage"),
            pl.col("prenoms").alias("Prenoms"),
            pl.col("ddn").alias("DateNaissance"),
            pl.col("lieu_naissance").alias("LieuNaissance"),
            pl.col("sexe").alias("CodeSexe"),
            pl.col("adresse").alias("Voie"),
            pl.col("cp").alias("CP"),
            pl.col("localite").alias("Localite"),
            pl.col("dep_naissance").alias("CodeDepartNaissance"),
            pl.col("matricule").alias("Matricule"),
            d.alias("DateDeclaration"),
        )
        rows = rows.join(
            ind.select("decl", "person", "IdIndividu"), on=["decl", "person"], how="left"
        )
        rows = rows.with_columns(self._ids("contrat", rows.height).alias("IdContrat"))
        con_t = rows.select(
            "IdContrat",
            "IdIndividu",
            "decl",
            _iso("start_decl").alias("DateDebut"),
            pl.col("numero").alias("Numero"),
            pl.col("libelle").alias("LibelleEmploi"),
            pl.col("statut").alias("CodeStatutConv"),
            pl.col("statut_rc").alias("CodeStatutCatRetraiteCompl"),
            pl.col("pcs").alias("CodePcsEse"),
            pl.lit("151.67").alias("QuotiteTravailCategorie"),
            _num(pl.col("quotite")).alias("QuotiteTravailContrat"),
            pl.col("modalite").alias("ModaliteExerciceTempsTravail"),
            pl.col("nature").alias("CodeNature"),
            pl.col("idcc").alias("CodeCCN"),
            pl.col("recours").alias("CodeMotifRecours"),
            pl.col("dispositif").alias("CodeDispPolitiquePublique"),
            pl.lit(None, dtype=pl.String).alias("CompltDispositifPublic"),
            pl.col("lieu").alias("LieuTravail"),
            pl.lit(None, dtype=pl.String).alias("MiseDispoExterneIndividu"),
            _iso("planned_end").alias("DateFinPrev"),
            pl.col("user_siret").alias("SIRETEtabUtilisateur"),
            pl.lit("10").alias("CodeUniteQuotite"),
            d.alias("DateDeclaration"),
        )
        first = rows.filter(pl.col("j") == 0)
        chg = first.filter(pl.col("chg31_date").is_not_null())
        frag = chg.filter(pl.col("frag31_ddn").is_not_null())
        nul = pl.lit(None, dtype=pl.String)
        ich = pl.concat(
            [
                chg.select(
                    "IdIndividu",
                    "decl",
                    "chg31_date",
                    "chg31_nir",
                    "chg31_nom",
                    pl.col("chg31_ddn").alias("ddn_old"),
                ),
                frag.select(
                    "IdIndividu",
                    "decl",
                    "chg31_date",
                    nul.alias("chg31_nir"),
                    nul.alias("chg31_nom"),
                    pl.col("frag31_ddn").alias("ddn_old"),
                ),
            ]
        )
        ich = ich.with_columns(
            self._ids("individuchangement", ich.height).alias("IdIndividuChangement")
        )
        ich_t = ich.select(
            "IdIndividuChangement",
            "IdIndividu",
            "decl",
            _iso("chg31_date").alias("DateModification"),
            pl.col("chg31_nir").alias("AncienNIR"),
            pl.col("chg31_nom").alias("NomFamille"),
            pl.lit(None, dtype=pl.String).alias("Prenoms"),
            pl.col("ddn_old").alias("DateNaissance"),
            d.alias("DateDeclaration"),
        )
        cch = rows.filter(pl.col("chg41_date").is_not_null())
        cch = cch.with_columns(
            self._ids("contratchangement", cch.height).alias("IdContratChangement")
        )
        cch_t = cch.select(
            "IdContratChangement",
            "IdContrat",
            "decl",
            _iso("chg41_date").alias("DateModification"),
            pl.col("chg41_siret").alias("SiretEtab"),
            pl.col("chg41_numero").alias("Numero"),
            _iso("chg41_start").alias("DateDebut"),
            d.alias("DateDeclaration"),
        )
        fin = rows.filter(pl.col("end62_motif").is_not_null())
        fin = fin.with_columns(self._ids("contratfin", fin.height).alias("IdContratFin"))
        fin_t = fin.select(
            "IdContratFin",
            "IdContrat",
            "decl",
            _iso("end62_date").alias("DateFin"),
            pl.col("end62_motif").alias("CodeMotifRupture"),
            d.alias("DateDeclaration"),
        )
        ver = ind.select("IdIndividu", "decl", "pay_date").with_columns(
            self._ids("versement", ind.height).alias("IdVersement")
        )
        ver_t = ver.select(
            "IdVersement",
            "IdIndividu",
            "decl",
            _iso("pay_date").alias("DateVersement"),
            pl.lit("01").alias("NumeroVersement"),
            d.alias("DateDeclaration"),
        )
        rows = rows.join(ver.select("IdIndividu", "IdVersement"), on="IdIndividu", how="left")

        has = pl.col("b") >= pl.col("a")
        unit = pl.when(pl.col("days")).then(pl.lit("12")).otherwise(pl.lit("10"))
        work = pl.when(pl.col("days")).then(pl.col("paid") // 700 * 100).otherwise(pl.col("paid"))
        gone = (
            pl.when(pl.col("days")).then(pl.col("unpaid") // 700 * 100).otherwise(pl.col("unpaid"))
        )
        none = pl.lit(None, dtype=pl.String)
        a_or_m0 = pl.when(has).then(pl.col("a")).otherwise(pl.col("m0"))
        b_or_m1 = pl.when(has).then(pl.col("b")).otherwise(pl.col("m1"))
        gone_m = pl.when(pl.col("unpaid") > 0).then(_num(gone))
        rem_parts = [
            _rem(
                rows.filter(has),
                0,
                "a",
                "b",
                "002",
                none,
                _num(work),
                unit,
                gone_m,
                pl.col("brut") - pl.col("ot_amount"),
            ),
            _rem(
                rows.filter(pl.col("corr_hours") < 0),
                1,
                "corr_a",
                "corr_b",
                "002",
                none,
                _num(pl.col("corr_hours")),
                pl.lit("10"),
                none,
                pl.col("corr_amount"),
            ),
            # Overtime, random (017) then structural (018), paid at +25 %.
            *(
                _rem(
                    rows.filter(has & (pl.col(f"ot{kind}") > 0)),
                    order,
                    "a",
                    "b",
                    kind,
                    _num(pl.col(f"ot{kind}")),
                    none,
                    none,
                    none,
                    pl.col(f"ot{kind}") * pl.col("hourly") * 125 // 10000,
                )
                for order, kind in ((2, "017"), (3, "018"))
            ),
            _rem(rows, 4, a_or_m0, b_or_m1, "001", none, none, none, none, pl.col("brut")),
        ]
        rem = (
            pl.concat(rem_parts).sort(["IdVersement", "c", "t"]).with_columns(_num(pl.col("brut")))
        )
        rem = rem.with_columns(self._ids("remuneration", rem.height).alias("IdRemuneration"))
        rem_t = rem.select(
            "IdRemuneration",
            "IdVersement",
            "decl",
            pl.col("deb").alias("DateDebutPeriodePaie"),
            pl.col("fin").alias("DateFinPeriodePaie"),
            pl.col("numero").alias("NumeroContrat"),
            pl.col("typ").alias("TypeRemuneration"),
            pl.col("nb").alias("NombreHeure"),
            pl.col("brut").alias("Montant"),
            d.alias("DateDeclaration"),
        )
        act = pl.concat(
            [
                rem.filter(pl.col(m).is_not_null()).select(
                    "IdRemuneration",
                    "decl",
                    pl.lit(t).alias("TypeActivite"),
                    pl.col(m).alias("Mesure"),
                    pl.col("u").alias("UniteMesure"),
                )
                for t, m in (("01", "m1"), ("02", "m2"))
            ]
        ).sort(["IdRemuneration", "TypeActivite"])
        act = act.with_columns(self._ids("activite", act.height).alias("IdActivite"))
        act_t = act.select(
            "IdActivite",
            "IdRemuneration",
            "decl",
            "TypeActivite",
            "Mesure",
            "UniteMesure",
            d.alias("DateDeclaration"),
        )
        # Tables the reference pipeline requires but does not use.
        senior = rows.filter(pl.col("nature") == "01")
        senior = senior.with_columns(self._ids("anciennete", senior.height).alias("IdAnciennete"))
        anc_t = senior.select(
            "IdAnciennete",
            "IdIndividu",
            "decl",
            pl.lit("07").alias("TypeAnciennete"),
            pl.lit("02").alias("UniteMesure"),
            pl.col("seniority").cast(pl.String).alias("Valeur"),
            pl.col("numero").alias("NumeroContrat"),
            d.alias("DateDeclaration"),
        )
        sick = rows.filter(pl.col("abs_kind") == 1)
        sick = sick.with_columns(self._ids("arretdetravail", sick.height).alias("IdArretDeTravail"))
        arr_t = sick.select(
            "IdArretDeTravail",
            "IdContrat",
            "decl",
            pl.lit("01").alias("MotifArret"),
            _iso(pl.col("abs_from") - 1).alias("DateDernierJourTravaille"),
            _iso("abs_to").alias("DateFinPrevisionelle"),
            pl.lit("02").alias("Subrogation"),
            d.alias("DateDeclaration"),
        )
        leave = rows.filter(pl.col("abs_kind") == 2)
        leave = leave.with_columns(
            self._ids("autresuspensionexecutioncontrat", leave.height).alias(
                "IdAutreSuspensionExecutionContrat"
            )
        )
        sus_t = leave.select(
            "IdAutreSuspensionExecutionContrat",
            "IdContrat",
            "decl",
            pl.lit("501").alias("MotifSuspension"),
            _iso("abs_from").alias("DateDebutSuspension"),
            _iso("abs_to").alias("DateFinSuspension"),
            d.alias("DateDeclaration"),
        )
        lieu = users if users is not None else pl.DataFrame(schema={"decl": pl.Int64})
        lieu = lieu.sort(["decl", "user_rank"]) if users is not None else lieu
        lieu = lieu.with_columns(self._ids("lieutravail", lieu.height).alias("IdLieuTravail"))
        lieu_t = (
            lieu.select(
                "IdLieuTravail",
                "decl",
                pl.col("user_siret").alias("Siret"),
                pl.col("user_naf").alias("CodeAPET"),
                pl.col("user_adresse").alias("Voie"),
                pl.col("user_cp").alias("CP"),
                pl.col("user_localite").alias("Localite"),
                pl.col("user_commune").alias("CodeINSEECommune"),
                d.alias("DateDeclaration"),
            )
            if users is not None
            else lieu
        )
        tpt_t = pl.DataFrame(schema={"decl": pl.Int64})
        tables = {
            "declaration": (decl_t, "decl"),
            "anciennete": (anc_t, "decl"),
            "arretdetravail": (arr_t, "decl"),
            "autresuspensionexecutioncontrat": (sus_t, "decl"),
            "lieutravail": (lieu_t, "decl"),
            "tempspartieltherapeutique": (tpt_t, "decl"),
        }
        ids = etab.select("decl", "IdDeclaration")
        out = {
            "etablissement": (etab_t, "decl"),
            "individu": (ind_t, "decl"),
            "contrat": (con_t, "decl"),
            "individuchangement": (ich_t, "decl"),
            "contratchangement": (cch_t, "decl"),
            "contratfin": (fin_t, "decl"),
            "versement": (ver_t, "decl"),
            "remuneration": (rem_t, "decl"),
            "activite": (act_t, "decl"),
            **tables,
        }
        return {
            name: (
                df if "IdDeclaration" in df.columns else df.join(ids, on="decl", how="left"),
                col,
            )
            for name, (df, col) in out.items()
        }


def _rem(
    df: pl.DataFrame,
    order: int,
    deb: str | pl.Expr,
    fin: str | pl.Expr,
    typ: str,
    hours: pl.Expr,
    m1: pl.Expr,
    unit: pl.Expr,
    m2: pl.Expr,
    amount: pl.Expr,
) -> pl.DataFrame:
    """One remuneration row per input row; m1/m2 are the activity measures to attach."""
    deb_e = pl.col(deb) if isinstance(deb, str) else deb
    fin_e = pl.col(fin) if isinstance(fin, str) else fin
    return df.select(
        "IdVersement",
        "decl",
        "c",
        pl.lit(order).alias("t"),
        deb_e.cast(pl.Date).dt.strftime("%Y-%m-%d").alias("deb"),
        fin_e.cast(pl.Date).dt.strftime("%Y-%m-%d").alias("fin"),
        "numero",
        pl.lit(typ).alias("typ"),
        hours.alias("nb"),
        m1.alias("m1"),
        unit.alias("u"),
        m2.alias("m2"),
        amount.alias("brut"),
    )
