"""A small monthly release written in the layout of ``datadsn indicators release`` (the contract
the portal reads): ``publications/<YYYY-MM>`` links to an immutable version directory holding
``release.json`` and one long Parquet file per indicator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from datadsn.indicators.catalogue import CATALOGUE, get

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
CATEGORIES = {
    "region": [("32", "Hauts-de-France"), ("11", "Île-de-France")],
    "departement": [("59", "Nord"), ("62", "Pas-de-Calais"), ("75", "Paris")],
    "naf_section": [
        ("C", "Industrie manufacturière"),
        ("G", "Commerce"),
        ("I", "Hébergement et restauration"),
    ],
    "sexe": [("01", "Masculin"), ("02", "Féminin")],
}
# A masked cell keeps this value in the file (as a faulty release would): the portal must never
# serve it. Released files hold NULL there; the planted value proves the portal empties it itself.
LEAK = 987654.0
MASKED = {("departement", "62"), ("naf_section", "I"), ("region", "11")}
MASKED_MONTH = "2024-03"  # the national series has one masked month too


def _rows(code: str, unit: str, base: float) -> list[dict[str, Any]]:
    rows = []
    for i, month in enumerate(MONTHS):
        national_masked = month == MASKED_MONTH
        rows.append(
            dict(indicateur=code, periode=month, dimension="national", code=None, libelle=None,
                 valeur=LEAK if national_masked else base + 10 * i, unite=unit,
                 statut="masque_primaire" if national_masked else "publie")
        )  # fmt: skip
        for dim, cats in CATEGORIES.items():
            for k, (cat, label) in enumerate(cats):
                masked = (dim, cat) in MASKED
                status = "masque_secondaire" if dim == "naf_section" else "masque_primaire"
                rows.append(
                    dict(indicateur=code, periode=month, dimension=dim, code=cat, libelle=label,
                         valeur=LEAK if masked else base / (k + 2) + i, unite=unit,
                         statut=status if masked else "publie")
                )  # fmt: skip
    return rows


def write_release(warehouse: Path, month: str = "2024-12", version: int = 1) -> Path:
    folder = Path(warehouse) / "publications" / "versions" / f"{month}-v{version}"
    folder.mkdir(parents=True)
    entries = []
    for ind, base in ((c, b) for c, b in zip(CATALOGUE[:2], (12000.0, 11500.0), strict=True)):
        name = f"{ind.code}.parquet"
        df = pl.DataFrame(_rows(ind.code, ind.unite, base), schema_overrides={"valeur": pl.Float64})
        df.write_parquet(folder / name)
        entries.append(
            {"code": ind.code, "titre": ind.titre, "unite": ind.unite, "definition": ind.definition,
             "precautions": list(ind.precautions), "dimensions": ["national", *CATEGORIES],
             "fichier": name}
        )  # fmt: skip
    # A share along one dimension only (no national value), as REPARTITION_CONTRATS is released.
    share = get("REPARTITION_CONTRATS")
    rows = [
        dict(indicateur=share.code, periode=month_, dimension="nature_contrat", code=cat,
             libelle=label, valeur=value, unite=share.unite, statut="publie")
        for month_ in MONTHS
        for cat, label, value in (("01", "CDI", 70.0), ("02", "CDD", 30.0))
    ]  # fmt: skip
    pl.DataFrame(rows).write_parquet(folder / f"{share.code}.parquet")
    entries.append(
        {"code": share.code, "titre": share.titre, "unite": share.unite,
         "definition": share.definition, "precautions": [], "dimensions": ["nature_contrat"],
         "fichier": f"{share.code}.parquet"}
    )  # fmt: skip
    meta = {
        "format": "datadsn-publication/1", "mois": month, "version": version,
        "cree_le": "2025-01-15T08:00:00+00:00", "du": MONTHS[0], "au": MONTHS[-1],
        "regles": {"frequence_salaries": 3}, "audit": {"cases_masquees": 4, "exposees": 0},
        "indicateurs": entries,
    }  # fmt: skip
    (folder / "release.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    link = Path(warehouse) / "publications" / month
    link.symlink_to(folder.relative_to(link.parent), target_is_directory=True)
    return link
