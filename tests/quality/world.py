"""One shared six-month scenario (2023-01..2023-06) holding the reference test subjects (spec
§15.2) and conformance cases (§19), each on its own employee or establishment, consolidated
month by month. Built once per test module (consolidation runs cost about a second each)."""

from __future__ import annotations

from pathlib import Path

from tests.dsn_builder import Line
from tests.quality.scenario import Contrat, Rem, Salarie, Scenario, declaration

MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]
A = "11111111100011"  # main establishment (also the user establishment of the interim case)
B = "22222222200022"  # second employer (transfer target, same person in two establishments)
C = "33333333300033"  # stops declaring after February (closure by silence)
T = "44444444400044"  # temporary-work agency, NAF 7820Z
F = "55555555500055"  # declares March in two fractions
L = "66666666600066"  # its March declaration arrives late (ingested at the May run)
R = "77777777700077"  # annule-et-remplace of February, duplicate send of March
DEBUT = "2020-01-01"


def nir(n: int) -> str:
    return f"1850575{100 + n:03d}{100 + n:03d}"


def _before(month: str, limit: str) -> bool:
    return month < limit


def etab_a(month: str) -> list[Salarie]:
    s: list[Salarie] = [Salarie(nir(1), "UN", "ALAIN", "01011980", [Contrat("C0001", DEBUT)])]
    if month <= "2023-03":
        fin = ("2023-03-15", "031") if month == "2023-03" else None
        s.append(Salarie(nir(2), "DEUX", "BEA", "02011980", [Contrat("C0002", DEBUT, "02", fin)]))
    if month == "2023-01":
        s.append(
            Salarie(
                nir(3),
                "TROIS",
                "CLEO",
                "03011980",
                [Contrat("C0003", "2022-12-01", "02", fin_previsionnelle="2023-01-20")],
            )
        )
    if month == "2023-01" or month >= "2023-05":
        s.append(Salarie(nir(4), "QUATRE", "DAN", "04011980", [Contrat("C0004", DEBUT)]))
    fin5 = {"2023-02": ("2023-02-10", "031"), "2023-03": ("2023-02-10", "099")}.get(month)
    s.append(Salarie(nir(5), "CINQ", "EVE", "05011980", [Contrat("C0005", DEBUT, fin=fin5)]))
    # numero change by change block in March
    if month < "2023-03":
        c6 = Contrat("C0006", DEBUT)
    else:
        c6 = Contrat("C0106", DEBUT)
        if month == "2023-03":
            c6.changements = [{"date": "2023-03-01", "numero": "C0006"}]
    s.append(Salarie(nir(6), "SIX", "FLO", "06011980", [c6]))
    # change block whose old key matches nothing
    c7 = Contrat("C0007", DEBUT)
    if month == "2023-03":
        c7.changements = [{"date": "2023-03-01", "debut": "1999-01-01"}]
    s.append(Salarie(nir(7), "SEPT", "GUY", "07011980", [c7]))
    # start date change by change block in March
    if month < "2023-03":
        c8 = Contrat("C0008", DEBUT)
    else:
        c8 = Contrat("C0008", "2020-02-01")
        if month == "2023-03":
            c8.changements = [{"date": "2023-03-01", "debut": DEBUT}]
    s.append(Salarie(nir(8), "HUIT", "HUGO", "08011980", [c8]))
    # NIR correction with AncienNIR
    if month < "2023-03":
        s.append(Salarie(nir(9), "NEUF", "IDA", "09011980", [Contrat("C0009", DEBUT)]))
    else:
        ch = [{"date": "2023-03-01", "nir": nir(9)}] if month == "2023-03" else []
        s.append(Salarie(nir(99), "NEUF", "IDA", "09011980", [Contrat("C0009", DEBUT)], ch))
    # without NIR, then with NIR (no change block)
    s.append(
        Salarie(
            None if month < "2023-03" else nir(10),
            "MARTIN",
            "PAUL",
            "10011980",
            [Contrat("C0010", DEBUT)],
        )
    )
    # without NIR, name change declared by a change block
    if month < "2023-03":
        s.append(Salarie(None, "DURAND", "ANNE", "11011980", [Contrat("C0011", DEBUT)]))
    else:
        ch = [{"date": "2023-03-01", "nom": "DURAND"}] if month == "2023-03" else []
        s.append(Salarie(None, "THOMAS", "ANNE", "11011980", [Contrat("C0011", DEBUT)], ch))
    # without NIR, fragmented change blocks {nom}, {prenoms}
    if month < "2023-03":
        s.append(Salarie(None, "PETIT", "LUC", "12011980", [Contrat("C0012", DEBUT)]))
    else:
        ch = (
            [{"date": "2023-03-01", "nom": "PETIT"}, {"date": "2023-03-01", "prenoms": "LUC"}]
            if month == "2023-03"
            else []
        )
        s.append(Salarie(None, "GRAND", "MARC", "12011980", [Contrat("C0012", DEBUT)], ch))
    # remuneration numbered "c0013" for contract "C-0013"
    s.append(
        Salarie(
            nir(13),
            "TREIZE",
            "JEAN",
            "13011980",
            [
                Contrat(
                    "C-0013",
                    DEBUT,
                    heures=None,
                    rems=[
                        Rem(
                            f"{month}-01",
                            _end(month),
                            numero="c0013",
                            activites=[("01", "100.00", "10")],
                        )
                    ],
                )
            ],
        )
    )
    # hours: period split, weekend period across months, overtime with two activity lines,
    # day units and unit taken from the contract
    rems14 = []
    if month == "2023-03":
        rems14 = [
            Rem("2023-03-25", "2023-04-30", activites=[("01", "160.00", "10")]),
            Rem("2023-04-29", "2023-05-01", activites=[("01", "10.00", "10")]),
            Rem(
                "2023-03-01",
                "2023-03-31",
                "017",
                nombre_heures="3.00",
                activites=[("01", "1.00", "10"), ("01", "2.00", "10")],
            ),
            Rem("2023-03-01", "2023-03-31", activites=[("01", "2.00", "12"), ("02", "5.00", None)]),
        ]
    s.append(
        Salarie(
            nir(14),
            "QUATORZE",
            "KIM",
            "14011980",
            [Contrat("C0014", DEBUT, heures=None, rems=rems14)],
        )
    )
    # regularisation in May of February's hours
    rems15 = (
        [Rem("2023-02-01", "2023-02-28", activites=[("01", "-10.00", "10")])]
        if month == "2023-05"
        else []
    )
    s.append(Salarie(nir(15), "QUINZE", "LEA", "15011980", [Contrat("C0015", DEBUT, rems=rems15)]))
    # stops silently on 10 February (last pay period 1-10 February, no end block)
    if month == "2023-01":
        s.append(Salarie(nir(26), "VINGTSIX", "WES", "26011980", [Contrat("C0026", DEBUT)]))
    elif month == "2023-02":
        rem = Rem("2023-02-01", "2023-02-10", activites=[("01", "50.00", "10")])
        s.append(
            Salarie(
                nir(26),
                "VINGTSIX",
                "WES",
                "26011980",
                [Contrat("C0026", DEBUT, heures=None, rems=[rem])],
            )
        )
    # transfer to B in March
    if month < "2023-03":
        s.append(Salarie(nir(17), "DIXSEPT", "MAX", "17011980", [Contrat("C0017", DEBUT)]))
    return s


def _end(month: str) -> str:
    from tests.quality.scenario import month_end

    return month_end(month)


def etab_b(month: str) -> list[Salarie]:
    s = [Salarie(nir(1), "UN", "ALAIN", "01011980", [Contrat("B0001", "2022-06-01")])]
    if month >= "2023-03":
        c = Contrat("C0117", DEBUT)
        if month == "2023-03":
            c.changements = [{"date": "2023-03-01", "siret": A, "numero": "C0017", "debut": DEBUT}]
        s.append(Salarie(nir(17), "DIXSEPT", "MAX", "17011980", [c]))
    s.append(Salarie(nir(25), "VINGTCINQ", "NOE", "25011980", [Contrat("B0025", DEBUT, "77")]))
    return s


def declarations(month: str) -> list[list[Line]]:
    user = A if month < "2023-04" else B  # subject 14: the user establishment changes in April
    out = [declaration(month, A, etab_a(month)), declaration(month, B, etab_b(month))]
    if month <= "2023-02":
        out.append(
            declaration(
                month,
                C,
                [Salarie(nir(18), "DIXHUIT", "OLGA", "18011980", [Contrat("C0018", DEBUT)])],
            )
        )
    out.append(
        declaration(
            month,
            T,
            [
                Salarie(
                    nir(19),
                    "DIXNEUF",
                    "PIA",
                    "19011980",
                    [
                        Contrat(
                            "T0019", "2023-01-02", "03", siret_utilisateur=user, motif_recours="01"
                        )
                    ],
                ),
                Salarie(
                    nir(20),
                    "VINGT",
                    "RAY",
                    "20011980",
                    [
                        Contrat(
                            "T0020",
                            "2023-01-02",
                            "03",
                            siret_utilisateur="99999999900099",
                            motif_recours="01",
                        )
                    ],
                ),
            ],
            naf="7820Z",
        )
    )
    if month == "2023-03":
        out.append(
            declaration(
                month,
                F,
                [Salarie(nir(21), "VINGTETUN", "SAM", "21011980", [Contrat("F0021", DEBUT)])],
                fraction="12",
            )
        )
        out.append(
            declaration(
                month,
                F,
                [Salarie(nir(22), "VINGTDEUX", "TOM", "22011980", [Contrat("F0022", DEBUT)])],
                fraction="22",
            )
        )
    if month != "2023-03":
        out.append(_late(month))
    r_hours = "200.00" if month == "2023-02" else "151.67"
    out.append(
        declaration(
            month,
            R,
            [
                Salarie(
                    nir(24),
                    "VINGTQUATRE",
                    "UGO",
                    "24011980",
                    [Contrat("R0024", DEBUT, heures=r_hours)],
                )
            ],
        )
    )
    if month == "2023-03":
        # annule-et-remplace of February (later constitution, higher rank) and a duplicate send
        out.append(
            declaration(
                "2023-02",
                R,
                [
                    Salarie(
                        nir(24),
                        "VINGTQUATRE",
                        "UGO",
                        "24011980",
                        [Contrat("R0024", DEBUT, heures="100.00")],
                    )
                ],
                type_declaration="03",
                ordre="2",
                constitution="2023-03-05",
            )
        )
        out.append(
            declaration(
                month,
                R,
                [Salarie(nir(24), "VINGTQUATRE", "UGO", "24011980", [Contrat("R0024", DEBUT)])],
            )
        )
    if month == "2023-05":
        out.append(_late("2023-03"))
    return out


def _late(month: str) -> list[Line]:
    nature = "02" if month == "2023-03" else "01"
    return declaration(
        month,
        L,
        [Salarie(nir(23), "VINGTTROIS", "VAL", "23011980", [Contrat("L0023", DEBUT, nature)])],
    )


def build(root: Path) -> Scenario:
    sc = Scenario(root)
    for month in MONTHS:
        paths = [sc.write(d) for d in declarations(month)]
        from datadsn.ingest.run import ingest
        from tests.quality.scenario import SECRET

        ingest(paths, sc.store, SECRET, workers=1)
        from datadsn.quality.consolidate import consolidate

        consolidate(sc.store, month, threads=2)
    return sc
