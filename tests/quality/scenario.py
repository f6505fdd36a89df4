"""Small NEODES scenarios for the consolidation tests: build files, ingest them month by month
(as they would arrive) and consolidate."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.pseudonymize import Secret, pseudonym
from datadsn.ingest.run import ingest
from datadsn.quality.consolidate import consolidate
from tests.dsn_builder import Line, envoi, render

SECRET = Secret(b"k", demo=True)


def dsn_date(iso: str) -> str:
    """2023-01-31 -> 31012023."""
    return iso[8:10] + iso[5:7] + iso[0:4]


def month_end(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{month}-{calendar.monthrange(year, mon)[1]:02d}"


@dataclass
class Rem:
    """A remuneration block (S21.G00.51) with its activity lines (type, mesure, unité)."""

    debut: str
    fin: str
    type: str = "002"
    numero: str | None = None  # default: the contract's number
    activites: list[tuple[str, str, str | None]] = field(default_factory=list)
    nombre_heures: str | None = None
    montant: str = "2000.00"


@dataclass
class Contrat:
    numero: str = "C0001"
    debut: str = "2022-01-01"
    nature: str = "01"
    fin: tuple[str, str] | None = None  # (date ISO, motif)
    fin_previsionnelle: str | None = None
    siret_utilisateur: str | None = None
    unite: str = "10"
    libelle: str = "TECHNICIEN"
    motif_recours: str | None = None
    changements: list[dict[str, str]] = field(default_factory=list)  # date, siret, numero, debut
    heures: str | None = "151.67"  # a standard 002 for the declared month (None: no pay)
    rems: list[Rem] = field(default_factory=list)


@dataclass
class Salarie:
    nir: str | None = "1850575123456"
    nom: str = "DURAND"
    prenoms: str = "YOLANDE"
    naissance: str = "16071967"
    contrats: list[Contrat] = field(default_factory=lambda: [Contrat()])
    changements: list[dict[str, str]] = field(
        default_factory=list
    )  # date, nir, nom, prenoms, naissance
    matricule: str | None = None


def _salarie_lines(s: Salarie, month: str) -> list[Line]:
    lines: list[Line] = []
    if s.nir:
        lines.append(("S21.G00.30.001", s.nir))
    lines += [
        ("S21.G00.30.002", s.nom),
        ("S21.G00.30.004", s.prenoms),
        ("S21.G00.30.005", "02"),
        ("S21.G00.30.006", s.naissance),
        ("S21.G00.30.007", "LYON"),
    ]
    if s.matricule:
        lines.append(("S21.G00.30.019", s.matricule))
    for ch in s.changements:
        lines.append(("S21.G00.31.001", dsn_date(ch["date"])))
        for key, rub in (("nir", "008"), ("nom", "009"), ("prenoms", "010"), ("naissance", "011")):
            if key in ch:
                lines.append((f"S21.G00.31.{rub}", ch[key]))
    for c in s.contrats:
        lines += [
            ("S21.G00.40.001", dsn_date(c.debut)),
            ("S21.G00.40.002", "04"),
            ("S21.G00.40.006", c.libelle),
            ("S21.G00.40.007", c.nature),
            ("S21.G00.40.009", c.numero),
        ]
        if c.fin_previsionnelle:
            lines.append(("S21.G00.40.010", dsn_date(c.fin_previsionnelle)))
        lines += [
            ("S21.G00.40.011", c.unite),
            ("S21.G00.40.012", "151.67"),
            ("S21.G00.40.013", "151.67"),
        ]
        if c.motif_recours:
            lines.append(("S21.G00.40.021", c.motif_recours))
        if c.siret_utilisateur:
            lines.append(("S21.G00.40.046", c.siret_utilisateur))
        for ch in c.changements:
            lines.append(("S21.G00.41.001", dsn_date(ch["date"])))
            if "siret" in ch:
                lines.append(("S21.G00.41.012", ch["siret"]))
            if "numero" in ch:
                lines.append(("S21.G00.41.014", ch["numero"]))
            if "debut" in ch:
                lines.append(("S21.G00.41.021", dsn_date(ch["debut"])))
        if c.fin:
            lines += [("S21.G00.62.001", dsn_date(c.fin[0])), ("S21.G00.62.002", c.fin[1])]
    rems: list[tuple[Contrat, Rem]] = []
    for c in s.contrats:
        if c.heures is not None:
            rems.append((c, Rem(f"{month}-01", month_end(month), "001")))
            rems.append(
                (c, Rem(f"{month}-01", month_end(month), activites=[("01", c.heures, "10")]))
            )
        rems += [(c, r) for r in c.rems]
    if rems:
        lines += [("S21.G00.50.001", dsn_date(month_end(month))), ("S21.G00.50.002", "1500.00")]
        for c, r in rems:
            lines += [
                ("S21.G00.51.001", dsn_date(r.debut)),
                ("S21.G00.51.002", dsn_date(r.fin)),
                ("S21.G00.51.010", r.numero or c.numero),
                ("S21.G00.51.011", r.type),
            ]
            if r.nombre_heures:
                lines.append(("S21.G00.51.012", r.nombre_heures))
            lines.append(("S21.G00.51.013", r.montant))
            for typ, mesure, unite in r.activites:
                lines += [("S21.G00.53.001", typ), ("S21.G00.53.002", mesure)]
                if unite:
                    lines.append(("S21.G00.53.003", unite))
    return lines


def declaration(
    month: str,
    siret: str = "12345678200012",
    salaries: list[Salarie] | None = None,
    naf: str = "6202A",
    fraction: str = "11",
    type_declaration: str = "01",
    ordre: str = "1",
    constitution: str | None = None,
) -> list[Line]:
    siren, nic = siret[:9], siret[9:]
    lines: list[Line] = [
        ("S20.G00.05.001", "01"),
        ("S20.G00.05.002", type_declaration),
        ("S20.G00.05.003", fraction),
        ("S20.G00.05.004", ordre),
        ("S20.G00.05.005", "01" + month[5:7] + month[:4]),
        ("S20.G00.05.007", dsn_date(constitution or month_end(month))),
        ("S20.G00.05.008", "01"),
        ("S20.G00.05.010", "01"),
        ("S21.G00.06.001", siren),
        ("S21.G00.06.002", nic),
        ("S21.G00.06.003", naf),
        ("S21.G00.11.001", nic),
        ("S21.G00.11.002", naf),
        ("S21.G00.11.003", "1 RUE DE LA PAIX"),
        ("S21.G00.11.004", "75002"),
        ("S21.G00.11.005", "PARIS"),
        ("S21.G00.11.022", "1486"),
    ]
    for s in salaries if salaries is not None else [Salarie()]:
        lines += _salarie_lines(s, month)
    return lines


class Scenario:
    """A warehouse fed file by file; ``run(month, *declarations)`` ingests then consolidates."""

    def __init__(self, root: Path):
        self.root = root
        self.store = Warehouse(root / "warehouse")
        self.count = 0

    def write(self, *declarations: list[Line]) -> Path:
        self.count += 1
        path = self.root / "dsn" / f"envoi_{self.count:03d}.dsn"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render(envoi(*declarations)))
        return path

    def ingest(self, *declarations: list[Line]) -> None:
        ingest([self.write(*declarations)], self.store, SECRET, workers=1)

    def run(self, month: str, *declarations: list[Line]) -> None:
        if declarations:
            self.ingest(*declarations)
        consolidate(self.store, month, threads=2)

    def rows(self, sql: str) -> list[tuple]:
        with self.store.connect() as con:
            return con.execute(sql).fetchall()

    def table(self, name: str, month: str | None = None) -> list[dict]:
        from datadsn.quality.history import table_sql
        from datadsn.quality.snapshot import current_month, snapshot_dir

        folder = snapshot_dir(self.store, month or current_month(self.store) or "")
        con = duckdb.connect()
        res = con.execute(table_sql(folder, name) or f"SELECT * FROM '{folder / name}.parquet'")
        cols = [d[0] for d in res.description or []]
        return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def nir_key(nir: str) -> str:
    return pseudonym(SECRET, "nir", nir)
