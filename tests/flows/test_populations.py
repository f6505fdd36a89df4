"""Populations by list: no delivery can be differenced with an earlier one, a single company is
not delivered unless the habilitation grants unit-level data.

The economy (seed 13) has a company of ten establishments and several of 25 to 40 employees.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

from datadsn.engine.warehouse import Warehouse
from datadsn.flows import ledger
from datadsn.flows.run import RunError, deliveries_root, run
from datadsn.flows.spec import parse
from datadsn.indicators.compute import Session
from tests.economy import consolidated_economy

from .conftest import hab_info

MONTH = "2023-02"


@pytest.fixture(scope="module")
def groups(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, list[str], list[float]]:
    """The warehouse, its enterprises (largest first) and their end-of-month headcounts."""
    store = consolidated_economy(
        tmp_path_factory.mktemp("listes"), employers=40, months=("2023-01", MONTH), seed=13
    )
    session = Session(store, threads=2)
    session.prepare(MONTH, MONTH, "mois")
    rows = session.con.execute(
        "SELECT e.entreprise, count(DISTINCT b.salarie_id) AS n, "
        "sum(CASE WHEN NOT b.copie_interim THEN b.present_fin ELSE 0 END) AS fin "
        "FROM ind_base AS b "
        "JOIN ind_dims_etablissement AS e ON e.etablissement_id = b.etablissement_id "
        "GROUP BY 1 ORDER BY n DESC, 1"
    ).fetchall()
    session.close()
    return store, [str(r[0]) for r in rows], [float(r[2]) for r in rows]


def _spec(name: str, hab: str, sirens: list[str]) -> Any:
    return parse(
        {
            "version": 1,
            "nom": name,
            "habilitation": hab,
            "perimetre": {"siren": sirens},
            "indicateurs": [{"code": "EFF_FIN", "dimensions": ["sexe"]}],
            "periodicite": "mois",
            "formats": ["csv"],
        }
    )


def _hab(reference: str, **scope: Any):
    base = {
        "indicateurs": ["EFF_FIN"],
        "extraction": {"population": "", "territoire": ""},
        "frequence": "mensuelle",
    }
    return hab_info(reference=reference, scope={**base, **scope})


def _total(folder) -> float | None:
    table = pl.read_csv(next(folder.glob("*.csv")))
    row = table.filter(pl.col("sexe") == "Ensemble").row(0, named=True)
    return row["valeur"]


def test_two_lists_differing_by_one_company_reveal_nothing(
    groups: tuple[Warehouse, list[str], list[float]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replay: lists of four and three companies of 25-40 employees, both published in full
    (3+ enterprises, no dominance); their totals' difference is the fourth company's headcount.
    Now the second list is refused, whichever habilitation asks for it."""
    store, firms, headcounts = groups
    four, three = firms[4:8], firms[4:7]
    with monkeypatch.context() as patch:  # the old behaviour: no ledger
        patch.setattr(ledger, "problems", lambda *args: [])
        a = run(_spec("liste-4", "H7", four), store, MONTH, _hab("H7"))
        b = run(_spec("liste-3", "H8", three), store, MONTH, _hab("H8"))
        assert a.folder is not None and b.folder is not None
        total_a, total_b = _total(a.folder), _total(b.folder)
        assert total_a is not None and total_b is not None  # both published
        assert total_a - total_b == headcounts[7] > 0  # the fourth company, by difference
    (deliveries_root(store) / ledger.LEDGER).unlink()
    run(_spec("liste-4", "H7", four), store, MONTH, _hab("H7"))
    with pytest.raises(RunError, match=r"population refusée.*ne diffère que sur 1 entreprise"):
        run(_spec("liste-3b", "H10", three), store, MONTH, _hab("H10"))
    assert not (deliveries_root(store) / "H10" / MONTH / "liste-3b").exists()
    # The same list again (another recipient, same scope) is the same population: delivered.
    again = run(_spec("liste-4b", "H11", four), store, MONTH, _hab("H11"))
    assert again.status == "livre"
    # Only delivered populations are recorded.
    entries = (deliveries_root(store) / ledger.LEDGER).read_text(encoding="utf-8").splitlines()
    assert {json.loads(e)["flux"] for e in entries} == {"liste-4", "liste-4b"}


def test_single_company_needs_a_unit_level_habilitation(
    groups: tuple[Warehouse, list[str], list[float]],
) -> None:
    """Replay: a flow on the company of ten establishments was delivered in clear (10 sites
    pass the 3-establishment rule). Now refused, unless the habilitation grants unit-level
    data, recorded on its scope."""
    store, firms, _ = groups
    with pytest.raises(RunError, match="1 entreprise"):
        run(_spec("groupe", "H12", firms[:1]), store, MONTH, _hab("H12"))
    granted = run(
        _spec("groupe", "H13", firms[:1]), store, MONTH, _hab("H13", donnees_unitaires=True)
    )
    assert granted.folder is not None and _total(granted.folder) is not None
