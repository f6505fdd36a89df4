"""The DSNP3 reader: each quirk of the extracts, and parity with NEODES on a simulation."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from datadsn.engine.warehouse import Warehouse
from datadsn.ingest import dsnp3
from datadsn.ingest.pseudonymize import Secret, pseudonymize_values
from datadsn.ingest.run import ingest
from datadsn.ingest.sources import expand
from datadsn.simulate.dsnp3_columns import COLUMNS

SECRET = Secret(b"k", demo=True)
DATE = "2023-02-01"


def _line(table: str, row: dict[str, str], qualify: bool) -> str:
    cells = []
    for column in COLUMNS[table]:
        value = row.get(column, "")
        text = value and not value.replace(".", "").replace("-", "").isdigit()
        cells.append(f"|{value}|" if qualify and text else value)
    return ";".join(cells)


def _base() -> dict[str, list[dict[str, str]]]:
    """One declaration (February 2023) of one employee with one contract, its pay and hours."""
    return {
        "declaration": [
            {
                "IdDeclaration": "1",
                "NatureDeclaration": "01",
                "TypeDeclaration": "01",
                "NumeroFraction": "11",
                "NumeroOrdreDeclaration": "3",
                "DateDeclaration": "2023-02-01",
                "DateFichier": "2023-03-05",
                "DateChargement": "2023-03-10",
            }
        ],
        "etablissement": [
            {
                "IdEtablissement": "10",
                "IdDeclaration": "1",
                "Siren": "123456789",
                "NIC": "00012",
                "NICEntre": "00012",
                "CodeAPET": "4711D",
                "CP": "75011",
                "Localite": "PARIS",
            }
        ],
        "individu": [
            {
                "IdIndividu": "100",
                "IdEtablissement": "10",
                "NIRDeclare": "1850275123456",
                "NomFamille": "Lefèvre",
                "Prenoms": "Zoé",
                "CodeSexe": "02",
                "DateNaissance": "15031985",
                "CP": "93100",
            }
        ],
        "contrat": [
            {
                "IdContrat": "1000",
                "IdIndividu": "100",
                "DateDebut": "2020-01-06",
                "Numero": "C1",
                "CodeNature": "01",
                "LibelleEmploi": "Employé d'accueil; caisse",
                "CodeUniteQuotite": "10",
                "QuotiteTravailContrat": "151.67",
            }
        ],
        "versement": [{"IdVersement": "500", "IdIndividu": "100", "DateVersement": "2023-02-28"}],
        "remuneration": [
            {
                "IdRemuneration": "600",
                "IdVersement": "500",
                "DateDebutPeriodePaie": "2023-02-01",
                "DateFinPeriodePaie": "2023-02-28",
                "NumeroContrat": "C1",
                "TypeRemuneration": "002",
                "Montant": "2000.00",
            }
        ],
        "activite": [
            {"IdActivite": "700", "IdRemuneration": "600", "TypeActivite": "01", "Mesure": "140"}
        ],
        "contratfin": [],
    }


def _write(
    folder: Path,
    rows: dict[str, list[dict[str, str]]],
    date: str = DATE,
    header: bool = True,
    qualify: bool = True,
    extra: dict[str, list[str]] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table in COLUMNS:
        lines = [";".join(COLUMNS[table])] if header else []
        lines += [_line(table, r, qualify) for r in rows.get(table, [])]
        lines += (extra or {}).get(table, [])
        text = "\r\n".join(lines) + ("\r\n" if lines else "")
        (folder / f"champollion_{table}_{date}.csv").write_bytes(text.encode("cp1252"))
    return folder


def _parse(folder: Path):
    """The batches of the extraction in ``folder`` as one: the tables of the first ones, the
    counts and rejections of the last."""
    (ext,), others = dsnp3.extractions(expand([folder]))
    assert not others
    *built, last = dsnp3.parse_extraction(ext, SECRET)
    for batch in built:
        assert not set(batch.tables) & set(last.tables), "a raw table is in one batch"
        last.tables.update(batch.tables)
    return last


def test_each_extract_raw_tables_come_in_a_batch_of_their_own(tmp_path) -> None:
    """The batches of an extraction are written under one part (``run._parse_dsnp3``): no
    raw table may come from two extracts."""
    from datadsn.ingest.dsnp3_mapping import EXTRACTS

    blocks = [b for e in EXTRACTS.values() for b in e.blocks]
    assert len(blocks) == len(set(blocks))
    (ext,), _ = dsnp3.extractions(expand([_write(tmp_path / "x", _base())]))
    *built, last = dsnp3.parse_extraction(ext, SECRET)
    assert [sorted(b.tables) for b in built][:3] == [
        ["declaration"],
        ["entreprise", "etablissement"],
        ["individu"],
    ]
    assert all(b.lines_read == b.files == 0 and not b.rejections.height for b in built)
    assert not last.tables and last.files == 15 and last.lines_read > 0


def _table(batch, name: str) -> pl.DataFrame:
    return pl.from_arrow(batch.tables[name])  # type: ignore[return-value]


def _reconciled(batch) -> None:
    assert batch.lines_read == batch.lines_stored + batch.lines_rejected


def test_the_mapping_names_real_columns_and_covers_the_consolidation() -> None:
    from datadsn.ingest.dsnp3_mapping import EXTRACTS
    from datadsn.norm import load_norm
    from datadsn.quality.inputs import RAW_COLUMNS

    norm = load_norm(dsnp3.NORM_VERSION)
    carried: dict[str, set[str]] = {}
    for table, spec in EXTRACTS.items():
        assert {spec.own_id, *spec.columns} <= set(COLUMNS[table]), table
        assert len(set(spec.columns.values())) == len(spec.columns), table
        for rubrique in spec.columns.values():
            block = norm.blocks[rubrique[:10]]
            carried.setdefault(block.table, set()).add(norm.rubriques[rubrique].column)
    for table, columns in RAW_COLUMNS.items():
        for column in columns:
            if column.endswith("_ligne"):
                continue
            base = column.removesuffix("_pseudo")
            base = (
                base.removeprefix("annee_").removeprefix("mois_") if "naissance" in base else base
            )
            assert base in carried[table], (table, column)


def test_one_declaration_lands_in_the_neodes_tables(tmp_path: Path) -> None:
    batch = _parse(_write(tmp_path / "x", _base()))
    _reconciled(batch)
    assert batch.lines_rejected == 0 and batch.rejections.height == 0
    assert batch.encodings == {"CP1252": 15}
    decl = _table(batch, "declaration")
    assert decl["mois_declare"].cast(pl.String).to_list() == ["2023-02-01"]
    assert decl["numero_ordre"].to_list() == [3]
    assert decl["empreinte"].str.len_chars().to_list() == [32]
    assert decl["lignes_rangees"].to_list() == [7]  # the header lines are not rows
    fichier = str(tmp_path / "x" / f"champollion_*_{DATE}.csv")
    ind = _table(batch, "individu")
    assert ind["fichier"].to_list() == [fichier] and ind["ligne"].to_list() == [2]
    assert ind["declaration_ligne"].to_list() == [2]
    assert ind["etablissement_ligne"].to_list() == [2] == ind["entreprise_ligne"].to_list()
    # the same pseudonyms as NEODES, the statistics kept beside them
    nir = pseudonymize_values(SECRET, "nir", pl.Series(["1850275123456"]))
    assert ind["nir_pseudo"].to_list() == nir.to_list()
    name = pseudonymize_values(SECRET, "nom", pl.Series(["Lefèvre"]))
    assert ind["nom_famille_pseudo"].to_list() == name.to_list()
    assert ind["annee_date_naissance"].to_list() == [1985]
    assert ind["mois_date_naissance"].to_list() == [3]
    assert ind["departement_residence"].to_list() == ["93"]
    assert "nir" not in ind.columns and "nom_famille" not in ind.columns
    con = _table(batch, "contrat")
    assert con["libelle_emploi"].to_list() == ["Employé d'accueil; caisse"]  # ; inside | |
    assert con["date_debut"].cast(pl.String).to_list() == ["2020-01-06"]
    assert con["quotite_contrat"].cast(pl.String).to_list() == ["151.67"]
    assert con["individu_ligne"].to_list() == [2]
    act = _table(batch, "activite")
    assert act["remuneration_ligne"].to_list() == [2] and act["versement_ligne"].to_list() == [2]
    assert act["mesure"].cast(pl.Float64).to_list() == [140.0]
    assert _table(batch, "entreprise")["siren"].to_list() == ["123456789"]
    assert _table(batch, "etablissement")["nic"].to_list() == ["00012"]


def test_without_header_or_qualifier_the_rows_are_the_same(tmp_path: Path) -> None:
    rows = _base()
    rows["contrat"][0]["LibelleEmploi"] = "Employé d'accueil"
    plain = _parse(_write(tmp_path / "a", rows))
    bare = _parse(_write(tmp_path / "b", rows, header=False, qualify=False))
    assert bare.rejections.is_empty()
    _reconciled(bare)
    for name in plain.tables:
        a = _table(plain, name).drop("fichier", "ligne", "empreinte", strict=False)
        b = _table(bare, name).drop("fichier", "ligne", "empreinte", strict=False)
        assert a.drop([c for c in a.columns if c.endswith("_ligne")]).equals(
            b.drop([c for c in b.columns if c.endswith("_ligne")])
        ), name
    assert _table(bare, "contrat")["libelle_emploi"].to_list() == ["Employé d'accueil"]
    assert _table(bare, "contrat")["ligne"].to_list() == [1]  # no header: the first line


def test_the_fast_and_careful_readers_agree() -> None:
    cols = ["IdX", "A", "B"]
    body = ["1;|a||b|;x", "2;;|c; d|", "", "3;only", "4;|é|;|ÿ €|", "5;||;", "6;a;b;c"]
    fast = dsnp3._rows_at_once("f", body, 1, cols)
    careful = dsnp3._rows_one_by_one("f", body, 1, cols)
    assert fast is not None
    empty_is_null = [pl.col(c).replace("", None) for c in cols]  # as read_extract does
    a = fast[0].with_columns(empty_is_null)
    b = careful[0].select(fast[0].columns).with_columns(empty_is_null)
    assert a.equals(b)
    assert a["A"].to_list() == ["a|b", None, "é", None]
    assert a["ligne"].to_list() == [2, 3, 6, 7]
    codes = [(r["ligne"], r["code"]) for r in fast[1]]
    assert codes == [(r["ligne"], r["code"]) for r in careful[1]]
    assert codes == [(4, "LIGNE_VIDE"), (5, "COLONNES_INVALIDES"), (8, "COLONNES_INVALIDES")]
    # a stray qualifier: only the careful reader knows what Python's csv makes of it
    assert dsnp3._rows_at_once("f", ["1;a|b;c"], 0, cols) is None


@pytest.mark.parametrize("chunk", [1, 7, 40, 10**6])
def test_an_extract_read_piece_by_piece_is_read_as_a_whole(chunk: int) -> None:
    """Large extracts are decoded and parsed a few megabytes at a time: whatever the piece
    size, the same rows, line numbers and rejections, a qualified text over two lines
    included (a piece whose qualifiers do not close waits for the next)."""
    table = "activite"
    cols = COLUMNS[table]
    row = ";".join(f"|v{i}|" for i in range(len(cols)))
    split = ";".join(["|deux\r\nlignes|", *(f"{i}" for i in range(1, len(cols)))])
    lines = [";".join(cols), row, "", split, "1;2", row.replace("v1", "é"), row]
    data = "\r\n".join(lines).encode("cp1252")
    whole = dsnp3.read_extract("f", data, table, chunk=10**9)
    piece = dsnp3.read_extract("f", data, table, chunk=chunk)
    assert piece.frame.equals(whole.frame)
    assert piece.rejections == whole.rejections
    assert (piece.lines_read, piece.lines_total, piece.encoding) == (7, 8, "CP1252")
    assert (whole.lines_read, whole.lines_total) == (7, 8)
    assert whole.frame["ligne"].to_list() == [2, 5, 7, 8]
    assert [(r["ligne"], r["code"]) for r in whole.rejections] == [
        (3, "LIGNE_VIDE"),
        (6, "COLONNES_INVALIDES"),
    ]


def test_empty_fields_are_null(tmp_path: Path) -> None:
    batch = _parse(_write(tmp_path / "x", _base()))
    con = _table(batch, "contrat")
    assert con["date_fin_previsionnelle"].to_list() == [None]
    assert con["motif_recours"].to_list() == [None]
    assert _table(batch, "individu")["nom_usage_pseudo"].to_list() == [None]


def test_wrong_column_count_and_bad_values_are_rejected(tmp_path: Path) -> None:
    rows = _base()
    rows["contrat"].append({**rows["contrat"][0], "IdContrat": "1001", "DateDebut": "2020-13-45"})
    rows["individu"][0]["DateNaissance"] = "1985-03-1"
    extra = {"contrat": ["1002;100;2021-01-01;too;few"]}
    batch = _parse(_write(tmp_path / "x", rows, extra=extra))
    _reconciled(batch)
    rej = batch.rejections
    count = rej.filter(pl.col("code") == "COLONNES_INVALIDES")
    assert count.select("ligne", "lignes", "rejet").rows() == [(4, 1, True)]
    assert count["fichier"].item().endswith(f"champollion_contrat_{DATE}.csv")
    assert "5 au lieu de" in count["message"].item()
    dates = rej.filter(pl.col("code") == "DATE_INVALIDE").sort("rubrique")
    assert dates.select("rubrique", "ligne", "lignes").rows() == [
        ("DateDebut", 3, 0),
        ("DateNaissance", 2, 0),
    ]
    assert dates.filter(pl.col("rubrique") == "DateNaissance")["valeur"].item() == "***"
    assert all("date" in m for m in dates["message"])
    con = _table(batch, "contrat")  # the row with a bad date is kept, its value dropped
    assert con["date_debut"].cast(pl.String).to_list() == ["2020-01-06", None]
    assert _table(batch, "individu")["date_naissance_pseudo"].to_list() == [None]
    assert batch.lines_rejected == 1


def test_orphans_and_their_descendants_are_rejected(tmp_path: Path) -> None:
    rows = _base()
    rows["contrat"][0]["IdIndividu"] = "999"
    rows["contratfin"] = [{"IdContratFin": "1", "IdContrat": "1000", "DateFin": "2023-02-15"}]
    batch = _parse(_write(tmp_path / "x", rows))
    _reconciled(batch)
    orphans = batch.rejections.filter(pl.col("code") == "PARENT_INCONNU")
    assert sorted(orphans["rubrique"].to_list()) == ["IdContrat", "IdIndividu"]
    assert "contrat" not in batch.tables and "contrat_fin" not in batch.tables
    assert batch.lines_rejected == 2


def test_duplicate_ids_and_a_bad_declared_month(tmp_path: Path) -> None:
    rows = _base()
    rows["versement"].append({**rows["versement"][0]})  # the same IdVersement again
    rows["declaration"][0]["DateDeclaration"] = "2023-02-30"
    batch = _parse(_write(tmp_path / "x", rows))
    _reconciled(batch)
    codes = batch.rejections.group_by("code").len().sort("code").rows()
    # the declaration goes, each of its six other rows with it (the second payment first)
    assert codes == [
        ("IDENTIFIANT_EN_DOUBLE", 1),
        ("MOIS_DECLARE_INVALIDE", 1),
        ("PARENT_INCONNU", 6),
    ]
    assert batch.tables == {} and batch.declarations_rejected == 1
    assert batch.lines_read == 8 == batch.lines_rejected


def test_cp1252_and_utf8_text(tmp_path: Path) -> None:
    batch = _parse(_write(tmp_path / "x", _base()))
    folder = tmp_path / "u"
    _write(folder, _base())
    for path in folder.iterdir():
        path.write_bytes(path.read_bytes().decode("cp1252").encode("utf-8"))
    utf8 = _parse(folder)
    assert utf8.encodings == {"UTF-8": 2, "CP1252": 13}  # the others are ASCII
    for name in ("individu", "contrat"):
        a, b = _table(batch, name), _table(utf8, name)
        assert a.drop("fichier").equals(b.drop("fichier"))
    # "€" and "œ" exist in cp1252, not in ISO-8859-1
    rows = _base()
    rows["contrat"][0]["LibelleEmploi"] = "Chef d'œuvre à 10 €"
    batch = _parse(_write(tmp_path / "e", rows))
    assert _table(batch, "contrat")["libelle_emploi"].to_list() == ["Chef d'œuvre à 10 €"]


def test_late_declaration_is_filed_under_its_month(tmp_path: Path) -> None:
    rows = _base()
    late = {**rows["declaration"][0], "IdDeclaration": "2", "DateDeclaration": "2023-01-01"}
    rows["declaration"].append(late)
    rows["etablissement"].append({**rows["etablissement"][0], "IdEtablissement": "11"})
    rows["etablissement"][1]["IdDeclaration"] = "2"
    rows["declaration"][0]["DateChargement"] = "2023-05-02"  # outside the window: a warning
    folder = _write(tmp_path / "2023-02", rows)
    store = Warehouse(tmp_path / "wh")
    summary = ingest([folder], store, SECRET, workers=1)
    assert summary.reconciled and summary.declarations == 2
    assert summary.warnings == {"HORS_FENETRE": 1}
    months = sorted(p.name for p in (store.raw / "declaration").iterdir())
    assert months == ["mois_declaration=2023-01", "mois_declaration=2023-02"]
    with duckdb.connect() as con:
        glob = store.raw / "etablissement" / "*" / "*.parquet"
        got = con.execute(
            f"SELECT mois_declaration, declaration_ligne FROM read_parquet('{glob}', "
            "hive_partitioning = true) ORDER BY 1"
        ).fetchall()
    assert got == [("2023-01", 3), ("2023-02", 2)]


def test_the_same_extraction_twice_is_stored_once(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "wh")
    first = ingest([_write(tmp_path / "a", _base())], store, SECRET, workers=1)
    again = ingest([_write(tmp_path / "b", _base())], store, SECRET, workers=1)
    assert first.lines_stored == 7 and first.reconciled
    assert again.declarations_duplicated == 1 and again.lines_duplicated == 7
    assert again.lines_stored == 0 and again.reconciled
    with duckdb.connect() as con:
        glob = store.raw / "contrat" / "*" / "*.parquet"
        assert con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone() == (1,)


def test_overlapping_lots_store_each_declaration_once(tmp_path: Path) -> None:
    """A folder of two extractions, then one of them, then the folder again: nothing doubled,
    nothing lost, whatever the order."""
    jan, feb = _base(), _base()
    jan["declaration"][0]["DateDeclaration"] = "2023-01-01"
    jan["declaration"][0]["DateChargement"] = "2023-02-10"
    root = tmp_path / "dsnp3"
    _write(root / "2023-01", jan, date="2023-01-01")
    _write(root / "2023-02", feb)
    store = Warehouse(tmp_path / "wh")

    def contracts() -> list[tuple]:
        with store.connect() as con:
            return con.execute(
                "SELECT mois_declaration, fichier FROM raw.contrat ORDER BY 1"
            ).fetchall()

    whole = ingest([root], store, SECRET, workers=1)
    assert whole.lines_stored == 14 and whole.reconciled
    expected = contracts()
    assert [m for m, _ in expected] == ["2023-01", "2023-02"]
    part = ingest([root / "2023-02"], store, SECRET, workers=1)
    assert part.lines_duplicated == 7 and part.lines_stored == 0 and part.reconciled
    assert contracts() == expected
    again = ingest([root], store, SECRET, workers=1)  # the same lot: replaces its version
    assert again.lines_stored == 14 and again.reconciled
    assert contracts() == expected


def test_format_detection_and_unknown_files(tmp_path: Path) -> None:
    folder = _write(tmp_path / "x", _base())
    extracts, others = dsnp3.extractions(expand([folder]))
    assert len(extracts) == 1 and len(extracts[0].files) == 15 and not others
    (folder / "notes.txt").write_text("hello")
    store = Warehouse(tmp_path / "wh")
    summary = ingest([folder], store, SECRET, workers=1, format="dsnp3")
    assert summary.rejections == {"EXTRACTION_INCONNUE": 1}
    assert summary.lines_stored == 7 and summary.reconciled


def test_a_different_header_rejects_the_file(tmp_path: Path) -> None:
    folder = _write(tmp_path / "x", _base())
    path = folder / f"champollion_contrat_{DATE}.csv"
    lines = path.read_bytes().decode("cp1252").split("\r\n")
    lines[0] = "IdContrat;Autre"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    batch = _parse(folder)
    header = batch.rejections.filter(pl.col("code") == "EN_TETE_INVALIDE")
    assert header.select("niveau", "lignes").rows() == [("fichier", 1)]
    assert "contrat" not in batch.tables
    # its row was read and rejected; its children lost their parent
    assert batch.lines_read == 7 and batch.lines_rejected == 1
    _reconciled(batch)


def test_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from datadsn.cli import app

    monkeypatch.setenv("DATADSN_SECRET", "a-test-key-of-at-least-32-bytes!")
    folder = _write(tmp_path / "in", _base())
    runner = CliRunner()
    for options in (["--format", "dsnp3"], []):  # given, or recognised from the names
        wh = tmp_path / f"wh{len(options)}"
        result = runner.invoke(app, ["ingest", str(folder), "-w", str(wh), *options])
        assert result.exit_code == 0, result.output
        out = runner.invoke(app, ["sql", "select count(*) as n from raw.contrat", "-w", str(wh)])
        assert out.exit_code == 0 and "1" in out.stdout
    bad = runner.invoke(app, ["ingest", str(folder), "-w", str(wh), "--format", "csv"])
    assert bad.exit_code == 2
    rows = _base()
    rows["contrat"][0]["DateDebut"] = "hier"
    result = runner.invoke(app, ["ingest", str(_write(tmp_path / "bad", rows)), "-w", str(wh)])
    assert result.exit_code == 3  # a rejection


# --- parity with the NEODES files of the same simulation -------------------------------------

LINEAGE = {"fichier", "ligne", "declaration_ligne", "version_declaration"}


def _simulated_pair(root: Path, noise: str, seed: int) -> tuple[Warehouse, Warehouse]:
    """The NEODES files and the DSNP3 export of one simulation, each ingested in its own
    warehouse and consolidated over its three months."""
    from datadsn.quality.consolidate import consolidate, pending_months
    from datadsn.simulate import simulate

    sim = simulate(root / "sim", employers=20, months="2023-01..2023-03", seed=seed, noise=noise)
    stores = []
    for fmt in ("dsn", "dsnp3"):
        store = Warehouse(root / fmt)
        summary = ingest([sim.out / fmt], store, SECRET, workers=1)
        assert summary.reconciled
        for month in pending_months(store, "2023-03"):
            consolidate(store, month, threads=1)
        stores.append(store)
    return stores[0], stores[1]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Warehouse]:
    return _simulated_pair(tmp_path_factory.mktemp("parity"), "none", 11)


def _scan(store: Warehouse, name: str) -> str:
    folder = store.root / "quality" / "2023-03"
    path = folder / f"{name}.parquet"
    target = path if path.exists() else folder / name / "**" / "*.parquet"
    return f"read_parquet('{target}', union_by_name = true)"


QUALITY = [
    "salaries",
    "contrats",
    "contrats_mois",
    "activites",
    "etablissements",
    "entreprises",
    "postes",
    "declarations",
    "contrats_archives",
    "salaries_archives",
]
# a declaration's version without its file and line: month | constitution date | rank
VERSION = " || '|' || ".join(f"split_part(version_declaration, '|', {k})" for k in (1, 2, 3))


@pytest.mark.parametrize("name", QUALITY)
def test_dsnp3_consolidates_like_neodes(both: tuple[Warehouse, Warehouse], name: str) -> None:
    neodes, p3 = both
    with duckdb.connect() as con:
        a, b = _scan(neodes, name), _scan(p3, name)
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {a}").fetchall()]
        assert cols == [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {b}").fetchall()]
        rows = con.execute(f"SELECT count(*) FROM {a}").fetchone()
        assert rows == con.execute(f"SELECT count(*) FROM {b}").fetchone()
        assert rows and rows[0] > 0
        # every column but the lineage (file and line of the declaration), value for value;
        # the version of a declaration keeps its month, constitution date and rank
        same = [c for c in cols if c not in LINEAGE]
        if "version_declaration" in cols:
            same.append(VERSION)
        for column in same:
            diff = con.execute(
                f"SELECT count(*) FROM (SELECT {column} FROM {a} EXCEPT ALL "
                f"SELECT {column} FROM {b})"
            ).fetchone()
            assert diff == (0,), (name, column)


def test_raw_columns_have_the_neodes_names_types_and_values(
    both: tuple[Warehouse, Warehouse],
) -> None:
    """Raw tables with the same columns and types; those the consolidation reads with the
    same values too."""
    from datadsn.quality.inputs import RAW_COLUMNS

    neodes, p3 = both
    with duckdb.connect() as con:
        for table, columns in RAW_COLUMNS.items():
            present = [(s.raw / table).exists() for s in both]
            assert present[0] == present[1], table
            if not present[0]:  # no such block in this simulation (individual changes)
                continue
            a = f"read_parquet('{neodes.raw}/{table}/*/*.parquet', union_by_name = true)"
            b = f"read_parquet('{p3.raw}/{table}/*/*.parquet', union_by_name = true)"
            types_a = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {a}").fetchall()}
            types_b = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {b}").fetchall()}
            assert types_a == types_b, table  # every column, not only those read
            for column in columns:
                if column.endswith("_ligne"):
                    continue
                for x, y in ((a, b), (b, a)):
                    diff = con.execute(
                        f"SELECT count(*) FROM (SELECT {column} FROM {x} EXCEPT ALL "
                        f"SELECT {column} FROM {y})"
                    ).fetchone()
                    assert diff == (0,), (table, column)


def _figures(store: Warehouse) -> tuple:
    """Employees and contracts in the state, contract ends, paid hours per month."""
    with duckdb.connect() as con:
        row = con.execute(
            f"""SELECT (SELECT count(*) FROM {_scan(store, "salaries")}),
                (SELECT count(*) FROM {_scan(store, "contrats")}),
                (SELECT count(*) FROM {_scan(store, "contrats_archives")}
                 WHERE date_fin_effective IS NOT NULL),
                (SELECT list(h ORDER BY m) FROM (
                 SELECT mois AS m, sum(heures_standards_remunerees) AS h
                 FROM {_scan(store, "activites")} GROUP BY ALL))"""
        ).fetchone()
    assert row is not None
    return row


def test_parity_figures(both: tuple[Warehouse, Warehouse]) -> None:
    neodes, p3 = _figures(both[0]), _figures(both[1])
    assert neodes == p3
    assert neodes[2] > 0 and len(neodes[3]) >= 3


def test_parity_with_noise_and_a_late_declaration(tmp_path: Path) -> None:
    """With noise, the platform filters upstream what the NEODES parser keeps (a replaced
    original, a duplicate send): the raw stores differ, the consolidated figures do not. The
    export sends a January declaration late, in the February extraction."""
    neodes, p3 = _simulated_pair(tmp_path, "default", 3)
    with duckdb.connect() as con:
        late = con.execute(
            f"""SELECT count(*) FROM read_parquet('{p3.raw}/declaration/*/*.parquet',
                hive_partitioning = true)
            WHERE mois_declaration = '2023-01' AND fichier LIKE '%2023-02-01.csv'"""
        ).fetchone()
    assert late == (1,)
    assert _figures(neodes) == _figures(p3)
