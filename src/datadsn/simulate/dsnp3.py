"""DSNP3 CSV export: the same declarations as the NEODES files, in the reference pipeline's input.

One CSV per table and sending month (`champollion_<table>_YYYY-MM-01.csv`), cp1252, `;`
separator, `|` text qualifier, empty field = NULL, columns of champollion_spec.md §2.2 in that
order. Dates are ISO (`YYYY-MM-DD`) except DateNaissance (`DDMMYYYY`, as in DSNP3). What the
platform filters upstream is not exported: line-level defects, the replaced original of an
'annule et remplace' and duplicate envois. Late declarations go with the month they are sent.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl

COLUMNS = {
    "etablissement": [
        "IdEtablissement", "Siren", "NIC", "NICEntre", "RaisonSocialeEntr", "EnseigneEtablissement",
        "VoieEtab", "CompltVoieEtab", "CP", "Localite", "CategorieJuridique", "CodeAPET",
        "CodeConvCollectivePrinci", "DateDeclaration",
    ],
    "individu": [
        "IdIndividu", "IdEtablissement", "NIRDeclare", "NomFamille", "NomUsage", "Prenoms",
        "DateNaissance", "LieuNaissance", "DateDeclaration",
    ],
    "contrat": [
        "IdContrat", "IdIndividu", "DateDebut", "Numero", "LibelleEmploi", "CodeNature", "CodeCCN",
        "CodeMotifRecours", "CodeDispPolitiquePublique", "CompltDispositifPublic", "LieuTravail",
        "MiseDispoExterneIndividu", "DateFinPrev", "SIRETEtabUtilisateur", "CodeUniteQuotite",
        "DateDeclaration",
    ],
    "individuchangement": [
        "IdIndividuChangement", "IdIndividu", "DateModification", "AncienNIR", "NomFamille", "Prenoms",
        "DateNaissance", "DateDeclaration",
    ],
    "contratchangement": [
        "IdContratChangement", "IdContrat", "DateModification", "SiretEtab", "Numero", "DateDebut",
        "DateDeclaration",
    ],
    "contratfin": ["IdContratFin", "IdContrat", "DateFin", "CodeMotifRupture", "DateDeclaration"],
    "versement": ["IdVersement", "IdIndividu"],
    "remuneration": [
        "IdRemuneration", "IdVersement", "DateDebutPeriodePaie", "DateFinPeriodePaie", "NumeroContrat",
        "TypeRemuneration", "NombreHeure", "DateDeclaration",
    ],
    "activite": ["IdActivite", "IdRemuneration", "TypeActivite", "Mesure", "UniteMesure"],
}  # fmt: skip


def _iso(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Date).dt.strftime("%Y-%m-%d")


def _num(expr: pl.Expr) -> pl.Expr:
    return (expr / 100).round(2).cast(pl.String)


class Dsnp3Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.next_id = {t: 1 for t in COLUMNS}
        self.pending: dict[str, list[pl.DataFrame]] = {t: [] for t in COLUMNS}

    def _ids(self, table: str, n: int) -> pl.Series:
        start = self.next_id[table]
        self.next_id[table] = start + n
        return pl.Series(f"Id{table}", range(start, start + n), dtype=pl.Int64)

    def add_month(self, month: dt.date, frame: pl.DataFrame, decls: pl.DataFrame, late: set[int]) -> None:
        declared = month.isoformat()
        tables = self._tables(frame, decls, declared)
        late_decl = set(decls.filter(pl.col("file_group").is_in(list(late)))["decl"].to_list())
        for name, (df, decl_col) in tables.items():
            is_late = pl.col(decl_col).is_in(list(late_decl)) if late_decl else pl.lit(False)
            now = pl.concat([*self.pending[name], df.filter(~is_late).drop(decl_col)]) if self.pending[name] else df.filter(~is_late).drop(decl_col)
            self.pending[name] = [df.filter(is_late).drop(decl_col)]
            self._write(name, month, now)

    def finish(self) -> None:
        """Late declarations of the last month are never sent inside the window: nothing to do."""

    def _write(self, name: str, month: dt.date, df: pl.DataFrame) -> None:
        folder = self.folder / month.strftime("%Y-%m")
        folder.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        df.select(COLUMNS[name]).write_csv(buf, separator=";", quote_char="|", quote_style="non_numeric", null_value="")
        text = buf.getvalue().decode("utf-8")
        (folder / f"champollion_{name}_{month.isoformat()}.csv").write_bytes(text.encode("cp1252"))

    def _tables(self, frame: pl.DataFrame, decls: pl.DataFrame, declared: str) -> dict[str, tuple[pl.DataFrame, str]]:
        d = pl.lit(declared)
        etab = decls.sort("decl").with_columns(self._ids("etablissement", decls.height).alias("IdEtablissement"))
        etab_t = etab.select(
            "IdEtablissement", "decl",
            pl.col("siren").alias("Siren"), pl.col("nic").alias("NIC"), pl.col("nic_siege").alias("NICEntre"),
            pl.lit("ENTREPRISE ").add(pl.col("siren")).alias("RaisonSocialeEntr"),
            pl.lit(None, dtype=pl.String).alias("EnseigneEtablissement"),
            pl.col("adresse").alias("VoieEtab"), pl.lit(None, dtype=pl.String).alias("CompltVoieEtab"),
            pl.col("cp").alias("CP"), pl.col("localite").alias("Localite"),
            pl.lit(None, dtype=pl.String).alias("CategorieJuridique"), pl.col("naf").alias("CodeAPET"),
            pl.col("idcc").alias("CodeConvCollectivePrinci"), d.alias("DateDeclaration"),
        )  # fmt: skip
        rows = frame.sort(["decl", "person", "start_decl", "c"]).with_columns(
            pl.int_range(pl.len()).over(["decl", "person"]).alias("j")
        )
        ind = rows.filter(pl.col("j") == 0).select("decl", "person", "nir", "nom", "prenoms", "ddn", "lieu_naissance")
        ind = ind.with_columns(self._ids("individu", ind.height).alias("IdIndividu"))
        ind = ind.join(etab.select("decl", "IdEtablissement"), on="decl", how="left")
        ind_t = ind.select(
            "IdIndividu", "IdEtablissement", "decl", pl.col("nir").alias("NIRDeclare"), pl.col("nom").alias("NomFamille"),
            pl.lit(None, dtype=pl.String).alias("NomUsage"), pl.col("prenoms").alias("Prenoms"),
            pl.col("ddn").alias("DateNaissance"), pl.col("lieu_naissance").alias("LieuNaissance"),
            d.alias("DateDeclaration"),
        )  # fmt: skip
        rows = rows.join(ind.select("decl", "person", "IdIndividu"), on=["decl", "person"], how="left")
        rows = rows.with_columns(self._ids("contrat", rows.height).alias("IdContrat"))
        con_t = rows.select(
            "IdContrat", "IdIndividu", "decl", _iso("start_decl").alias("DateDebut"), pl.col("numero").alias("Numero"),
            pl.col("libelle").alias("LibelleEmploi"), pl.col("nature").alias("CodeNature"), pl.col("idcc").alias("CodeCCN"),
            pl.col("recours").alias("CodeMotifRecours"), pl.col("dispositif").alias("CodeDispPolitiquePublique"),
            pl.lit(None, dtype=pl.String).alias("CompltDispositifPublic"), pl.col("lieu").alias("LieuTravail"),
            pl.lit(None, dtype=pl.String).alias("MiseDispoExterneIndividu"), _iso("planned_end").alias("DateFinPrev"),
            pl.col("user_siret").alias("SIRETEtabUtilisateur"), pl.lit("10").alias("CodeUniteQuotite"),
            d.alias("DateDeclaration"),
        )  # fmt: skip
        first = rows.filter(pl.col("j") == 0)
        chg = first.filter(pl.col("chg31_date").is_not_null())
        frag = chg.filter(pl.col("frag31_ddn").is_not_null())
        ich = pl.concat(
            [
                chg.select("IdIndividu", "decl", "chg31_date", pl.col("chg31_nir"), pl.col("chg31_nom"), pl.lit(None, dtype=pl.String).alias("ddn_old")),
                frag.select("IdIndividu", "decl", "chg31_date", pl.lit(None, dtype=pl.String).alias("chg31_nir"), pl.lit(None, dtype=pl.String).alias("chg31_nom"), pl.col("frag31_ddn").alias("ddn_old")),
            ]
        )  # fmt: skip
        ich = ich.with_columns(self._ids("individuchangement", ich.height).alias("IdIndividuChangement"))
        ich_t = ich.select(
            "IdIndividuChangement", "IdIndividu", "decl", _iso("chg31_date").alias("DateModification"),
            pl.col("chg31_nir").alias("AncienNIR"), pl.col("chg31_nom").alias("NomFamille"),
            pl.lit(None, dtype=pl.String).alias("Prenoms"), pl.col("ddn_old").alias("DateNaissance"),
            d.alias("DateDeclaration"),
        )  # fmt: skip
        cch = rows.filter(pl.col("chg41_date").is_not_null())
        cch = cch.with_columns(self._ids("contratchangement", cch.height).alias("IdContratChangement"))
        cch_t = cch.select(
            "IdContratChangement", "IdContrat", "decl", _iso("chg41_date").alias("DateModification"),
            pl.col("chg41_siret").alias("SiretEtab"), pl.col("chg41_numero").alias("Numero"),
            _iso("chg41_start").alias("DateDebut"), d.alias("DateDeclaration"),
        )  # fmt: skip
        fin = rows.filter(pl.col("end62_motif").is_not_null())
        fin = fin.with_columns(self._ids("contratfin", fin.height).alias("IdContratFin"))
        fin_t = fin.select(
            "IdContratFin", "IdContrat", "decl", _iso("end62_date").alias("DateFin"),
            pl.col("end62_motif").alias("CodeMotifRupture"), d.alias("DateDeclaration"),
        )  # fmt: skip
        ver = ind.select("IdIndividu", "decl").with_columns(self._ids("versement", ind.height).alias("IdVersement"))
        ver_t = ver.select("IdVersement", "IdIndividu", "decl")
        rows = rows.join(ver.select("IdIndividu", "IdVersement"), on="IdIndividu", how="left")

        has = pl.col("b") >= pl.col("a")
        unit = pl.when(pl.col("days")).then(pl.lit("12")).otherwise(pl.lit("10"))
        work = pl.when(pl.col("days")).then(pl.col("paid") // 700 * 100).otherwise(pl.col("paid"))
        gone = pl.when(pl.col("days")).then(pl.col("unpaid") // 700 * 100).otherwise(pl.col("unpaid"))
        rem_parts = [
            rows.filter(has).select("IdVersement", "decl", "c", pl.lit(0).alias("t"), _iso("a").alias("deb"), _iso("b").alias("fin"), "numero", pl.lit("002").alias("typ"), pl.lit(None, dtype=pl.String).alias("nb"), _num(work).alias("m1"), unit.alias("u"), pl.when(pl.col("unpaid") > 0).then(_num(gone)).alias("m2")),
            rows.filter(pl.col("corr_hours") < 0).select("IdVersement", "decl", "c", pl.lit(1).alias("t"), _iso("corr_a").alias("deb"), _iso("corr_b").alias("fin"), "numero", pl.lit("002").alias("typ"), pl.lit(None, dtype=pl.String).alias("nb"), _num(pl.col("corr_hours")).alias("m1"), pl.lit("10").alias("u"), pl.lit(None, dtype=pl.String).alias("m2")),
            rows.filter(has & (pl.col("ot017") > 0)).select("IdVersement", "decl", "c", pl.lit(2).alias("t"), _iso("a").alias("deb"), _iso("b").alias("fin"), "numero", pl.lit("017").alias("typ"), _num(pl.col("ot017")).alias("nb"), pl.lit(None, dtype=pl.String).alias("m1"), pl.lit(None, dtype=pl.String).alias("u"), pl.lit(None, dtype=pl.String).alias("m2")),
            rows.filter(has & (pl.col("ot018") > 0)).select("IdVersement", "decl", "c", pl.lit(3).alias("t"), _iso("a").alias("deb"), _iso("b").alias("fin"), "numero", pl.lit("018").alias("typ"), _num(pl.col("ot018")).alias("nb"), pl.lit(None, dtype=pl.String).alias("m1"), pl.lit(None, dtype=pl.String).alias("u"), pl.lit(None, dtype=pl.String).alias("m2")),
            rows.select("IdVersement", "decl", "c", pl.lit(4).alias("t"), pl.when(has).then(pl.col("a")).otherwise(pl.col("m0")).cast(pl.Date).dt.strftime("%Y-%m-%d").alias("deb"), pl.when(has).then(pl.col("b")).otherwise(pl.col("m1")).cast(pl.Date).dt.strftime("%Y-%m-%d").alias("fin"), "numero", pl.lit("001").alias("typ"), pl.lit(None, dtype=pl.String).alias("nb"), pl.lit(None, dtype=pl.String).alias("m1"), pl.lit(None, dtype=pl.String).alias("u"), pl.lit(None, dtype=pl.String).alias("m2")),
        ]  # fmt: skip
        rem = pl.concat(rem_parts).sort(["IdVersement", "c", "t"])
        rem = rem.with_columns(self._ids("remuneration", rem.height).alias("IdRemuneration"))
        rem_t = rem.select(
            "IdRemuneration", "IdVersement", "decl", pl.col("deb").alias("DateDebutPeriodePaie"),
            pl.col("fin").alias("DateFinPeriodePaie"), pl.col("numero").alias("NumeroContrat"),
            pl.col("typ").alias("TypeRemuneration"), pl.col("nb").alias("NombreHeure"), d.alias("DateDeclaration"),
        )  # fmt: skip
        act = pl.concat(
            [
                rem.filter(pl.col("m1").is_not_null()).select("IdRemuneration", "decl", pl.lit("01").alias("TypeActivite"), pl.col("m1").alias("Mesure"), pl.col("u").alias("UniteMesure")),
                rem.filter(pl.col("m2").is_not_null()).select("IdRemuneration", "decl", pl.lit("02").alias("TypeActivite"), pl.col("m2").alias("Mesure"), pl.col("u").alias("UniteMesure")),
            ]
        ).sort(["IdRemuneration", "TypeActivite"])  # fmt: skip
        act = act.with_columns(self._ids("activite", act.height).alias("IdActivite"))
        act_t = act.select("IdActivite", "IdRemuneration", "decl", "TypeActivite", "Mesure", "UniteMesure")
        return {
            "etablissement": (etab_t, "decl"),
            "individu": (ind_t, "decl"),
            "contrat": (con_t, "decl"),
            "individuchangement": (ich_t, "decl"),
            "contratchangement": (cch_t, "decl"),
            "contratfin": (fin_t, "decl"),
            "versement": (ver_t, "decl"),
            "remuneration": (rem_t, "decl"),
            "activite": (act_t, "decl"),
        }

