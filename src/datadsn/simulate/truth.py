"""Ground-truth Parquet tables written beside the DSN files.

Monthly tables are appended month by month (bounded memory); hours are split per calendar
month and re-aggregated at the end because shifted pay periods feed two months.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .careers import Contracts, Persons
from .economy import NEVER, Economy
from .events import Plan
from .payroll import MonthRows


def _dates(days: np.ndarray) -> pl.Series:
    arr = np.asarray(days, dtype=np.int64)
    s = pl.Series(arr, dtype=pl.Int64)
    return pl.select(pl.when(s < NEVER).then(s)).to_series().cast(pl.Date)


def _opt(values: np.ndarray, present: np.ndarray) -> pl.Series:
    """String column that is null where ``present`` is false."""
    s = pl.Series(values.astype(str))
    return pl.select(pl.when(pl.Series(present)).then(s)).to_series()


class TruthWriter:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parts = folder / "_parts"
        self.parts.mkdir(parents=True, exist_ok=True)
        self._anoms: list[pl.DataFrame] = []
        self.anomaly_count = 0
        self._month_no = 0

    # -- monthly -----------------------------------------------------------------------------
    def add_month(self, month: dt.date, rows: MonthRows, split: dict[str, np.ndarray]) -> None:
        self._month_no += 1
        tag = f"{month:%Y-%m}_{self._month_no:05d}"
        pl.DataFrame(
            {
                "contrat_id": rows.c.astype(np.int64),
                "mois": pl.Series([month] * len(rows.c), dtype=pl.Date),
                "brut": rows.true_brut / 100.0,
            }
        ).write_parquet(self.parts / f"remunerations_{tag}.parquet")
        pl.DataFrame(
            {
                "contrat_id": split["c"].astype(np.int64),
                "mois": pl.Series(
                    split["mois"].astype("datetime64[M]").astype("datetime64[D]")
                ).cast(pl.Date),
                "rem": split["rem"] / 100.0,
                "nonrem": split["nonrem"] / 100.0,
                "supp": split["supp"] / 100.0,
            }
        ).write_parquet(self.parts / f"heures_{tag}.parquet")

    def add_identities(self, month: dt.date, frame: pl.DataFrame, siret: np.ndarray) -> None:
        """Each identity as declared this month (NIR or names, contract number and start), with
        the person and contract behind it: what ``evaluate`` scores every raw identity against."""
        self._month_no += 1
        frame.select(
            pl.Series("siret", siret[frame["etab"].to_numpy()].astype(str)),
            pl.col("nir"),
            pl.col("nom"),
            pl.col("prenoms"),
            pl.col("ddn").alias("date_naissance"),
            pl.col("numero").alias("numero_contrat"),
            pl.col("start_decl").cast(pl.Date).alias("date_debut"),
            pl.lit(month, pl.Date).alias("mois"),
            pl.col("person").cast(pl.Int64).alias("person_id"),
            pl.col("c").cast(pl.Int64).alias("contrat_id"),
        ).write_parquet(self.parts / f"identites_{month:%Y-%m}_{self._month_no:05d}.parquet")

    def _append(self, **cols: Any) -> None:
        n = len(cols["type"])
        if n == 0:
            return
        self._anoms.append(
            pl.DataFrame(
                {
                    "type": cols["type"],
                    "mois": pl.Series(cols["mois"], dtype=pl.Date),
                    "file": pl.Series(cols["file"], dtype=pl.String),
                    "line": pl.Series(cols["line"], dtype=pl.Int64),
                    "rubrique": pl.Series(cols["rubrique"], dtype=pl.String),
                    "person_id": pl.Series(cols["person_id"], dtype=pl.Int64),
                    "contrat_id": pl.Series(cols["contrat_id"], dtype=pl.Int64),
                    "siret": pl.Series(cols["siret"], dtype=pl.String),
                    "detail": pl.Series(cols["detail"], dtype=pl.String),
                }
            )
        )
        self.anomaly_count += n

    def anomalies(
        self,
        kind: str,
        month: dt.date,
        c: np.ndarray,
        con: Contracts,
        per: Persons,
        eco: Economy,
        detail: str,
    ) -> None:
        n = len(c)
        self._append(
            type=[kind] * n,
            mois=[month] * n,
            file=[None] * n,
            line=[None] * n,
            rubrique=[None] * n,
            person_id=con.person[c].tolist(),
            contrat_id=c.tolist(),
            siret=eco.siret[con.etab[c]].tolist(),
            detail=[detail] * n,
        )

    def line_anomaly(
        self,
        kind: str,
        month: dt.date,
        file: str,
        line: int | None,
        rubrique: str | None,
        siret: str | None,
        detail: str,
    ) -> None:
        self._append(
            type=[kind],
            mois=[month],
            file=[file],
            line=[line],
            rubrique=[rubrique],
            person_id=[None],
            contrat_id=[None],
            siret=[siret],
            detail=[detail],
        )

    def etab_anomaly(self, kind: str, month: dt.date, sirets: list[str], detail: str) -> None:
        n = len(sirets)
        self._append(
            type=[kind] * n,
            mois=[month] * n,
            file=[None] * n,
            line=[None] * n,
            rubrique=[None] * n,
            person_id=[None] * n,
            contrat_id=[None] * n,
            siret=sirets,
            detail=[detail] * n,
        )

    def file_anomaly(
        self, kind: str, month: dt.date, file: str, siret: str | None, detail: str
    ) -> None:
        """A defect of a whole file (no line, no rubrique)."""
        self.line_anomaly(kind, month, file, None, None, siret, detail)

    # -- final tables ------------------------------------------------------------------------
    def finish(self, eco: Economy, con: Contracts, per: Persons, plan: Plan, w1: int) -> None:
        f = self.folder
        pl.DataFrame(
            {
                "person_id": np.arange(len(per.nir), dtype=np.int64),
                "nir": per.nir.astype(str),
                "sexe": per.sexe.astype(str),
                "date_naissance": _dates(per.birth),
                "nom": per.nom.astype(str),
                "prenoms": per.prenoms.astype(str),
            }
        ).write_parquet(f / "personnes.parquet")

        changed = pl.Series(plan.numchg_mi >= 0)
        old = pl.Series(np.where(plan.numchg_mi >= 0, plan.old_numero, con.numero).astype(str))
        new = pl.Series(con.numero.astype(str))
        numeros = pl.select(
            pl.when(changed).then(pl.concat_list(old, new)).otherwise(pl.concat_list(new))
        ).to_series()
        user = np.where(plan.user_mi >= 0, plan.second_user, con.user_etab)  # the last user
        pl.DataFrame(
            {
                "contrat_id": np.arange(len(con), dtype=np.int64),
                "person_id": con.person.astype(np.int64),
                "siret": eco.siret[con.etab].astype(str),
                "nature": con.nature.astype(str),
                "dispositif": _opt(con.dispositif, con.dispositif != ""),
                "motif_recours": _opt(con.recours, con.recours != ""),
                "date_debut": _dates(con.start),
                "date_debut_declaree": _dates(con.declared_start),
                "date_fin": _dates(con.end),
                "motif_fin": _opt(con.motif_fin, con.motif_fin != ""),
                "siret_utilisateur": _opt(eco.siret[np.maximum(user, 0)], user >= 0),
                "numero": con.numero.astype(str),
                "numeros": numeros,
                "contrat_precedent_id": pl.select(
                    pl.when(pl.Series(con.previous >= 0)).then(pl.Series(con.previous))
                ).to_series(),
                "heures_hebdo": con.weekly,
            }
        ).write_parquet(f / "contrats.parquet")

        from . import referentials as ref

        pl.DataFrame(
            {
                "siret": eco.siret.astype(str),
                "siren": eco.siren[eco.company].astype(str),
                "nic": eco.nic.astype(str),
                "naf": eco.naf.astype(str),
                "code_commune": np.array([c[0] for c in ref.COMMUNES])[eco.commune],
                "idcc": eco.idcc.astype(str),
                "date_creation": _dates(eco.created),
                "date_fermeture": _dates(eco.closed),
                "fermeture_silencieuse": plan.silent,
                "effectif_cible": eco.size.astype(np.int64),
                "siege": eco.is_siege,
            }
        ).write_parquet(f / "etablissements.parquet")

        (
            pl.scan_parquet(self.parts / "heures_*.parquet")
            .group_by(["contrat_id", "mois"])
            .agg(
                pl.col("rem").sum().round(2).alias("heures_remunerees"),
                pl.col("nonrem").sum().round(2).alias("heures_non_remunerees"),
                pl.col("supp").sum().round(4).alias("heures_supp"),
            )
            .sort(["contrat_id", "mois"])
            .sink_parquet(f / "heures.parquet")
        )
        (
            pl.scan_parquet(self.parts / "remunerations_*.parquet")
            .sort(["contrat_id", "mois"])
            .sink_parquet(f / "remunerations.parquet")
        )
        (
            pl.scan_parquet(self.parts / "identites_*.parquet")
            .unique()
            .sort(["mois", "siret", "contrat_id", "nir", "nom"], nulls_last=True)
            .sink_parquet(f / "identites_declarees.parquet")
        )
        schema = {
            "type": pl.String,
            "mois": pl.Date,
            "file": pl.String,
            "line": pl.Int64,
            "rubrique": pl.String,
            "person_id": pl.Int64,
            "contrat_id": pl.Int64,
            "siret": pl.String,
            "detail": pl.String,
        }
        anoms = pl.concat(self._anoms) if self._anoms else pl.DataFrame(schema=schema)
        anoms.with_row_index("anomaly_id").with_columns(
            pl.col("anomaly_id").cast(pl.Int64)
        ).write_parquet(f / "anomalies.parquet")
        shutil.rmtree(self.parts)
