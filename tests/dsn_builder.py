"""Build small NEODES texts for tests: lists of (rubrique, value) turned into DSN lines."""

from __future__ import annotations

Line = tuple[str, str]


def envoi_header(version: str = "P26V01") -> list[Line]:
    return [
        ("S10.G00.00.001", "LOGICIEL"),
        ("S10.G00.00.002", "EDITEUR"),
        ("S10.G00.00.003", "1.0"),
        ("S10.G00.00.005", "02"),
        ("S10.G00.00.006", version),
        ("S10.G00.00.007", "01"),
        ("S10.G00.00.008", "01"),
        ("S10.G00.01.001", "123456782"),
        ("S10.G00.01.002", "00012"),
        ("S10.G00.01.003", "EMETTEUR SA"),
        ("S10.G00.02.002", "DUPONT MARIE"),
        ("S10.G00.02.004", "marie.dupont@example.org"),
    ]


def declaration(
    month: str = "01012024",
    siren: str = "123456782",
    nic: str = "00012",
    individus: list[list[Line]] | None = None,
) -> list[Line]:
    lines = [
        ("S20.G00.05.001", "01"),
        ("S20.G00.05.002", "01"),
        ("S20.G00.05.003", "11"),
        ("S20.G00.05.004", "1"),
        ("S20.G00.05.005", month),
        ("S20.G00.05.007", "05022024"),
        ("S20.G00.05.008", "01"),
        ("S20.G00.05.010", "01"),
        ("S21.G00.06.001", siren),
        ("S21.G00.06.002", nic),
        ("S21.G00.06.003", "6202A"),
        ("S21.G00.11.001", nic),
        ("S21.G00.11.002", "6202A"),
        ("S21.G00.11.003", "12, RUE DE L'ÉGLISE"),
        ("S21.G00.11.004", "75011"),
        ("S21.G00.11.005", "PARIS"),
        ("S21.G00.11.022", "1486"),
    ]
    for individu in individus if individus is not None else [salarie()]:
        lines.extend(individu)
    return lines


def salarie(
    nir: str = "1850575123456",
    nom: str = "D'ALMEIDA",
    prenoms: str = "JOSÉ",
    naissance: str = "12051985",
    numero: str = "C0001",
    debut: str = "01032020",
    nature: str = "01",
    fin: tuple[str, str] | None = None,
    heures: str = "151.67",
) -> list[Line]:
    lines = [
        ("S21.G00.30.001", nir),
        ("S21.G00.30.002", nom),
        ("S21.G00.30.004", prenoms),
        ("S21.G00.30.005", "01"),
        ("S21.G00.30.006", naissance),
        ("S21.G00.30.007", "LISBONNE"),
        ("S21.G00.30.008", "3 RUE DES LILAS"),
        ("S21.G00.30.009", "93100"),
        ("S21.G00.30.010", "MONTREUIL"),
        ("S21.G00.40.001", debut),
        ("S21.G00.40.002", "04"),
        ("S21.G00.40.006", "TECHNICIEN D'ENTRETIEN"),
        ("S21.G00.40.007", nature),
        ("S21.G00.40.009", numero),
        ("S21.G00.40.011", "10"),
        ("S21.G00.40.012", "151.67"),
        ("S21.G00.40.013", "151.67"),
    ]
    if fin:
        lines += [("S21.G00.62.001", fin[0]), ("S21.G00.62.002", fin[1])]
    lines += [
        ("S21.G00.50.001", "31012024"),
        ("S21.G00.50.002", "2100.00"),
        ("S21.G00.51.001", "01012024"),
        ("S21.G00.51.002", "31012024"),
        ("S21.G00.51.010", numero),
        ("S21.G00.51.011", "002"),
        ("S21.G00.51.013", "2500.00"),
        ("S21.G00.53.001", "01"),
        ("S21.G00.53.002", heures),
        ("S21.G00.53.003", "10"),
    ]
    return lines


def total(lines_in_envoi: int, declarations: int) -> list[Line]:
    return [("S90.G00.90.001", str(lines_in_envoi + 2)), ("S90.G00.90.002", str(declarations))]


def envoi(*declarations: list[Line], version: str = "P26V01") -> list[Line]:
    body = envoi_header(version)
    for decl in declarations:
        body += decl
    return body + total(len(body), len(declarations))


def render(lines: list[Line], eol: str = "\n", encoding: str = "latin-1") -> bytes:
    return "".join(f"{r},'{v}'{eol}" for r, v in lines).encode(encoding)
