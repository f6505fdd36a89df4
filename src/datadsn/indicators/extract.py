"""Pseudonymised microdata at contract-month level for one recipient.

- scope: a window of months, optional NAF prefixes and départements;
- pseudonyms re-keyed per recipient: HMAC-SHA256(recipient key, stored pseudonym), so two
  recipients' files cannot be joined on identifiers;
- generalisation: age band, NAF level, département or région, gross pay band, rounded hours;
- a k-anonymity / l-diversity check over the quasi-identifiers that refuses the release (in
  French, with the reason) when the configured k or l is not reached.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from .anonymity import Measure, measure
from .compute import Session
from .rules import Rules

QUASI = ("sexe", "tranche_age", "naf", "zone", "nature_contrat")
SENSITIVE = "tranche_brut"
NAF_LEVELS = ("naf_section", "naf_a38", "naf_a88")
GEO_LEVELS = ("departement", "region")
AGE_LEVELS = ("tranche_age", "tranche_age_large")


class ExtractRefused(RuntimeError):
    """The extract breaks the anonymity rules; the message says why, in French."""


@dataclass
class ExtractRequest:
    start: str
    end: str
    recipient: str
    key: bytes
    naf_level: str = "naf_section"
    geo_level: str = "region"
    age_level: str = "tranche_age_large"
    naf: list[str] = field(default_factory=list)
    departements: list[str] = field(default_factory=list)


def rekey(key: bytes, values: pl.Series) -> pl.Series:
    uniques = values.unique().drop_nulls().to_list()
    mapping = {
        v: hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:20] for v in uniques
    }
    return values.replace_strict(mapping, default=None, return_dtype=pl.Utf8)


def build(session: Session, request: ExtractRequest) -> pl.DataFrame:
    if request.naf_level not in NAF_LEVELS or request.geo_level not in GEO_LEVELS:
        raise ValueError("niveau de NAF ou de géographie inconnu")
    if request.age_level not in AGE_LEVELS:
        raise ValueError("niveau d'âge inconnu")
    session.prepare(request.start, request.end, "mois")
    where = ["NOT copie_interim"]
    params: list[str] = []
    if request.naf:
        where.append(
            "(" + " OR ".join("starts_with(d_naf_sous_classe, ?)" for _ in request.naf) + ")"
        )
        params += request.naf
    if request.departements:
        where.append(f"d_departement IN ({', '.join('?' for _ in request.departements)})")
        params += request.departements
    data = session.con.execute(
        f"""
        SELECT strftime(mois, '%Y-%m') AS mois, salarie_id, contrat_id, etablissement_id,
            d_sexe AS sexe, d_{request.age_level} AS tranche_age, d_{request.naf_level} AS naf,
            d_{request.geo_level} AS zone, d_nature_contrat AS nature_contrat,
            round(heures) AS heures, round(heures_supp) AS heures_supp,
            CASE WHEN brut <= 0 THEN 'nul'
                 WHEN brut < 1500 THEN '< 1 500'
                 WHEN brut < 2500 THEN '1 500-2 499'
                 WHEN brut < 4000 THEN '2 500-3 999'
                 ELSE '>= 4 000' END AS tranche_brut
        FROM ind_base_dims WHERE {" AND ".join(where)}
        ORDER BY mois, contrat_id
        """,
        params,
    ).pl()
    return data.with_columns(
        rekey(request.key, data["salarie_id"]).alias("salarie_id"),
        rekey(request.key, data["contrat_id"]).alias("contrat_id"),
        rekey(request.key, data["etablissement_id"]).alias("etablissement_id"),
    )


def suppress_rare(
    data: pl.DataFrame, rules: Rules, quasi: Sequence[str] = QUASI
) -> tuple[pl.DataFrame, float]:
    """Local suppression: drop whole classes below k or l; returns rows kept and % persons lost.

    Refused (``ExtractRefused``) when more than ``suppression_max_pct`` % of persons would go.
    ``quasi``: the quasi-identifiers the release actually holds (all of them by default).
    """
    quasi = list(quasi)
    classes = data.group_by(quasi).agg(
        pl.col("salarie_id").n_unique().alias("_k"), pl.col(SENSITIVE).n_unique().alias("_l")
    )
    safe = classes.filter((pl.col("_k") >= rules.k) & (pl.col("_l") >= rules.l)).select(quasi)
    kept = data.join(safe, on=quasi, how="semi")
    before = data["salarie_id"].n_unique()
    lost = before - kept["salarie_id"].n_unique()
    share = 100.0 * lost / before if before else 0.0
    if share > rules.suppression_max_pct:
        raise ExtractRefused(
            f"diffusion refusée : la suppression des classes rares retirerait {share:.1f} % des "
            f"salariés (maximum {rules.suppression_max_pct:g} %). Élargissez les niveaux ou le "
            "périmètre."
        )
    return kept, share


def check(data: pl.DataFrame, rules: Rules, quasi: Sequence[str] = QUASI) -> Measure:
    """k-anonymity and l-diversity over ``quasi`` (the released quasi-identifiers)."""
    result = measure(data, list(quasi), "salarie_id", SENSITIVE, rules.k, rules.l)
    reasons = []
    if data.is_empty():
        raise ExtractRefused("diffusion refusée : le périmètre demandé ne contient aucune ligne")
    if result.k < rules.k:
        reasons.append(
            f"k-anonymat insuffisant : {result.below_k} classe(s) d'équivalence sur "
            f"{result.classes} comptent moins de {rules.k} salariés (minimum observé {result.k})"
        )
    if result.l < rules.l:
        reasons.append(
            f"l-diversité insuffisante : {result.below_l} classe(s) ont moins de {rules.l} "
            f"tranches de salaire distinctes (minimum observé {result.l})"
        )
    if reasons:
        example = ", ".join(f"{k}={v}" for k, v in (result.example or {}).items())
        raise ExtractRefused(
            "diffusion refusée : "
            + " ; ".join(reasons)
            + f". Classe la plus petite : {example}. Quasi-identifiants : {', '.join(quasi)}. "
            "Élargissez les niveaux (--naf-level, --geo-level, --age-level) ou le périmètre."
        )
    return result


def write(data: pl.DataFrame, request: ExtractRequest, rules: Rules, result: Measure,
          out: Path, quasi: Sequence[str] = QUASI) -> None:  # fmt: skip
    meta = {
        "format": "datadsn-extrait/1",
        "destinataire": request.recipient,
        "empreinte_cle": hashlib.sha256(b"datadsn-cle|" + request.key).hexdigest()[:12],
        "du": request.start,
        "au": request.end,
        "niveaux": {"naf": request.naf_level, "zone": request.geo_level, "age": request.age_level},
        "perimetre": {"naf": request.naf, "departements": request.departements},
        "quasi_identifiants": list(quasi),
        "attribut_sensible": SENSITIVE,
        "k_requis": rules.k,
        "l_requis": rules.l,
        "k_observe": result.k,
        "l_observe": result.l,
        "lignes": data.height,
        "genere_le": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        data.write_csv(out)
        out.with_name(out.name + ".meta.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    else:
        arrow = data.to_arrow().replace_schema_metadata(
            {b"datadsn": json.dumps(meta, ensure_ascii=False).encode("utf-8")}
        )
        pq.write_table(arrow, out)
