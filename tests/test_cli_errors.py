"""The command line's error boundary and the checks run before writing: every expected failure is
one French line on stderr (``Erreur : ...``), exit 2 for a usage error and 1 for a failure, never
a traceback; and consolidate only runs months the raw store allows."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datadsn.cli import app
from datadsn.engine.warehouse import Warehouse
from datadsn.quality.snapshot import current_month
from tests import dsn_builder as b

KEY = "a-test-key-of-at-least-32-bytes!"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def one_error_line(result, code: int) -> str:
    """The command failed with ``code``, saying why in one French line and no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Erreur : "), result.stderr
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    return lines[0]


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATADSN_SECRET", KEY)
    monkeypatch.delenv("DATADSN_SECRET_FILE", raising=False)
    monkeypatch.delenv("DATADSN_DEBUG", raising=False)
    monkeypatch.setenv("DATADSN_HOME", str(tmp_path / "home"))


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """Two declared months, 2024-01 and 2024-02."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, month in (("jan.dsn", "01012024"), ("fev.dsn", "01022024")):
        (folder / name).write_bytes(b.render(b.envoi(b.declaration(month=month))))
    return folder


@pytest.fixture
def warehouse(tmp_path: Path, inputs: Path) -> Path:
    root = tmp_path / "wh"
    assert run("ingest", str(inputs), "-w", str(root)).exit_code == 0
    return root


# --- months ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--month", "9999-12"], "mois 9999-12 hors de la plage admise (1990-01 à 2099-12)"),
        (["--month", "2098-12"], "mois 2098-12 absent des données brutes (2024-01 à 2024-02)"),
        (["--month", "1990-01"], "mois 1990-01 absent des données brutes (2024-01 à 2024-02)"),
        (["--month", "2024-02"], "la première consolidation porte sur le premier mois"),
        (["--month", ""], "mois invalide '' : format attendu AAAA-MM"),
        (["--month", "2024-13"], "mois invalide '2024-13' : format attendu AAAA-MM"),
        (["--through", ""], "mois invalide '' : format attendu AAAA-MM"),
        (["--through", "9999-12"], "mois 9999-12 hors de la plage admise"),
        (["--through", "2024-03"], "mois 2024-03 absent des données brutes (2024-01 à 2024-02)"),
        (["--through", "2023-12"], "mois 2023-12 absent des données brutes (2024-01 à 2024-02)"),
    ],
)
def test_a_month_outside_the_raw_store_is_refused_and_publishes_nothing(
    warehouse: Path, args: list[str], expected: str
) -> None:
    line = one_error_line(run("consolidate", *args, "-w", str(warehouse)), 2)
    assert expected in line
    assert current_month(Warehouse(warehouse)) is None
    # and the months that are there still run
    assert run("consolidate", "--through", "2024-02", "-w", str(warehouse)).exit_code == 0
    assert current_month(Warehouse(warehouse)) == "2024-02"


def test_after_a_snapshot_months_run_in_order(warehouse: Path) -> None:
    wh = str(warehouse)
    assert run("consolidate", "--month", "2024-01", "-w", wh).exit_code == 0
    line = one_error_line(run("consolidate", "--month", "2024-03", "-w", wh), 2)
    assert "mois 2024-03 absent des données brutes (2024-01 à 2024-02)" in line
    assert "le prochain mois à consolider est 2024-02" in line
    assert run("consolidate", "--month", "2024-02", "-w", wh).exit_code == 0
    # the month right after the last snapshot may run without declarations, not the one after
    assert "2025-01" in one_error_line(run("consolidate", "--through", "2025-01", "-w", wh), 2)
    assert run("consolidate", "--month", "2024-03", "-w", wh).exit_code == 0
    line = one_error_line(run("consolidate", "--month", "2024-01", "-w", wh), 2)
    assert "précède le dernier mois publié (2024-03)" in line


@pytest.mark.parametrize(("old", "allowed"), [("01012017", True), ("01032018", False)])
def test_a_first_run_may_skip_raw_months_beyond_its_retention_only(
    tmp_path: Path, old: str, allowed: bool
) -> None:
    """2017-01 is more than 72 months before 2024-02 (left out and reported by any run from
    2024-02 on), 2018-03 is not: then the history starts at the first raw month."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, month in (("ancien.dsn", old), ("recent.dsn", "01022024")):
        (folder / name).write_bytes(b.render(b.envoi(b.declaration(month=month))))
    wh = str(tmp_path / "wh")
    assert run("ingest", str(folder), "-w", wh).exit_code == 0
    result = run("consolidate", "--month", "2024-02", "-w", wh)
    if allowed:
        assert result.exit_code == 0, result.output
        assert "antérieur à la rétention" in result.stderr
    else:
        line = one_error_line(result, 2)
        assert "mois 2024-02 : aucun instantané publié" in line and "--month 2018-03" in line


def test_raw_store_without_declarations(tmp_path: Path) -> None:
    """Raw data where every declaration was rejected: nothing to consolidate, said as such."""
    wh = tmp_path / "wh"
    (wh / "raw" / "rejections").mkdir(parents=True)
    for args in (["--through", "2024-01"], ["--month", "2024-01"]):
        line = one_error_line(run("consolidate", *args, "-w", str(wh)), 2)
        assert f"aucune déclaration dans les données brutes de {wh}" in line


# --- secrets --------------------------------------------------------------------------------


def test_bad_secrets_are_refused_before_anything_is_written(
    tmp_path: Path, inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = tmp_path / "wh"
    monkeypatch.setenv("DATADSN_SECRET", "x")
    assert "trop courte (DATADSN_SECRET : 1 octet(s), 32 au moins)" in one_error_line(
        run("ingest", str(inputs), "-w", str(wh)), 2
    )
    monkeypatch.setenv("DATADSN_SECRET", "")
    assert "clé de pseudonymisation vide (DATADSN_SECRET)" in one_error_line(
        run("ingest", str(inputs), "-w", str(wh)), 2
    )
    monkeypatch.delenv("DATADSN_SECRET")
    monkeypatch.setenv("DATADSN_SECRET_FILE", str(tmp_path / "absent.key"))
    line = one_error_line(run("ingest", str(inputs), "-w", str(wh)), 2)
    assert f"DATADSN_SECRET_FILE désigne {tmp_path / 'absent.key'} : fichier introuvable" in line
    empty = tmp_path / "vide.key"
    empty.write_bytes(b"\n")
    monkeypatch.setenv("DATADSN_SECRET_FILE", str(empty))
    assert "clé de pseudonymisation vide" in one_error_line(
        run("ingest", str(inputs), "-w", str(wh)), 2
    )
    monkeypatch.setenv("DATADSN_SECRET_FILE", str(tmp_path))
    assert "c'est un dossier" in one_error_line(run("ingest", str(inputs), "-w", str(wh)), 2)
    assert not wh.exists()
    good = tmp_path / "bonne.key"
    good.write_text(KEY + "\n")
    monkeypatch.setenv("DATADSN_SECRET_FILE", str(good))
    assert run("ingest", str(inputs), "-w", str(wh)).exit_code == 0


def test_the_demo_key_needs_demo_and_a_short_configured_key_is_refused_even_then(
    tmp_path: Path, inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATADSN_SECRET", "court")
    line = one_error_line(run("ingest", str(inputs), "-w", str(tmp_path / "wh"), "--demo"), 2)
    assert "trop courte" in line
    monkeypatch.delenv("DATADSN_SECRET")
    assert run("ingest", str(inputs), "-w", str(tmp_path / "wh"), "--demo").exit_code == 0


# --- paths checked before writing -----------------------------------------------------------


def test_a_warehouse_that_is_a_file(tmp_path: Path, inputs: Path) -> None:
    file = inputs / "jan.dsn"
    for args in (
        ["ingest", str(inputs)],
        ["consolidate", "--through", "2024-01"],
        ["sql", "select 1"],
        ["evaluate", "--truth", str(tmp_path)],
        ["indicators", "compute", "EFF_FIN", "--from", "2024-01", "--to", "2024-01"],
    ):
        line = one_error_line(run(*args, "-w", str(file)), 2)
        assert f"l'entrepôt {file} est un fichier, pas un dossier" in line, args
    line = one_error_line(run("ingest", str(inputs), "-w", str(file / "wh")), 2)
    assert f"{file} est un fichier, pas un dossier" in line


def test_summary_in_a_missing_folder_is_refused_before_the_data_is_written(
    tmp_path: Path, inputs: Path
) -> None:
    wh = tmp_path / "wh"
    summary = tmp_path / "absent" / "bilan.json"
    line = one_error_line(run("ingest", str(inputs), "-w", str(wh), "--summary", str(summary)), 2)
    assert f"--summary {summary} : le dossier {summary.parent} n'existe pas" in line
    assert not wh.exists()
    line = one_error_line(run("ingest", str(inputs), "-w", str(wh), "--summary", str(tmp_path)), 2)
    assert "est un dossier, un nom de fichier est attendu" in line
    assert not wh.exists()


def test_empty_folders_missing_paths_and_bad_worker_counts(tmp_path: Path, inputs: Path) -> None:
    wh = str(tmp_path / "wh")
    empty = tmp_path / "vide"
    empty.mkdir()
    line = one_error_line(run("ingest", str(empty), "-w", wh), 2)
    assert f"le dossier {empty} ne contient aucun fichier à ingérer" in line
    (empty / "sous-dossier").mkdir()
    (empty / ".cache").write_text("caché")
    assert "aucun fichier" in one_error_line(run("ingest", str(empty), "-w", wh), 2)
    assert "introuvable" in one_error_line(run("ingest", str(tmp_path / "nope"), "-w", wh), 2)
    for workers in ("0", "-1"):
        result = run("ingest", str(inputs), "-w", wh, "--workers", workers)
        assert result.exit_code == 2 and "--workers" in result.output
        assert "Traceback" not in result.output
    assert not Path(wh).exists()


# --- failures while writing -----------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(path: Path, size: str, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` (root only: skipped elsewhere)."""
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("monter un tmpfs demande root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode:
        pytest.skip(f"mount indisponible : {mounted.stderr.decode()}")
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=True)


def test_disk_full_on_a_real_small_filesystem(tmp_path: Path, inputs: Path) -> None:
    with small_filesystem(tmp_path / "petit", "48k") as small:
        line = one_error_line(run("ingest", str(inputs), "-w", str(small / "wh")), 1)
    assert line.startswith("Erreur : disque plein en écrivant ")
    assert str(small / "wh") in line


def test_read_only_filesystem(tmp_path: Path, inputs: Path) -> None:
    """A read-only mount (chmod does not stop root): refused before anything is written."""
    with small_filesystem(tmp_path / "lecture", "1m", read_only=True) as ro:
        line = one_error_line(run("ingest", str(inputs), "-w", str(ro / "wh")), 1)
    assert f"système de fichiers en lecture seule : impossible d'écrire {ro / 'wh'}" in line


def test_disk_full_while_ingesting(
    tmp_path: Path, inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without root, the disk fills up by monkeypatching: Arrow's writer raises the OSError it
    raises on a full disk (errno 28, no file name)."""
    import pyarrow.parquet as pq

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] ...")

    monkeypatch.setattr(pq, "write_table", full)
    wh = tmp_path / "wh"
    line = one_error_line(run("ingest", str(inputs), "-w", str(wh)), 1)
    assert line == f"Erreur : disque plein en écrivant dans {wh}"


def test_permission_denied_and_read_only_warehouse(
    tmp_path: Path, inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """chmod does not stop root: the probe file the command writes first fails as the system
    would fail it (monkeypatched), and nothing else is written."""
    import tempfile

    wh = tmp_path / "wh"
    for code, message in (
        (errno.EACCES, f"Erreur : permission refusée sur {wh}"),
        (errno.EROFS, f"Erreur : système de fichiers en lecture seule : impossible d'écrire {wh}"),
    ):

        def refuse(*args: object, code: int = code, **kwargs: object) -> None:
            raise OSError(code, os.strerror(code), str(wh / ".datadsn-essai-x"))

        with monkeypatch.context() as patch:
            patch.setattr(tempfile, "mkstemp", refuse)
            assert one_error_line(run("ingest", str(inputs), "-w", str(wh)), 1) == message
        assert not (wh / "raw").exists()


def test_disk_full_after_the_snapshot_is_published_says_so(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: Warehouse) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self.catalog))

    monkeypatch.setattr(Warehouse, "refresh_catalog", full)
    line = one_error_line(run("consolidate", "--month", "2024-01", "-w", str(warehouse)), 1)
    assert "instantané 2024-01 publié, mais le catalogue de l'entrepôt n'a pas été reconstruit" in (
        line
    )
    assert f"disque plein en écrivant {warehouse / 'catalog.duckdb'}" in line
    assert "datadsn consolidate --month 2024-01" in line
    assert current_month(Warehouse(warehouse)) == "2024-01"


def test_duckdb_io_errors_are_one_line(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    def broken(self: Warehouse, read_only: bool = True) -> None:
        raise duckdb.IOException(f'IO Error: Could not read file "{self.catalog}": Input/output')

    monkeypatch.setattr(Warehouse, "connect", broken)
    line = one_error_line(run("sql", "select 1", "-w", str(warehouse)), 1)
    catalog = warehouse / "catalog.duckdb"
    assert line == f'Erreur : base DuckDB : IO Error: Could not read file "{catalog}": Input/output'


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datadsn.quality import consolidate as module

    def bug(*args: object, **kwargs: object) -> None:
        raise KeyError("colonne")

    monkeypatch.setattr(module, "_run", bug)
    line = one_error_line(run("consolidate", "--month", "2024-01", "-w", str(warehouse)), 1)
    assert "erreur inattendue (KeyError" in line and "--debug" in line
    debug = run("--debug", "consolidate", "--month", "2024-01", "-w", str(warehouse))
    assert isinstance(debug.exception, KeyError)
    monkeypatch.setenv("DATADSN_DEBUG", "1")
    debug = run("consolidate", "--month", "2024-01", "-w", str(warehouse))
    assert isinstance(debug.exception, KeyError)


# --- a matrix of bad inputs x commands, through the installed entry point ----------------------

COMMANDS = {
    "ingest": ["ingest", "{in}"],
    "consolidate": ["consolidate", "--through", "{month}"],
    "sql": ["sql", "select count(*) from raw.declaration"],
    "evaluate": ["evaluate", "--truth", "{tmp}/truth"],
    "indicators": ["indicators", "compute", "EFF_FIN", "--from", "{month}", "--to", "{month}"],
    "flow": ["flow", "run", "{tmp}/flux.yaml", "--month", "{month}", "--no-portal"],
}
# (options, month): a bad warehouse, or a bad month with the warehouse ingested by the fixture
BAD = {
    "warehouse-is-a-file": (["-w", "{in}/jan.dsn"], "2024-01"),
    "warehouse-missing": (["-w", "{tmp}/absent/wh"], "2024-01"),
    "warehouse-under-a-file": (["-w", "{in}/jan.dsn/wh"], "2024-01"),
    "warehouse-empty-folder": (["-w", "{tmp}/vide"], "2024-01"),
    "month-empty": (["-w", "{wh}"], ""),
    "month-13": (["-w", "{wh}"], "2024-13"),
    "month-far": (["-w", "{wh}"], "9999-12"),
    "month-not-raw": (["-w", "{wh}"], "1990-01"),
}
# the combinations that are not bad: ingest creates its warehouse, some commands take no month
FINE = {("ingest", "warehouse-missing"), ("ingest", "warehouse-empty-folder")} | {
    (command, bad) for command in ("ingest", "sql", "evaluate") for bad in BAD if "month" in bad
}


@pytest.mark.parametrize(
    ("command", "bad"),
    [(c, b) for c in sorted(COMMANDS) for b in sorted(BAD) if (c, b) not in FINE],
)
def test_bad_inputs_never_show_a_traceback(
    tmp_path: Path, inputs: Path, warehouse: Path, command: str, bad: str
) -> None:
    (tmp_path / "vide").mkdir()
    (tmp_path / "flux.yaml").write_text("version: 1\nnom: casse\n", encoding="utf-8")
    options, month = BAD[bad]

    def fill(args: list[str]) -> list[str]:
        values = {"tmp": tmp_path, "in": inputs, "wh": warehouse, "month": month}
        return [a.format(**values) for a in args]

    result = run(*fill(COMMANDS[command]), *fill(options))
    assert result.exit_code in (1, 2, 3), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Erreur" in result.output or "✗" in result.output


def test_the_installed_command_reports_in_one_line(tmp_path: Path, inputs: Path) -> None:
    """The real entry point (a fresh process, prestart and all), not the test runner."""
    env = {**os.environ, "DATADSN_SECRET": "court"}
    command = [sys.executable, "-m", "datadsn.cli", "ingest", str(inputs), "-w", str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Erreur : clé de pseudonymisation trop courte")
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (OSError(errno.ENOSPC, "x", "/a/b.parquet"), "disque plein en écrivant /a/b.parquet"),
        (OSError(errno.EDQUOT, "x", "/a"), "quota disque dépassé en écrivant /a"),
        (OSError(errno.EROFS, "x", "/a"), "système de fichiers en lecture seule"),
        (OSError(errno.EACCES, "x", "/a"), "permission refusée sur /a"),
        (OSError(errno.ENOENT, "x", "/a"), "fichier ou dossier introuvable : /a"),
        (OSError(errno.ENOTDIR, "x", "/a/b"), "/a/b : un fichier se trouve là où un dossier"),
        (OSError(errno.EISDIR, "x", "/a"), "/a est un dossier, un fichier est attendu"),
        (OSError("Failed to open local file '/a/b'. Detail: [errno 13] ..."), "refusée sur /a/b"),
        (OSError(errno.EADDRINUSE, "Address already in use"), "erreur du système : Address"),
        (MemoryError(), "mémoire insuffisante"),
    ],
)
def test_explain_names_the_path_in_french(exc: BaseException, line: str) -> None:
    from datadsn.cli.errors import EXIT_FAILURE, EXIT_USAGE, explain

    problem = explain(exc)
    assert line in str(problem)
    usage = isinstance(exc, OSError) and exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EISDIR)
    assert problem.code == (EXIT_USAGE if usage else EXIT_FAILURE)
