"""Pseudonymised microdata at contract-month level for one recipient.

- scope: a window of months, optional NAF prefixes and départements;
- pseudonyms re-keyed per recipient: HMAC-SHA256(recipient key, stored pseudonym), so two
  recipients' files cannot be joined on identifiers;
- generalisation: age band, NAF level, département or région, gross pay band, hours and overtime
  in bands (hours are quasi-identifiers: exact hours made a quarter of persons unique);
- the establishment pseudonym only where the establishment passes the table rules in its
  NAF × zone cell (employees, establishments, enterprises, dominance), empty elsewhere;
- a k-anonymity / l-diversity check that refuses the release (in French, with the reason) when
  the configured k or l is not reached, measured
  * per month: the classes are (month, quasi-identifiers), not pooled over the window;
  * over the trajectory: a person's whole sequence of (month, quasi-identifiers), which the
    recipient can rebuild from the pseudonym, is shared by at least k persons;
  * against re-linkage: two recipients' files of the same population differ in their
    pseudonyms only; a row of one matches at least k persons of the other on every other
    column (month, quasi-identifiers and the sensitive band).
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

QUASI = ("sexe", "tranche_age", "naf", "zone", "nature_contrat", "heures", "heures_supp")
SENSITIVE = "tranche_brut"
PERSON = "salarie_id"
# Pseudonyms: they link rows of one file, never two recipients' files.
IDENTIFIERS = ("salarie_id", "contrat_id", "etablissement_id")
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


def build(session: Session, request: ExtractRequest, rules: Rules | None = None) -> pl.DataFrame:
    if request.naf_level not in NAF_LEVELS or request.geo_level not in GEO_LEVELS:
        raise ValueError("niveau de NAF ou de géographie inconnu")
    if request.age_level not in AGE_LEVELS:
        raise ValueError("niveau d'âge inconnu")
    rules = rules or Rules()
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
    data = session.frame(
        f"""
        SELECT strftime(mois, '%Y-%m') AS mois, salarie_id, contrat_id, etablissement_id,
            d_sexe AS sexe, d_{request.age_level} AS tranche_age, d_{request.naf_level} AS naf,
            d_{request.geo_level} AS zone, d_nature_contrat AS nature_contrat,
            CASE WHEN heures IS NULL THEN 'inconnu'
                 WHEN heures <= 0 THEN '0'
                 WHEN heures < 70 THEN '< 70'
                 WHEN heures < 120 THEN '70-119'
                 WHEN heures < 151 THEN '120-150'
                 WHEN heures < 170 THEN '151-169'
                 ELSE '>= 170' END AS heures,
            CASE WHEN heures_supp IS NULL OR heures_supp <= 0 THEN '0'
                 WHEN heures_supp < 10 THEN '< 10'
                 ELSE '>= 10' END AS heures_supp,
            CASE WHEN brut <= 0 THEN 'nul'
                 WHEN brut < 1500 THEN '< 1 500'
                 WHEN brut < 2500 THEN '1 500-2 499'
                 WHEN brut < 4000 THEN '2 500-3 999'
                 ELSE '>= 4 000' END AS tranche_brut
        FROM ind_base_dims WHERE {" AND ".join(where)}
        ORDER BY mois, contrat_id
        """,
        params,
    )
    firms = session.frame("SELECT etablissement_id, entreprise FROM ind_dims_etablissement")
    data = mask_establishments(data.join(firms, on="etablissement_id", how="left"), rules)
    return data.with_columns(
        rekey(request.key, data["salarie_id"]).alias("salarie_id"),
        rekey(request.key, data["contrat_id"]).alias("contrat_id"),
        rekey(request.key, data["etablissement_id"]).alias("etablissement_id"),
    )


def mask_establishments(data: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    """Empty ``etablissement_id`` where its establishment's NAF × zone cell would be secret in a
    table (fewer than the minimum employees, establishments or enterprises, or one establishment
    with more than ``dominance_pct`` % of the employees): there the pseudonym singles the
    establishment out. Drops the ``entreprise`` column it needs."""
    cell = ["naf", "zone"]
    per = data.group_by(*cell, "etablissement_id").agg(pl.col(PERSON).n_unique().alias("_n"))
    cells = data.group_by(cell).agg(
        pl.col(PERSON).n_unique().alias("_sal"),
        pl.col("etablissement_id").n_unique().alias("_etab"),
        pl.col("entreprise").n_unique().alias("_ent"),
    )
    cells = cells.join(per.group_by(cell).agg(pl.col("_n").max().alias("_top")), on=cell)
    safe = cells.filter(
        (pl.col("_sal") >= rules.min_salaries)
        & (pl.col("_etab") >= rules.min_etablissements)
        & (pl.col("_ent") >= rules.min_entreprises)
        & (pl.col("_top") <= rules.dominance_pct / 100.0 * pl.col("_sal"))
    ).select(*cell, pl.lit(True).alias("_ok"))
    out = data.join(safe, on=cell, how="left")
    return out.with_columns(
        pl.when(pl.col("_ok")).then(pl.col("etablissement_id")).alias("etablissement_id")
    ).drop("_ok", "entreprise")


def _month_keys(data: pl.DataFrame, columns: Sequence[str]) -> list[str]:
    """Classes are per month when the data has months (never pooled over the window)."""
    return (["mois"] if "mois" in data.columns else []) + [c for c in columns if c != "mois"]


def _link_columns(data: pl.DataFrame, released: Sequence[str] | None) -> list[str]:
    """Every released column but the pseudonyms: what two recipients' files share."""
    cols = data.columns if released is None else [c for c in released if c in data.columns]
    return [c for c in cols if c not in IDENTIFIERS]


def trajectories(data: pl.DataFrame, quasi: Sequence[str]) -> pl.DataFrame:
    """One row per person: its sequence of (month, quasi-identifiers) and of sensitive values."""
    keys = _month_keys(data, quasi)

    def joined(cols: list[str]) -> pl.Expr:
        if not cols:
            return pl.lit("")
        return pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("") for c in cols], separator="|")

    sens = [c for c in ("mois", SENSITIVE) if c in data.columns]
    return data.group_by(PERSON).agg(
        joined(keys).unique().sort().str.join(";").alias("trajectoire"),
        joined(sens).unique().sort().str.join(";").alias("_sens"),
    )


def _measures(
    data: pl.DataFrame, rules: Rules, quasi: Sequence[str], released: Sequence[str] | None
) -> dict[str, tuple[Measure, list[str]]]:
    month = _month_keys(data, quasi)
    link = _month_keys(data, _link_columns(data, released))
    sensitive = SENSITIVE if SENSITIVE in data.columns else PERSON
    return {
        "mois": (measure(data, month, PERSON, sensitive, rules.k, rules.l), month),
        "trajectoire": (
            measure(trajectories(data, quasi), ["trajectoire"], PERSON, "_sens", rules.k, rules.l),
            ["trajectoire"],
        ),
        "reliaison": (measure(data, link, PERSON, sensitive, rules.k, 1), link),
    }


def suppress_rare(
    data: pl.DataFrame,
    rules: Rules,
    quasi: Sequence[str] = QUASI,
    released: Sequence[str] | None = None,
) -> tuple[pl.DataFrame, float]:
    """Local suppression: drop the rows of month classes below k or l, the persons of
    trajectories below k or l and the rows a second recipient could re-link to fewer than k
    persons, until none is left; returns rows kept and % persons lost.

    Refused (``ExtractRefused``) when more than ``suppression_max_pct`` % of persons would go.
    ``quasi``: the quasi-identifiers the release actually holds (all of them by default);
    ``released``: the columns it holds (all of them by default).
    """
    quasi = [c for c in quasi if c in data.columns]
    sensitive = SENSITIVE if SENSITIVE in data.columns else PERSON
    kept = data
    for _ in range(10):
        before = kept.height
        month = _month_keys(kept, quasi)
        link = _month_keys(kept, _link_columns(kept, released))
        for keys, l_min in ((month, rules.l), (link, 1)):
            if not keys:
                continue
            classes = kept.group_by(keys).agg(
                pl.col(PERSON).n_unique().alias("_k"), pl.col(sensitive).n_unique().alias("_l")
            )
            safe = classes.filter((pl.col("_k") >= rules.k) & (pl.col("_l") >= l_min))
            kept = kept.join(safe.select(keys), on=keys, how="semi", nulls_equal=True)
        paths = trajectories(kept, quasi)
        sizes = paths.group_by("trajectoire").agg(
            pl.len().alias("_k"), pl.col("_sens").n_unique().alias("_l")
        )
        good = paths.join(sizes, on="trajectoire").filter(
            (pl.col("_k") >= rules.k) & (pl.col("_l") >= rules.l)
        )
        kept = kept.join(good.select(PERSON), on=PERSON, how="semi")
        if kept.height == before:
            break
    before_n = data[PERSON].n_unique()
    lost = before_n - kept[PERSON].n_unique()
    share = 100.0 * lost / before_n if before_n else 0.0
    if share > rules.suppression_max_pct:
        raise ExtractRefused(
            f"diffusion refusée : la suppression des classes rares retirerait {share:.1f} % des "
            f"salariés (maximum {rules.suppression_max_pct:g} %). Élargissez les niveaux ou le "
            "périmètre."
        )
    return kept, share


_WHAT = {
    "mois": "classe(s) d'équivalence d'un mois",
    "trajectoire": "trajectoire(s) (suite des mois et quasi-identifiants d'un salarié)",
    "reliaison": "combinaison(s) de colonnes hors pseudonymes d'un mois (reliaison entre "
    "destinataires)",
}


def check(
    data: pl.DataFrame,
    rules: Rules,
    quasi: Sequence[str] = QUASI,
    released: Sequence[str] | None = None,
) -> Measure:
    """k-anonymity and l-diversity over ``quasi`` (the released quasi-identifiers) per month
    and over trajectories, and k against re-linkage on every released column but the
    pseudonyms. Returns the smallest k and l found."""
    if data.is_empty():
        raise ExtractRefused("diffusion refusée : le périmètre demandé ne contient aucune ligne")
    quasi = [c for c in quasi if c in data.columns]
    found = _measures(data, rules, quasi, released)
    reasons = []
    example: dict[str, str] | None = None
    for name, (m, _) in found.items():
        if m.k < rules.k:
            reasons.append(
                f"k-anonymat insuffisant : {m.below_k} {_WHAT[name]} sur {m.classes} comptent "
                f"moins de {rules.k} salariés (minimum observé {m.k})"
            )
            example = example or m.example
        if name != "reliaison" and m.l < rules.l:
            reasons.append(
                f"l-diversité insuffisante : {m.below_l} {_WHAT[name]} ont moins de {rules.l} "
                f"tranches de salaire distinctes (minimum observé {m.l})"
            )
            example = example or m.example
    if reasons:
        shown = ", ".join(f"{k}={v}" for k, v in (example or {}).items())
        raise ExtractRefused(
            "diffusion refusée : "
            + " ; ".join(reasons)
            + f". Classe la plus petite : {shown}. Quasi-identifiants : {', '.join(quasi)}. "
            "Élargissez les niveaux (--naf-level, --geo-level, --age-level) ou le périmètre."
        )
    month, path, link = (found[n][0] for n in ("mois", "trajectoire", "reliaison"))
    return Measure(
        k=min(month.k, path.k, link.k),
        l=min(month.l, path.l),
        classes=month.classes,
        below_k=0,
        below_l=0,
        example=month.example,
    )


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


def relinked(a: pl.DataFrame, b: pl.DataFrame) -> int:
    """Persons of ``a`` that a holder of both files links to a single person of ``b`` (two
    recipients' extracts: the pseudonyms differ, every other column is shared) on a month."""
    cols = [c for c in a.columns if c not in IDENTIFIERS and c in b.columns]
    sizes = b.group_by(cols).agg(pl.col(PERSON).n_unique().alias("_n"))
    unique = sizes.filter(pl.col("_n") == 1).select(cols)
    return a.join(unique, on=cols, how="semi", nulls_equal=True)[PERSON].n_unique()
