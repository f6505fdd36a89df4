"""The public sample files of the shared corpus, ingested as a directory and consolidated: the
path a user takes with files from elsewhere (several norm versions, signalements, defects)."""

from __future__ import annotations

from pathlib import Path

import pytest

from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.run import ingest
from datadsn.quality.consolidate import ConsolidationError, consolidate, pending_months
from datadsn.quality.inputs import raw_months
from tests.quality.scenario import Scenario


def test_the_corpus_directory_ingests_and_consolidates(
    samples: Path, secret: Secret, tmp_path: Path
) -> None:
    store = Warehouse(tmp_path / "warehouse")
    summary = ingest([samples], store, secret, workers=1)  # one batch: norms P03 to P26
    assert summary.reconciled and summary.declarations_rejected > 0
    assert summary.rejections.get("ETABLISSEMENT_MULTIPLE", 0) >= 1
    # The raw months are January 2017 (the ADP sample) and December 2025. A first run may start
    # at December 2025: January 2017 is more than 72 months before it (reported, left out). A
    # month the raw store does not hold (May 2024) may not start the history.
    assert raw_months(store) == ["2017-01", "2025-12"]
    with pytest.raises(ConsolidationError, match=r"mois 2024-05 : aucun instantané publié"):
        consolidate(store, "2024-05")
    first = consolidate(store, "2025-12", refresh_catalog=False)
    assert first.beyond_retention == 1
    assert pending_months(store, "2026-01") == ["2026-01"]  # the month after the last snapshot
    consolidate(store, "2025-12")  # run again: the same result, and the catalogue
    sc = Scenario(tmp_path)
    contrats = sc.table("contrats")
    # the three contract-end signalements (nature 07, no declared month) of December 2025
    ends = sorted(str(c["date_fin_effective"]) for c in contrats if c["statut_fin"] == 2)
    assert ends == ["2025-12-18", "2025-12-18", "2025-12-23"]
    december = [d for d in sc.table("declarations") if str(d["mois"]) == "2025-12-01"]
    assert len(december) == 3
