"""The attacker's equations: a table's margin, and the nesting of codes it implies."""

from __future__ import annotations

import polars as pl

from datadsn.indicators.attacker import Holding, attack
from datadsn.indicators.compute import TOTAL
from datadsn.indicators.rules import Rules


def _by_departement(statuses: dict[str, tuple[float, str]]) -> Holding:
    table = pl.DataFrame(
        {
            "periode": ["2024-01"] * len(statuses),
            "departement": list(statuses),
            "valeur": [v if s == "publie" else None for v, s in statuses.values()],
            "statut": [s for _, s in statuses.values()],
        }
    )
    return Holding("t", "EFF_FIN", "mois", Rules(), ["departement"], table)


def test_a_table_by_departement_alone_sums_into_the_national_total() -> None:
    # 35 and 29 are in Bretagne, 75 in Île-de-France; no table by région is held
    leaky = _by_departement(
        {
            "35": (100, "publie"),
            "29": (20, "masque_primaire"),
            "75": (50, "publie"),
            TOTAL: (170, "publie"),
        }
    )
    found = attack([leaky])
    assert len(found) == 1 and "departement=29" in found[0] and "[20 ; 20]" in found[0]
    safe = _by_departement(
        {
            "35": (100, "masque_secondaire"),
            "29": (20, "masque_primaire"),
            "75": (50, "publie"),
            TOTAL: (170, "publie"),
        }
    )
    assert attack([safe]) == []


def test_a_flow_on_one_region_meets_the_public_table_by_region() -> None:
    """The flow's total is the public cell of its région: the pair gives the masked cell."""
    flow = Holding(
        "flux", "EFF_FIN", "mois", Rules(), ["sexe"],
        pl.DataFrame({"periode": ["2024-01"] * 3, "sexe": ["01", "02", TOTAL],
                      "valeur": [60.0, None, None],
                      "statut": ["publie", "masque_primaire", "masque_secondaire"]}),
        {"regions": ["53"]},
    )  # fmt: skip
    public = Holding(
        "public", "EFF_FIN", "mois", Rules(), ["region"],
        pl.DataFrame({"periode": ["2024-01"] * 3, "region": ["53", "11", TOTAL],
                      "valeur": [64.0, 50.0, 114.0], "statut": ["publie"] * 3}),
    )  # fmt: skip
    assert attack([flow]) == []
    found = attack([flow, public])
    assert len(found) == 1 and "region=53|sexe=02".replace("|", ", ") in found[0]
