"""k-anonymity and l-diversity measures on a hand-made table."""

from __future__ import annotations

import polars as pl
import pytest

from datadsn.indicators.anonymity import measure
from datadsn.indicators.extract import (
    QUASI,
    ExtractRefused,
    check,
    mask_establishments,
    relinked,
    suppress_rare,
)
from datadsn.indicators.rules import Rules

QUASI_5 = ["sexe", "tranche_age", "naf", "zone", "nature_contrat"]


def _table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "salarie_id": ["a", "a", "b", "c", "d", "e"],
            "sexe": ["01", "01", "01", "01", "02", "02"],
            "tranche_age": ["25-49 ans"] * 6,
            "naf": ["C"] * 6,
            "zone": ["11"] * 6,
            "nature_contrat": ["01"] * 6,
            "tranche_brut": ["< 1 500", "< 1 500", "1 500-2 499", "< 1 500", "nul", "nul"],
        }
    )


def test_measure_counts_persons_not_rows() -> None:
    quasi = ["sexe", "tranche_age", "naf", "zone", "nature_contrat"]
    m = measure(_table(), quasi, "salarie_id", "tranche_brut", k_min=3, l_min=2)
    assert (m.k, m.l, m.classes, m.below_k, m.below_l) == (2, 1, 2, 1, 1)
    assert m.example == {"sexe": "02", "tranche_age": "25-49 ans", "naf": "C", "zone": "11",
                         "nature_contrat": "01"}  # fmt: skip


def test_check_refuses_with_reasons_in_french() -> None:
    with pytest.raises(ExtractRefused) as info:
        check(_table(), Rules(k=3, l=2))
    text = str(info.value)
    assert "k-anonymat insuffisant" in text and "l-diversité insuffisante" in text
    assert "sexe=02" in text
    # b is alone with its pay band: a second recipient's file re-links it (see below).
    with pytest.raises(ExtractRefused, match="reliaison"):
        check(_table(), Rules(k=2, l=1))
    assert check(_table(), Rules(k=2, l=1), released=QUASI_5).k == 2


def test_local_suppression_drops_rare_classes_within_the_limit() -> None:
    lax = Rules(k=2, l=1, suppression_max_pct=50)
    kept, share = suppress_rare(_table(), lax, released=QUASI_5)
    assert set(kept["salarie_id"]) == {"a", "b", "c", "d", "e"} and share == 0.0
    kept, share = suppress_rare(_table(), lax)  # with the pay band released, b goes
    assert set(kept["salarie_id"]) == {"a", "c", "d", "e"} and share == pytest.approx(20.0)
    kept, share = suppress_rare(_table(), Rules(k=3, l=1, suppression_max_pct=50), QUASI_5, QUASI_5)
    assert set(kept["salarie_id"]) == {"a", "b", "c"} and share == pytest.approx(40.0)
    assert check(kept, Rules(k=3, l=1), QUASI_5, QUASI_5).k == 3
    with pytest.raises(ExtractRefused, match=r"retirerait 40\.0 %"):
        suppress_rare(_table(), Rules(k=3, l=1, suppression_max_pct=5), QUASI_5, QUASI_5)


def _months() -> pl.DataFrame:
    """Ten persons in January; in February only a of the five men, and the five women."""
    rows = [("2023-01", p, "01") for p in "abcde"] + [("2023-01", p, "02") for p in "fghij"]
    rows += [("2023-02", "a", "01")] + [("2023-02", p, "02") for p in "fghij"]
    return pl.DataFrame(rows, schema=["mois", "salarie_id", "sexe"], orient="row").with_columns(
        tranche_brut=pl.lit("< 1 500")
    )


def test_k_is_per_month_and_over_the_trajectory() -> None:
    """Replay: pooled over the window every class holds 5 persons (the old check passed), yet
    February's men are a alone, and so is a's trajectory."""
    data, rules = _months(), Rules(k=5, l=1)
    assert measure(data, ["sexe"], "salarie_id", "tranche_brut", 5, 1).k == 5  # pooled
    with pytest.raises(ExtractRefused) as info:
        check(data, rules, ["sexe"])
    text = str(info.value)
    assert "d'un mois" in text and "trajectoire" in text
    # Suppression drops a's February row: a's trajectory is then the other men's.
    kept, share = suppress_rare(data, rules, ["sexe"])
    assert kept.height == data.height - 1 and share == 0.0
    assert kept.filter((pl.col("mois") == "2023-02") & (pl.col("sexe") == "01")).is_empty()
    assert check(kept, rules, ["sexe"]).k == 5


def test_hours_are_quasi_identifiers() -> None:
    """Replay: five men alike on the old quasi-identifiers, one of them part-time."""
    data = pl.DataFrame(
        {
            "mois": ["2023-01"] * 5,
            "salarie_id": list("abcde"),
            "sexe": ["01"] * 5,
            "heures": ["151-169"] * 4 + ["< 70"],
            "tranche_brut": ["< 1 500", "1 500-2 499"] * 2 + ["< 1 500"],
        }
    )
    rules = Rules(k=5, l=1)
    assert check(data, rules, ["sexe"], ["mois", "salarie_id", "sexe"]).k == 5  # without hours
    assert "heures" in QUASI and "heures_supp" in QUASI
    with pytest.raises(ExtractRefused, match="k-anonymat"):
        check(data, rules, QUASI, ["mois", "salarie_id", "sexe", "heures"])


def test_establishment_pseudonym_only_where_the_cell_passes() -> None:
    """An establishment alone in its NAF x zone is emptied; three of three companies stay."""
    alone = [("e1", "s1", "C", "11")] * 6
    shared = [(f"e{i}", f"s{i}", "G", "11") for i in (2, 3, 4) for _ in range(2)]
    rows = [(f"p{n}", *r) for n, r in enumerate(alone + shared)]
    data = pl.DataFrame(
        rows, schema=["salarie_id", "etablissement_id", "entreprise", "naf", "zone"], orient="row"
    )
    out = mask_establishments(data, Rules())
    assert "entreprise" not in out.columns
    assert out.filter(pl.col("naf") == "C")["etablissement_id"].is_null().all()
    assert out.filter(pl.col("naf") == "G")["etablissement_id"].is_not_null().all()
    # Three sites of one company are one respondent: emptied too.
    one_firm = data.with_columns(entreprise=pl.lit("s9"))
    assert mask_establishments(one_firm, Rules())["etablissement_id"].is_null().all()


def test_two_recipients_cannot_relink_rows() -> None:
    """Replay: classes of 5 on the quasi-identifiers (the old check passed), but one man alone
    with his pay band; two recipients' files (other pseudonyms) re-link him on the rest."""
    base = pl.DataFrame(
        {
            "mois": ["2023-01"] * 16,
            "salarie_id": list("abcdefghijklmnop"),
            "sexe": ["01"] * 6 + ["02"] * 10,
            "tranche_brut": ["< 1 500"] * 5 + [">= 4 000"] + ["< 1 500", "nul"] * 5,
        }
    )
    other = base.with_columns(pl.col("salarie_id").str.to_uppercase())  # another key
    rules = Rules(k=5, l=1, suppression_max_pct=20)
    released = ["mois", "salarie_id", "sexe"]
    assert check(base, rules, ["sexe"], released).k == 6  # the old check: pay band not shared
    assert relinked(base, other) == 1
    with pytest.raises(ExtractRefused, match="reliaison"):
        check(base, rules, ["sexe"])
    kept, share = suppress_rare(base, rules, ["sexe"])
    assert "f" not in set(kept["salarie_id"]) and share == pytest.approx(100 / 16)
    kept_ids = kept["salarie_id"].implode()
    kept_other = other.filter(pl.col("salarie_id").str.to_lowercase().is_in(kept_ids))
    assert relinked(kept, kept_other) == 0
