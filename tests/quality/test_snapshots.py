"""Functional months: idempotence, crash safety, ordering rules and the catalogue views."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from pathlib import Path

import pytest

from datadsn.engine import models, runner
from datadsn.quality import ConsolidationError, current_month, inputs, pending_months
from datadsn.quality.consolidate import consolidate
from datadsn.quality.schema import TABLES
from datadsn.quality.snapshot import snapshot_dir
from tests.quality.scenario import Contrat, Rem, Salarie, Scenario, declaration

SIRET = "12345678200012"


def feed(sc: Scenario, month: str) -> None:
    people = [
        Salarie("1850575101101", "UN", "ALAIN", "01011980", [Contrat("C0001", "2020-01-01")]),
        Salarie(
            None,
            "DEUX",
            "BEA",
            "02011980",
            [
                Contrat(
                    "C0002",
                    "2021-01-01",
                    rems=[Rem(f"{month}-10", f"{month}-20", "017", nombre_heures="4.00")],
                )
            ],
        ),
    ]
    if month == "2023-02":
        people[1].nir = "2850575102102"
    sc.ingest(declaration(month, SIRET, people))


def contents(sc: Scenario, month: str) -> dict[str, list[tuple]]:
    out = {}
    for table in TABLES:
        if table == "chargements":
            continue
        rows = sc.rows(f"select * from quality_{month.replace('-', '_')}.{table}")
        out[table] = sorted(rows, key=repr)
    return out


@pytest.fixture
def two_months(tmp_path: Path) -> Scenario:
    sc = Scenario(tmp_path)
    feed(sc, "2023-01")
    consolidate(sc.store, "2023-01")
    feed(sc, "2023-02")
    return sc


def test_rerunning_a_month_gives_identical_snapshot(two_months: Scenario) -> None:
    """Deliberate difference: the reference doubled every hour when a month was run twice."""
    sc = two_months
    consolidate(sc.store, "2023-02")
    first = contents(sc, "2023-02")
    folder = snapshot_dir(sc.store, "2023-02")
    files = {p: p.read_bytes() for p in folder.rglob("*.parquet") if p.stem != "chargements"}
    assert folder / "contrats_mois" / "2023-01.parquet" in files  # history: one file per month
    consolidate(sc.store, "2023-02")
    assert contents(sc, "2023-02") == first
    again = {p: p.read_bytes() for p in folder.rglob("*.parquet") if p.stem != "chargements"}
    assert again == files
    assert len(sc.table("chargements")) == 2
    assert sc.rows("select sum(heures_supp_remunerees) from activites") == [(8,)]


def test_crash_midway_leaves_last_snapshot_and_rerun_matches(
    two_months: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = two_months
    clean = Scenario(tmp_path / "clean")
    shutil.copytree(sc.store.root, clean.store.root)
    consolidate(clean.store, "2023-02")

    real = runner.run_step

    def boom(con, step, **options):  # type: ignore[no-untyped-def]
        if step.name == "int_contrats":
            raise RuntimeError("panne simulée")
        return real(con, step, **options)

    monkeypatch.setattr(models, "run_step", boom)
    with pytest.raises(RuntimeError, match="panne"):
        consolidate(sc.store, "2023-02")
    assert current_month(sc.store) == "2023-01"
    assert not snapshot_dir(sc.store, "2023-02").exists()
    assert sc.rows("select count(*) from salaries") == [(2,)]
    monkeypatch.setattr(models, "run_step", real)
    consolidate(sc.store, "2023-02")
    assert current_month(sc.store) == "2023-02"
    assert contents(sc, "2023-02") == contents(clean, "2023-02")
    root = sc.store.root / "quality"
    hidden = sorted(p.name for p in root.iterdir() if p.name.startswith("."))
    # no temporary folder left: the lock file, and the version each month's link names
    linked = sorted(os.readlink(p) for p in root.iterdir() if p.is_symlink())
    assert hidden == sorted([sc.store.consolidation_lock.name, *linked])
    assert len(linked) == 2


def test_months_run_in_order_and_published_months_are_immutable(two_months: Scenario) -> None:
    sc = two_months
    assert pending_months(sc.store, "2023-02") == ["2023-02"]
    # 2023-03 is neither a raw month nor the one right after the published 2023-01
    with pytest.raises(ConsolidationError, match=r"mois 2023-03 absent .*2023-01 à 2023-02"):
        pending_months(sc.store, "2023-03")
    with pytest.raises(ConsolidationError, match="2023-02"):
        consolidate(sc.store, "2023-03")
    consolidate(sc.store, "2023-02")
    # once 2023-02 is published, the month right after it may run (no declaration in it)
    assert pending_months(sc.store, "2023-03") == ["2023-03"]
    with pytest.raises(ConsolidationError, match="précède"):
        consolidate(sc.store, "2023-01")
    with pytest.raises(ConsolidationError, match="invalide"):
        consolidate(sc.store, "2023-13")


def test_catalogue_has_current_and_past_months(two_months: Scenario) -> None:
    sc = two_months
    consolidate(sc.store, "2023-02")
    assert sc.rows("select count(*) from salaries") == [(2,)]
    assert sc.rows("select count(*) from quality_2023_01.salaries") == [(2,)]
    # the employee who obtained a NIR, and the id its contract key under the NIR would have had
    assert sc.rows("select entite, motif from fusions order by 1") == [
        ("contrat", "fusion_salarie"),
        ("salarie", "nir_obtenu"),
    ]
    assert sc.rows(
        "select mois_instantane, count(*) from quality_historique.salaries group by 1 order by 1"
    ) == [("2023-01", 2), ("2023-02", 2)]
    assert sc.rows("select count(*) from raw.contrat") == [(4,)]


def test_retention_window_of_pending_declarations() -> None:
    """Declarations leave the state after 72 months; they must not come back as pending."""
    from datadsn.quality.inputs import retention_cutoff

    assert retention_cutoff("2023-06") == "2017-07"
    assert retention_cutoff("2023-01") == "2017-02"


def test_history_months_are_carried_over_not_rewritten(two_months: Scenario) -> None:
    """A run writes only the history months of its declarations; older months are the previous
    snapshot's files, linked (the run cost does not grow with the history)."""
    sc = two_months
    consolidate(sc.store, "2023-02")
    for table in ("contrats_mois", "activites_sources"):
        before = snapshot_dir(sc.store, "2023-01") / table / "2023-01.parquet"
        after = snapshot_dir(sc.store, "2023-02") / table / "2023-01.parquet"
        assert after.stat().st_ino == before.stat().st_ino
        assert (snapshot_dir(sc.store, "2023-02") / table / "2023-02.parquet").exists()
    assert sc.rows("select count(*) from contrats_mois") == [(4,)]


def test_settled_contracts_are_archived_then_brought_back(tmp_path: Path) -> None:
    """A contract whose end is declared leaves the working file for the archive of its last
    declared month, carried over by link; declared again (099 cancels the end), it comes back
    and its archived row is withdrawn (listed, its file not rewritten)."""
    sc = Scenario(tmp_path)
    ended = Contrat("C0001", "2020-01-01", fin=("2023-01-15", "031"))
    sc.run("2023-01", declaration("2023-01", SIRET, [Salarie(contrats=[ended, Contrat("C0002")])]))
    sc.ingest(declaration("2023-02", SIRET, [Salarie(contrats=[Contrat("C0002")])]))
    summary = consolidate(sc.store, "2023-02")
    assert (summary.counts["declarations"], summary.counts["contrats"]) == (1, 2)
    jan, feb = (snapshot_dir(sc.store, m) for m in ("2023-01", "2023-02"))
    archived = feb / "contrats_archives" / "2023-01.parquet"
    assert archived.stat().st_ino == (jan / "contrats_archives" / "2023-01.parquet").stat().st_ino
    assert [c["numero"] for c in sc.table("contrats") if c["statut_fin"] == 2] == ["C0001"]
    assert sc.rows(f"select numero from '{feb / 'contrats.parquet'}'") == [("C0002",)]
    assert sc.rows("select contrats from chargements where mois = '2023-02-01'") == [(2,)]

    cancelled = Contrat("C0001", "2020-01-01", fin=("2023-01-15", "099"))
    sc.run("2023-03", declaration("2023-03", SIRET, [Salarie(contrats=[cancelled])]))
    mar = snapshot_dir(sc.store, "2023-03")
    # the archived row stays in its file, linked, and is withdrawn (file, id) instead
    archived_mar = mar / "contrats_archives" / "2023-01.parquet"
    assert archived_mar.stat().st_ino == archived.stat().st_ino
    withdrawn = sc.rows(f"select partie, contrat_id from '{mar / 'contrats_retraits.parquet'}'")
    assert withdrawn == sc.rows(f"select '2023-01', contrat_id from '{archived_mar}'")
    reopened = [c for c in sc.table("contrats") if c["numero"] == "C0001"]
    assert [(c["statut_fin"], c["date_fin_effective"]) for c in reopened] == [(None, None)]
    assert sc.rows("select count(*) from contrats") == [(2,)]
    # every month as it published it: March without its withdrawn archived row
    assert sc.rows(
        "select mois_instantane, count(*) from quality_historique.contrats group by 1 order by 1"
    ) == [("2023-01", 2), ("2023-02", 2), ("2023-03", 2)]


def test_older_snapshot_layout_stays_readable_but_a_run_on_it_says_the_way_out(
    two_months: Scenario,
) -> None:
    sc = two_months
    folder = snapshot_dir(sc.store, "2023-01")
    shutil.rmtree(folder / "contrats_mois")
    (folder / "contrats_mois.parquet").write_bytes(b"")  # history in one file, as before
    with pytest.raises(ConsolidationError, match="relancez la consolidation"):
        consolidate(sc.store, "2023-02")
    old = folder / "contrats_mois.parquet"
    sc.rows(f"COPY (SELECT 1 AS contrat_id) TO '{old}'")
    sc.store.refresh_catalog()  # still readable as it is
    assert sc.rows("select count(*) from contrats_mois") == [(1,)]


def test_raw_files_holding_integrated_declarations_load_only_the_pending_ones(
    two_months: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot without its list of raw files read (an older version) makes the next run read
    every raw file: the declarations integrated already must not be loaded again, whereas a
    run whose files hold only pending declarations loads them unfiltered."""
    sc = two_months
    consolidate(sc.store, "2023-02")
    feed(sc, "2023-03")
    clean = Scenario(tmp_path / "clean")
    shutil.copytree(sc.store.root, clean.store.root)
    consolidate(clean.store, "2023-03")
    (snapshot_dir(sc.store, "2023-02") / inputs.SEEN_FILE).unlink()
    filtered: list[bool] = []
    original = inputs._load_table

    def spy(*args, only_pending: bool = True):  # type: ignore[no-untyped-def]
        filtered.append(only_pending)
        return original(*args, only_pending=only_pending)

    monkeypatch.setattr(inputs, "_load_table", spy)
    summary = consolidate(sc.store, "2023-03")
    assert summary.declarations == 1 and filtered and all(filtered)
    assert contents(sc, "2023-03") == contents(clean, "2023-03")
    filtered.clear()
    feed(sc, "2023-04")
    consolidate(sc.store, "2023-04")  # only April's new files: nothing to filter
    assert filtered and not any(filtered)


def test_a_run_reads_only_the_raw_declaration_files_it_has_not_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The raw declaration files a run read are listed with its snapshot; the next run reads
    only the others (new lots, late files for older months, re-ingested ones) to find its
    pending declarations, so its cost does not grow with the months already integrated."""
    sc = Scenario(tmp_path)
    for month in ("2023-01", "2023-02"):
        feed(sc, month)
        consolidate(sc.store, month)
    listed = sc.rows(
        f"select chemin from '{snapshot_dir(sc.store, '2023-02') / 'fichiers_bruts.parquet'}'"
    )
    assert [p.split("/")[:2] for (p,) in listed] == [
        ["declaration", "mois_declaration=2023-01"],
        ["declaration", "mois_declaration=2023-02"],
    ]
    late = declaration("2023-01", "98765432100011", [Salarie(contrats=[Contrat("C0009")])])
    sc.ingest(late)  # a late file for January, in a new lot
    feed(sc, "2023-03")
    read: list[str] = []
    original = inputs._read

    def spy(files: list[str], filename: bool = False) -> str:
        read.extend(files)
        return original(files, filename)

    monkeypatch.setattr(inputs, "_read", spy)
    summary = consolidate(sc.store, "2023-03")
    assert summary.counts["declarations"] == 2  # March and the late January
    declaration_files = {Path(f).relative_to(sc.store.raw).as_posix() for f in read}
    assert not declaration_files & {p for (p,) in listed}  # integrated already: not read again
    assert consolidate(sc.store, "2023-03").counts["declarations"] == 2  # a rerun: the same


def _salaries_files(sc: Scenario, month: str) -> tuple[Path, Path, Path]:
    folder = snapshot_dir(sc.store, month)
    return (
        folder / "salaries.parquet",
        folder / "salaries_archives",
        folder / "salaries_retraits.parquet",
    )


def test_employees_not_declared_are_archived_and_withdrawn_when_declared_again(
    tmp_path: Path,
) -> None:
    """An employee not declared in the run's month leaves the working file for the archive of
    the month of its last declaration; declared again, it rejoins the working file under the
    same id, and its archived row is withdrawn (listed, not rewritten) until that month's file is
    written again."""
    sc = Scenario(tmp_path)
    stays = Salarie("1850575101101", "UN", "ALAIN", "01011980", [Contrat("C0001")])
    leaves = Salarie("2850575102102", "DEUX", "BEA", "02011980", [Contrat("C0002")])
    sc.run("2023-01", declaration("2023-01", SIRET, [stays, leaves]))
    sc.run("2023-02", declaration("2023-02", SIRET, [stays]))
    working, archives, withdrawn = _salaries_files(sc, "2023-02")
    assert sc.rows(f"select count(*) from '{working}'") == [(1,)]
    assert sc.rows(f"select count(*) from '{archives / '2023-01.parquet'}'") == [(1,)]
    ids = {s["salarie_id"] for s in sc.table("salaries")}
    assert len(ids) == 2
    assert sc.rows("select salaries from chargements where mois = '2023-02-01'") == [(2,)]

    sc.run("2023-03", declaration("2023-03", SIRET, [stays]))
    archived_jan = snapshot_dir(sc.store, "2023-02") / "salaries_archives" / "2023-01.parquet"
    _, archives, withdrawn = _salaries_files(sc, "2023-03")
    assert (archives / "2023-01.parquet").stat().st_ino == archived_jan.stat().st_ino

    sc.run("2023-04", declaration("2023-04", SIRET, [stays, leaves]))
    working, archives, withdrawn = _salaries_files(sc, "2023-04")
    assert (archives / "2023-01.parquet").stat().st_ino == archived_jan.stat().st_ino
    assert sc.rows(f"select strftime(date_derniere_declaration, '%Y-%m') from '{withdrawn}'") == [
        ("2023-01",)
    ]
    assert sc.rows(f"select count(*) from '{working}'") == [(2,)]
    back = sc.table("salaries")
    assert {s["salarie_id"] for s in back} == ids  # one row each, the ids kept
    assert len(back) == 2
    assert {str(s["date_derniere_declaration"]) for s in back} == {"2023-04-01"}
    assert {str(s["date_premiere_declaration"]) for s in back} == {"2023-01-01"}

    # leaving again in May, it joins the archive of April; a late file for January declaring
    # a newcomer writes January's file again, without the withdrawn row
    late = Salarie("1850575103103", "TROIS", "CLEO", "03011980", [Contrat("C0003")])
    sc.ingest(declaration("2023-01", "12345678200020", [late]))
    sc.run("2023-05", declaration("2023-05", SIRET, [stays]))
    working, archives, withdrawn = _salaries_files(sc, "2023-05")
    assert sc.rows(f"select count(*) from '{archives / '2023-04.parquet'}'") == [(1,)]
    assert sc.rows(f"select count(*) from '{archives / '2023-01.parquet'}'") == [(1,)]
    assert sc.rows(f"select count(*) from '{withdrawn}'") == [(0,)]
    assert len(sc.table("salaries")) == 3
    assert sc.rows("select salaries from chargements where mois = '2023-05-01'") == [(3,)]
    assert sc.rows(
        "select mois_instantane, count(*) from quality_historique.salaries group by 1 order by 1"
    ) == [("2023-01", 2), ("2023-02", 2), ("2023-03", 2), ("2023-04", 2), ("2023-05", 3)]


def test_an_archived_employee_without_nir_merges_with_its_nir_row(tmp_path: Path) -> None:
    """The inferred NIR-less -> NIR merge finds the archived row: the survivor keeps the id
    first issued, the archived row is withdrawn, and nothing is counted twice."""
    sc = Scenario(tmp_path)
    other = Salarie("1850575101101", "UN", "ALAIN", "01011980", [Contrat("C0001")])
    no_nir = Salarie(None, "DEUX", "BEA", "02011980", [Contrat("C0002")])
    sc.run("2023-01", declaration("2023-01", SIRET, [other, no_nir]))
    sc.run("2023-02", declaration("2023-02", SIRET, [other]))
    first_id = next(s["salarie_id"] for s in sc.table("salaries") if s["nir"] is None)
    other_id = next(s["salarie_id"] for s in sc.table("salaries") if s["nir"] is not None)
    with_nir = Salarie("2850575102102", "DEUX", "BEA", "02011980", [Contrat("C0002")])
    sc.run("2023-03", declaration("2023-03", SIRET, [other, with_nir]))
    people = sc.table("salaries")
    assert len(people) == 2
    merged = [s for s in people if s["salarie_id"] != other_id]
    assert [(s["salarie_id"], s["nir"] is not None) for s in merged] == [(first_id, True)]
    fusions = [f for f in sc.table("fusions") if f["entite"] == "salarie"]
    assert [f["id_survivant"] for f in fusions] == [first_id]
    _, _, withdrawn = _salaries_files(sc, "2023-03")
    assert sc.rows(f"select salarie_id, date_derniere_declaration from '{withdrawn}'") == [
        (first_id, dt.date(2023, 1, 1))
    ]
    assert sc.rows("select salaries from chargements where mois = '2023-03-01'") == [(2,)]


def test_a_second_run_on_the_same_warehouse_stops_with_a_clear_message(
    two_months: Scenario,
) -> None:
    """Two runs at once removed each other's temporary folders and failed on a missing file; the
    second one now stops before touching anything (the lock is the system's, released if the
    process dies)."""
    sc = two_months
    lock = sc.store.consolidation_lock
    with open(lock, "a", encoding="utf-8") as other_run:
        fcntl.flock(other_run, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ConsolidationError, match="une autre consolidation est en cours"):
            consolidate(sc.store, "2023-02")
        assert current_month(sc.store) == "2023-01"
    consolidate(sc.store, "2023-02")  # released: the run goes through
    assert current_month(sc.store) == "2023-02"


def test_catalogue_lists_only_the_months_published_since_its_last_build(
    two_months: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A published month never changes while its link names the same version: the catalogue
    keeps its files and their columns, and a rebuild lists the new month's folder only."""
    from datadsn.quality import snapshot

    sc = two_months
    listed: list[str] = []
    month_files = snapshot._month_files
    monkeypatch.setattr(
        snapshot, "_month_files", lambda folder: listed.append(folder.name) or month_files(folder)
    )
    consolidate(sc.store, "2023-02")
    assert listed == ["2023-02"]
    listed.clear()
    sc.store.refresh_catalog()
    feed(sc, "2023-03")  # a new lot: the raw views are made again, the listing is kept
    assert listed == []
    # run again, 2023-02 names another version: listed again, its old files forgotten
    consolidate(sc.store, "2023-02")
    assert listed == ["2023-02"]
    assert sc.rows(
        "select mois_instantane, count(*) from quality_historique.salaries group by 1 order by 1"
    ) == [("2023-01", 2), ("2023-02", 2)]
    assert sc.rows(
        f"select count(distinct version) from {snapshot.LISTING} where mois = '2023-02'"
    ) == [(1,)]


def test_catalogue_reads_a_month_whose_files_predate_a_column(two_months: Scenario) -> None:
    """Files of an older version lack a column added since: the views read it as NULL there,
    whether the catalogue was built by that version (no kept listing) or by this one."""
    from datadsn.quality import snapshot

    sc = two_months
    consolidate(sc.store, "2023-02")
    old = snapshot_dir(sc.store, "2023-01") / "salaries.parquet"
    sc.rows(f"COPY (SELECT * EXCLUDE (nom_famille) FROM '{old}') TO '{old}.tmp' (FORMAT parquet)")
    os.replace(f"{old}.tmp", old)
    for built_before in (True, False):
        with duckdb_catalogue(sc) as con:  # as a catalogue built by an older version
            con.execute(f"DROP TABLE IF EXISTS {snapshot.LISTING}")
        if not built_before:
            sc.store.refresh_catalog()
        sc.store.refresh_catalog()
        assert sc.rows(
            "select mois_instantane, count(*), count(nom_famille) "
            "from quality_historique.salaries group by 1 order by 1"
        ) == [("2023-01", 2, 0), ("2023-02", 2, 2)]


def duckdb_catalogue(sc: Scenario):  # type: ignore[no-untyped-def]
    import duckdb

    return duckdb.connect(str(sc.store.catalog))


def test_an_archived_temporary_work_contract_comes_back_with_its_copy(tmp_path: Path) -> None:
    """The copy of a temporary-work contract in its user establishment is archived with it and
    only ever looked up through it: brought back together, withdrawn together, published once."""
    agency, user = "44444444400044", "55555555500055"
    sc = Scenario(tmp_path)

    def month(m: str, fin: tuple[str, str]) -> None:
        worker = Salarie(
            "1850575101101",
            "UN",
            "ALAIN",
            "01011980",
            [
                Contrat(
                    "T0001", "2023-01-02", "03", fin=fin, siret_utilisateur=user, motif_recours="01"
                )
            ],
        )
        sc.run(
            m,
            declaration(m, agency, [worker, Salarie("2850575102102", "DEUX", "BEA")], naf="7820Z"),
            declaration(m, user, [Salarie("1850575103103", "TROIS", "CLO")]),
        )

    month("2023-01", ("2023-01-20", "031"))
    sc.run(
        "2023-02",
        declaration("2023-02", agency, [Salarie("2850575102102", "DEUX", "BEA")], naf="7820Z"),
        declaration("2023-02", user, [Salarie("1850575103103", "TROIS", "CLO")]),
    )
    feb = snapshot_dir(sc.store, "2023-02")
    archived = sc.rows(
        f"select numero, ett_contrat_id is not null from '{feb / 'contrats_archives'}/*.parquet' "
        "order by 1"
    )
    assert archived == [("T0001", False), (f"T0001_{agency}", True)]
    month("2023-03", ("2023-01-20", "099"))  # the end cancelled: the contract comes back
    mar = snapshot_dir(sc.store, "2023-03")
    withdrawn = sc.rows(f"select count(*) from '{mar / 'contrats_retraits.parquet'}'")
    assert withdrawn == [(2,)]
    back = [c for c in sc.table("contrats") if c["numero"].startswith("T0001")]
    assert sorted((c["numero"], c["statut_fin"]) for c in back) == [
        ("T0001", None),
        (f"T0001_{agency}", None),
    ]
    assert sc.rows("select count(*) - count(distinct contrat_id) from contrats") == [(0,)]
