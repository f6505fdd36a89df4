"""A contract whose number changes and whose holder's identity key changes.

At 95,000 employees a month the comparison with the reference found such contracts split in
two (contract F1 0.99934): an employee's new key (corrected NIR, NIR obtained, NIR-less name
change) was declared with the contract's old number (« M » prefix), then the number changed
(S21.G00.41.014). The quality base held one contract, but the contract key declared under the
new identity with the old number never had an id recorded: its would-be id was silently folded
into the stored contract by the employee merge, so nothing in ``fusions`` led from that declared
key to its contract, and every declared line could not be resolved. Each case below is one
employee; the quality base must hold one employee and one contract, with every month's hours on
it, and every declared (employee key, contract key) must resolve to it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from tests.quality.scenario import Contrat, Salarie, Scenario, declaration

SIRET = "12345678200012"
DEBUT = "2020-01-01"
OLD_NIR, NEW_NIR = "1850575123456", "1850575123499"
MONTHS = ("2023-01", "2023-02", "2023-03", "2023-04")
IDENTITY_MONTH = "2023-02"


def _contrat(month: str, number_month: str, block: bool) -> Contrat:
    if month < number_month:
        return Contrat("M000123", DEBUT)
    c = Contrat("000123", DEBUT)
    if month == number_month and block:
        c.changements = [{"date": f"{month}-01", "numero": "M000123"}]
    return c


def _nir_corrected(month: str, contrat: Contrat) -> Salarie:
    if month < IDENTITY_MONTH:
        return Salarie(OLD_NIR, contrats=[contrat])
    ch = [{"date": f"{IDENTITY_MONTH}-01", "nir": OLD_NIR}] if month == IDENTITY_MONTH else []
    return Salarie(NEW_NIR, contrats=[contrat], changements=ch)


def _nir_obtained(month: str, contrat: Contrat) -> Salarie:
    return Salarie(None if month < IDENTITY_MONTH else NEW_NIR, contrats=[contrat])


def _name_change_without_nir(month: str, contrat: Contrat) -> Salarie:
    if month < IDENTITY_MONTH:
        return Salarie(None, "DURAND", contrats=[contrat])
    ch = [{"date": f"{IDENTITY_MONTH}-01", "nom": "DURAND"}] if month == IDENTITY_MONTH else []
    return Salarie(None, "MARTIN", contrats=[contrat], changements=ch)


CASES = {
    "nir_corrige": _nir_corrected,
    "nir_obtenu": _nir_obtained,
    "nom_change_sans_nir": _name_change_without_nir,
}


def _run(tmp_path: Path, case: str, number_month: str, block: bool = True) -> Scenario:
    sc = Scenario(tmp_path)
    for month in MONTHS:
        salarie = CASES[case](month, _contrat(month, number_month, block))
        sc.run(month, declaration(month, SIRET, salaries=[salarie]))
    return sc


def _declared_keys_resolved(sc: Scenario) -> dict[tuple[str, str], str]:
    """Each declared (employee key, contract key) -> the live contract id it resolves to: the id
    its key was given (hash of SIRET, employee key, contract key), through ``fusions``."""
    con = duckdb.connect()
    keys = con.execute(
        f"""SELECT DISTINCT coalesce(i.nir_pseudo, concat('~',
                   coalesce(i.nom_famille_pseudo, ''), '|', coalesce(i.prenoms_pseudo, ''), '|',
                   coalesce(i.date_naissance_pseudo, ''))),
                   concat(c.numero_contrat, '_', cast(c.date_debut AS varchar))
            FROM {sc.store.scan_sql("contrat")} c
            JOIN {sc.store.scan_sql("individu")} i
              ON i.fichier = c.fichier AND i.ligne = c.individu_ligne"""
    ).fetchall()
    survivors = {f["id_absorbe"]: f["id_survivant"] for f in sc.table("fusions")}
    resolved = {}
    for salarie_key, contrat_key in keys:
        text = f"contrat|{SIRET}|{salarie_key}|{contrat_key}"
        own = hashlib.md5(text.encode()).hexdigest()[:16]
        resolved[(salarie_key[:8], contrat_key)] = survivors.get(own, own)
    return resolved


@pytest.mark.parametrize("number_month", ["2023-02", "2023-03"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_number_and_identity_change_keep_one_contract(
    tmp_path: Path, case: str, number_month: str
) -> None:
    sc = _run(tmp_path, case, number_month)
    salaries, contrats = sc.table("salaries"), sc.table("contrats")
    assert len(salaries) == 1, salaries
    assert [c["contrat_key"] for c in contrats] == ["000123_2020-01-01"]
    (contrat,) = contrats
    assert contrat["statut_fin"] is None
    hours = {(a["contrat_id"], str(a["mois"])) for a in sc.table("activites")}
    assert hours == {(contrat["contrat_id"], f"{m}-01") for m in MONTHS}
    resolved = _declared_keys_resolved(sc)
    # old identity + old number, (new identity + old number when the number changes later),
    # new identity + new number
    assert len(resolved) == (2 if number_month == IDENTITY_MONTH else 3)
    assert set(resolved.values()) == {contrat["contrat_id"]}, resolved


def test_number_change_without_block_is_inferred(tmp_path: Path) -> None:
    """Without a contract change block, « M000123 » stops and « 000123 » starts with the same
    start date under the same (merged) employee: inferred as a number change."""
    sc = _run(tmp_path, "nir_corrige", "2023-03", block=False)
    assert len(sc.table("salaries")) == 1
    (contrat,) = sc.table("contrats")
    assert contrat["contrat_key"] == "000123_2020-01-01"
    motifs = {f["motif"] for f in sc.table("fusions") if f["entite"] == "contrat"}
    assert "numero_change" in motifs
