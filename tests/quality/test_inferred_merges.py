"""Merges inferred without a change block (issue 22, the hard noise profile): each rule needs a
key first declared in the run and an old key no longer declared since before it, so two live
identities or contracts are never merged."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datadsn.quality.snapshot import snapshot_dir
from tests.quality.scenario import Contrat, Salarie, Scenario, declaration

SIRET = "12345678200012"
OLD_NIR, NEW_NIR = "1850575123456", "2850575123499"


def _months(sc: Scenario, *per_month: list[Salarie]) -> None:
    for i, salaries in enumerate(per_month):
        month = f"2023-0{i + 1}"
        sc.run(month, declaration(month, SIRET, salaries=salaries))


def _motifs(sc: Scenario, entite: str) -> set[str]:
    return {f["motif"] for f in sc.table("fusions") if f["entite"] == entite}


def test_nir_corrected_without_block_merges_on_names(tmp_path: Path) -> None:
    """A rehire under a corrected NIR (no 31.008): same names and birth date, new contract."""
    sc = Scenario(tmp_path)
    old = Salarie(OLD_NIR, contrats=[Contrat("C0001", "2022-01-01")])
    new = Salarie(NEW_NIR, contrats=[Contrat("C0002", "2023-02-01")])
    _months(sc, [old], [new], [new])
    assert len(sc.table("salaries")) == 1
    assert _motifs(sc, "salarie") == {"nir_corrige"}


def test_two_live_namesakes_are_not_merged(tmp_path: Path) -> None:
    sc = Scenario(tmp_path)
    a = Salarie(OLD_NIR, contrats=[Contrat("C0001", "2022-01-01")])
    b = Salarie(NEW_NIR, contrats=[Contrat("C0002", "2023-02-01")])
    _months(sc, [a], [a, b], [a, b])
    assert len(sc.table("salaries")) == 2
    assert sc.table("fusions") == []


def test_name_change_without_nir_nor_block_merges_on_the_contract(tmp_path: Path) -> None:
    """No NIR, new name, no block: the open contract (number, start) continues under it."""
    sc = Scenario(tmp_path)
    before = Salarie(None, "DURAND", contrats=[Contrat("C0001", "2022-01-01")])
    after = Salarie(None, "MARTIN", contrats=[Contrat("C0001", "2022-01-01")])
    _months(sc, [before], [after], [after])
    assert len(sc.table("salaries")) == 1 and len(sc.table("contrats")) == 1
    assert _motifs(sc, "salarie") == {"contrat_repris"}


def _rehired(old_matricule: str, new_matricule: str, **new: str) -> list[list[Salarie]]:
    """Employed in January under one identity, rehired in March under another, no block."""
    old = Salarie(OLD_NIR, matricule=old_matricule, contrats=[Contrat("C0001", "2022-01-01")])
    fields = {"nom": "MARTIN", "naissance": "17081967", **new}
    after = Salarie(NEW_NIR, matricule=new_matricule, contrats=[Contrat("C0002", "2023-03-06")],
                    **fields)  # fmt: skip
    return [[old], [], [after], [after]]


def test_a_whole_new_identity_rehired_under_its_matricule_merges(tmp_path: Path) -> None:
    """NIR, name and birth date all changed, no block, no open contract: only the payroll's
    employee number (30.019), kept across the rehire, links the two."""
    sc = Scenario(tmp_path)
    _months(sc, *_rehired("A042", "A042"))
    assert len(sc.table("salaries")) == 1
    assert _motifs(sc, "salarie") == {"matricule_repris"}


@pytest.mark.parametrize(
    ("new_matricule", "new"),
    [("A043", {}), ("A042", {"prenoms": "ODILE"})],
    ids=["numero_different", "aucun_champ_commun"],
)
def test_a_matricule_alone_or_a_new_one_merges_nothing(
    tmp_path: Path, new_matricule: str, new: dict[str, str]
) -> None:
    """A new number says nothing; an old number given to someone sharing no field (NIR,
    names, birth date) is someone else."""
    sc = Scenario(tmp_path)
    _months(sc, *_rehired("A042", new_matricule, **new))
    assert len(sc.table("salaries")) == 2
    assert sc.table("fusions") == []


def test_two_live_employees_sharing_a_matricule_are_not_merged(tmp_path: Path) -> None:
    sc = Scenario(tmp_path)
    a = Salarie(OLD_NIR, matricule="A042", contrats=[Contrat("C0001", "2022-01-01")])
    b = Salarie(NEW_NIR, "MARTIN", matricule="A042", contrats=[Contrat("C0002", "2023-02-01")])
    _months(sc, [a], [a, b], [a, b])
    assert len(sc.table("salaries")) == 2


def test_snapshots_written_before_the_matricule_still_read(tmp_path: Path) -> None:
    """Employees published before ``salaries.matricule`` existed, in the working file and in
    the archive: the column reads as NULL (no merge by number) instead of failing the run."""
    sc = Scenario(tmp_path)
    a = Salarie(OLD_NIR, matricule="A042", contrats=[Contrat("C0001", "2022-01-01")])
    b = Salarie(NEW_NIR, "MARTIN", "ODILE", "17081967", contrats=[Contrat("C0002", "2022-01-01")])
    _months(sc, [a, b], [b])  # a is archived in February
    folder = snapshot_dir(sc.store, "2023-02")
    for path in [folder / "salaries.parquet", *(folder / "salaries_archives").glob("*.parquet")]:
        older = path.with_suffix(".old")
        duckdb.execute(
            f"COPY (SELECT * EXCLUDE (matricule) FROM '{path}') TO '{older}' (FORMAT parquet)"
        )
        path.unlink()  # hard-linked into later snapshots: replaced, not rewritten in place
        older.rename(path)
    back = Salarie(OLD_NIR, "DUPONT", matricule="A042", contrats=[Contrat("C0003", "2023-03-06")])
    sc.run("2023-03", declaration("2023-03", SIRET, salaries=[back, b]))
    assert len(sc.table("salaries")) == 2  # a came back under its NIR key
    assert sc.table("fusions") == []


@pytest.mark.parametrize("matricule", [None, "A042"], ids=["sans_matricule", "matricule"])
@pytest.mark.parametrize("contrat", ["C0001", "C0002"], ids=["meme_contrat", "nouveau_contrat"])
def test_a_nir_missing_for_a_month_under_a_new_name_is_one_employee(
    tmp_path: Path, matricule: str | None, contrat: str
) -> None:
    """Declared with its NIR, then a month without it under a new name, then with it again.
    Merged in February into the NIR-less key (contrat_repris, matricule_repris), the NIR's key
    came back in March under the id the merge had kept: two rows with one id. The NIR-less key
    now waits for the NIR, and nir_obtenu merges it when it is back."""
    sc = Scenario(tmp_path)
    debut = "2022-01-01" if contrat == "C0001" else "2023-02-06"
    jan = Salarie(OLD_NIR, "DURAND", matricule=matricule, contrats=[Contrat("C0001", "2022-01-01")])
    feb = Salarie(None, "MARTIN", matricule=matricule, contrats=[Contrat(contrat, debut)])
    mar = Salarie(OLD_NIR, "MARTIN", matricule=matricule, contrats=[Contrat(contrat, debut)])
    _months(sc, [jan], [feb], [mar])
    ids = [r["salarie_id"] for r in sc.table("salaries")]
    assert len(ids) == 1, ids


def test_a_contract_number_shared_by_two_live_employees_merges_nothing(tmp_path: Path) -> None:
    sc = Scenario(tmp_path)
    a = Salarie(None, "DURAND", contrats=[Contrat("C0001", "2022-01-01")])
    b = Salarie(None, "MARTIN", contrats=[Contrat("C0001", "2022-01-01")])
    _months(sc, [a], [a, b])
    assert len(sc.table("salaries")) == 2 and len(sc.table("contrats")) == 2


def test_two_open_contracts_with_one_start_date_stay_two(tmp_path: Path) -> None:
    sc = Scenario(tmp_path)
    one = Contrat("C0001", "2022-01-01")
    two = Contrat("C0002", "2022-01-01")
    _months(sc, [Salarie(contrats=[one])], [Salarie(contrats=[one, two])])
    assert len(sc.table("contrats")) == 2


def test_namesakes_one_leaving_one_arriving_are_not_merged(tmp_path: Path) -> None:
    """Same names and birth date, one leaving in January, the other arriving in April after
    working elsewhere under its NIR: two people (found at 300 employers x 24 months)."""
    sc = Scenario(tmp_path)
    a = Salarie(OLD_NIR, contrats=[Contrat("C0001", "2022-01-01")])
    b = Salarie(NEW_NIR, contrats=[Contrat("C0002", "2022-06-01")])
    for i, here in enumerate(([a], [], [], [b])):
        month = f"2023-0{i + 1}"
        sc.ingest(declaration(month, "98765432100019", salaries=[b]))
        sc.run(month, declaration(month, SIRET, salaries=here))
    assert len([s for s in sc.table("salaries") if s["siret"] == SIRET]) == 2


def test_a_nir_corrected_months_later_still_merges(tmp_path: Path) -> None:
    """An interim worker back at the agency five months later, under a corrected NIR that was
    never declared before the old one stopped."""
    sc = Scenario(tmp_path)
    old = Salarie(OLD_NIR, contrats=[Contrat("C0001", "2023-01-02")])
    new = Salarie(NEW_NIR, contrats=[Contrat("C0002", "2023-06-01")])
    _months(sc, [old], [], [], [], [], [new])
    assert len(sc.table("salaries")) == 1
    assert _motifs(sc, "salarie") == {"nir_corrige"}


def test_a_fixed_term_contract_broken_off_silently_ends_on_its_last_paid_day(
    tmp_path: Path,
) -> None:
    """A CDD planned to end on 20 February, paid to 10 February, then never declared again and
    without an end block: it ended on the 10th, not on its planned end (the hard profile's
    forgotten ends of broken-off CDD; the reference takes the planned end)."""
    from tests.quality.scenario import Rem

    sc = Scenario(tmp_path)
    cdd = Contrat("C0001", "2023-01-02", "02", fin_previsionnelle="2023-02-20")
    broken = Contrat("C0001", "2023-01-02", "02", fin_previsionnelle="2023-02-20", heures=None)
    broken.rems = [Rem("2023-02-01", "2023-02-10", activites=[("01", "56.00", "10")])]
    other = Salarie(NEW_NIR, "AUTRE", contrats=[Contrat("C0002", "2022-01-01")])
    _months(sc, [Salarie(contrats=[cdd]), other], [Salarie(contrats=[broken]), other])
    for month in ("2023-03", "2023-04", "2023-05"):
        sc.run(month, declaration(month, SIRET, salaries=[other]))
    (c,) = [c for c in sc.table("contrats") if c["numero"] == "C0001"]
    assert (c["statut_fin"], str(c["date_fin_effective"])) == (1, "2023-02-10")


def test_a_nir_corrected_in_one_establishment_then_declared_in_another_merges(
    tmp_path: Path,
) -> None:
    """Corrected without a block where she works (merged by nir_corrige in March), then back in
    May in an establishment that knew only the old NIR: the merged row keeps the old NIR's first
    declaration, which must not pass for the new NIR's (300 employers x 24 months, hard noise)."""
    other = "98765432100019"
    sc = Scenario(tmp_path)
    old = Salarie(OLD_NIR, contrats=[Contrat("C0001", "2022-01-03")])
    new = Salarie(NEW_NIR, contrats=[Contrat("C0001", "2022-01-03")])
    back = Salarie(NEW_NIR, contrats=[Contrat("C0009", "2023-05-02")])
    earlier = Salarie(OLD_NIR, contrats=[Contrat("C0005", "2022-11-02")])
    plan = [([old], [earlier]), ([old], []), ([new], []), ([new], []), ([new], [back])]
    for i, (here, there) in enumerate(plan):
        month = f"2023-0{i + 1}"
        files = [declaration(month, SIRET, salaries=here)]
        if there:
            files.append(declaration(month, other, salaries=there))
        sc.run(month, *files)
    assert len([s for s in sc.table("salaries") if s["siret"] == other]) == 1
    assert len([s for s in sc.table("salaries") if s["siret"] == SIRET]) == 1


@pytest.mark.xfail(
    strict=True,
    reason="issue 22: refuted nir_corrige merges are not undone (docs/consolidation.md)",
)
def test_a_namesake_merged_by_nir_corrige_is_split_when_the_old_nir_comes_back(
    tmp_path: Path,
) -> None:
    """Same names and birth date: one on a one-day CDD ended in January, the other hired here in
    February under his own NIR (merged: indistinguishable from a corrected NIR, whose cases at
    default noise are all such rehires), then the old NIR declared again in March elsewhere,
    which refutes the correction (2,000 employers x 6 months, default noise)."""
    other = "98765432100019"
    sc = Scenario(tmp_path)
    left = Salarie(
        OLD_NIR, contrats=[Contrat("C0001", "2023-01-24", "03", fin=("2023-01-24", "032"))]
    )
    hired = Salarie(NEW_NIR, contrats=[Contrat("C0002", "2023-02-16", "03")])
    back = Salarie(OLD_NIR, contrats=[Contrat("C0005", "2023-03-02", "03")])
    sc.run("2023-01", declaration("2023-01", SIRET, salaries=[left]))
    sc.run("2023-02", declaration("2023-02", SIRET, salaries=[hired]))
    sc.run(
        "2023-03",
        declaration("2023-03", SIRET, salaries=[hired]),
        declaration("2023-03", other, salaries=[back]),
    )
    assert len([s for s in sc.table("salaries") if s["siret"] == SIRET]) == 2
