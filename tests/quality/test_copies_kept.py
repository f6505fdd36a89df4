"""The temporary workers' copies of the keys a run cannot change are the previous snapshot's
(``int_copies_cles``): what every snapshot publishes is the same as when every copy is computed
again (``salaries_archive.KEEP_COPIES = False``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from datadsn.bench.fresh import differing_tables
from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.run import ingest
from datadsn.quality import salaries_archive
from datadsn.quality.consolidate import consolidate
from datadsn.simulate import simulate
from tests.quality.scenario import SECRET, Contrat, Salarie, Scenario, declaration, nir_key

A = "11111111100011"  # user establishment of the first mission
B = "22222222200022"  # user establishment of the last mission
T = "44444444400044"  # temporary-work agency, NAF 7820Z
WORKER = "2850575104104"
OTHER = "1850575106106"  # keeps T declaring while the worker is away
MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05"]
FIRST = Contrat("T0001", "2023-01-02", "03", ("2023-01-20", "058"), siret_utilisateur=A)


def month_declarations(month: str) -> list[list]:
    """The worker's January mission in A ends and is settled; nobody declares the worker in
    February and March (its row and its copy in A are archived and kept); April's declaration
    reopens the same mission (same number and start, a later end); May places it in B."""
    placed = {
        "2023-01": [FIRST],
        "2023-04": [
            Contrat("T0001", "2023-01-02", "03", ("2023-04-15", "058"), siret_utilisateur=A)
        ],
        "2023-05": [Contrat("T0003", "2023-05-02", "03", siret_utilisateur=B)],
    }
    agency = [Salarie(OTHER, "SIX", "FAY", "06011980", [Contrat("S0006", "2020-01-01")])]
    if month in placed:
        agency.append(Salarie(WORKER, "QUATRE", "DAN", "04011980", placed[month]))
    staff = [Salarie("1850575101101", "UN", "ALAIN", "01011980", [Contrat("P0001", "2020-01-01")])]
    return [
        declaration(month, A, staff),
        declaration(month, B, [Salarie("1850575105105", "CINQ", "EVE", "05011980")]),
        declaration(month, T, agency, naf="7820Z"),
    ]


def _copies(sc: Scenario, month: str) -> dict[str, str]:
    """User establishment -> date of last declaration of the worker's copies."""
    return {
        r["siret"]: str(r["date_derniere_declaration"])
        for r in sc.table("salaries", month)
        if r["allocated_from_ett"] and r["salarie_key"] == nir_key(WORKER)
    }


def test_a_settled_mission_reopened_later_gives_the_copies_of_a_whole_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept, whole = Scenario(tmp_path / "kept"), Scenario(tmp_path / "whole")
    for month in MONTHS:
        sent = kept.write(*month_declarations(month))  # the same file: ids name it
        for sc in (kept, whole):
            ingest([sent], sc.store, SECRET, workers=1)
        consolidate(kept.store, month, threads=2)
        with monkeypatch.context() as m:
            m.setattr(salaries_archive, "KEEP_COPIES", False)
            consolidate(whole.store, month, threads=2)
        assert differing_tables(kept.store, whole.store, month) == [], month
    # the copy in A kept while the worker is away, then rebuilt from April's declaration
    assert _copies(kept, "2023-03") == {A: "2023-01-01"}
    assert _copies(kept, "2023-04") == {A: "2023-04-01"}
    assert _copies(kept, "2023-05") == {A: "2023-05-01", B: "2023-05-01"}
    contrats = kept.table("contrats", "2023-04")
    ends = {str(c["date_fin_declaree"]) for c in contrats if c["numero"] == "T0001"}
    assert ends == {"2023-04-15"}


@pytest.mark.slow
def test_kept_copies_publish_what_a_whole_rebuild_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate(tmp_path / "sim", employers=150, months="2023-01..2023-05", seed=5, write_dsnp3=False)
    kept, whole = Warehouse(tmp_path / "kept"), Warehouse(tmp_path / "whole")
    for store in (kept, whole):
        ingest([tmp_path / "sim" / "dsn"], store, Secret(b"k" * 32, demo=False))
    for month in ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05"]:
        consolidate(kept, month, refresh_catalog=False)
        with monkeypatch.context() as m:
            m.setattr(salaries_archive, "KEEP_COPIES", False)
            consolidate(whole, month, refresh_catalog=False)
        assert differing_tables(kept, whole, month) == [], month
