"""The suppression ledger: a cell masked once stays masked in every later table of its period.

The same population appears in several tables of a period: a département is a row of the table
by département and of the cube by région × département, the national total is in every table.
A cell masked in one must be masked in all, so cells are named by what defines them: the
dimensions set to a category, less those a finer one implies (a département implies its
région); the national total is the empty name. The ledger keeps those names per period.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import polars as pl

from datadsn import months
from datadsn.engine import locks

from .catalogue import same_measure
from .compute import TOTAL, period_of
from .hierarchies import ancestors

FOLDER = "secret"  # <warehouse>/secret/<periode>.jsonl
_HELD = threading.local()  # the period locks this thread holds (a run nested in a run)


@lru_cache(maxsize=65536)
def _implied(dim: str, value: str) -> tuple[tuple[str, str], ...]:
    return tuple(ancestors(dim, value).items())


def cell_id(dims: Sequence[str], values: Sequence[str | None]) -> str:
    """``dim=value`` pairs, sorted, joined by ``|``; implied ancestors left out."""
    named = {d: str(v) for d, v in zip(dims, values, strict=True) if v is not None and v != TOTAL}
    implied = {a for d, v in named.items() for a, av in _implied(d, v) if named.get(a) == av}
    return "|".join(f"{d}={named[d]}" for d in sorted(named) if d not in implied)


# A population is everything (the public tables) or a flow's scope; a scope a cell's own
# dimensions already imply, or that one category names, is folded into the cell, so that the
# same people are the same cell whatever the delivery: a flow on région 84 by département gives
# the public cells of its départements.
Scope = Mapping[str, Sequence[str]]
EVERYONE = ""


def _activity_digits(named: dict[str, str]) -> str | None:
    for dim in ("naf_sous_classe", "naf_a88"):
        if dim in named:
            return named[dim].replace(".", "")
    return None


def population_and_cell(
    scope: Scope | None, dims: Sequence[str], values: Sequence[str | None]
) -> tuple[str, str]:
    """(population, cell) of a row of a table computed on ``scope``'s population."""
    named = {d: str(v) for d, v in zip(dims, values, strict=True) if v is not None and v != TOTAL}
    if not scope:
        return EVERYONE, cell_id(list(named), list(named.values()))
    qualifiers: list[str] = []
    regions, deps = set(scope.get("regions") or ()), set(scope.get("departements") or ())
    if regions or deps:
        region = named.get("region")
        if "departement" in named or "commune" in named:
            dep = named.get("departement") or _implied("commune", named["commune"])[0][1]
            region = region or dict(_implied("departement", dep)).get("region")
            inside = dep in deps or region in regions
        else:
            inside = region is not None and region in regions
        if not inside:
            if region is None and len(regions) + len(deps) == 1:
                level, chosen = ("region", regions) if regions else ("departement", deps)
                named[level] = next(iter(chosen))
            else:
                qualifiers.append(f"territoire={','.join(sorted(regions | deps))}")
    prefixes = {p.replace(".", "") for p in scope.get("naf") or ()}
    if prefixes:
        digits = _activity_digits(named)
        if digits is None or not any(digits.startswith(p) for p in prefixes):
            only = next(iter(prefixes)) if len(prefixes) == 1 else ""
            if digits is None and len(only) == 2 and not {"naf_section", "naf_a38"} & set(named):
                named["naf_a88"] = only
            else:
                qualifiers.append(f"naf={','.join(sorted(prefixes))}")
    natures = set(scope.get("natures_contrat") or ())
    if natures and named.get("nature_contrat") not in natures:
        if "nature_contrat" not in named and len(natures) == 1:
            named["nature_contrat"] = next(iter(natures))
        else:
            qualifiers.append(f"nature_contrat={','.join(sorted(natures))}")
    if scope.get("siren"):
        qualifiers.append(f"siren={','.join(sorted(scope['siren']))}")
    return "|".join(qualifiers), cell_id(list(named), list(named.values()))


def identify(cells: pl.DataFrame, dims: Sequence[str], scope: Scope | None = None) -> pl.DataFrame:
    """``cells`` with the ``population`` and ``cellule`` of each row."""
    rows = cells.select(list(dims)).iter_rows() if dims else ((),) * cells.height
    pairs = [population_and_cell(scope, dims, row) for row in rows]
    return cells.with_columns(
        pl.Series("population", [p for p, _ in pairs], dtype=pl.Utf8),
        pl.Series("cellule", [c for _, c in pairs], dtype=pl.Utf8),
    )


KEYS = ("periode", "indicateur", "population", "cellule")


def source(
    code: str, dims: Sequence[str], start: str, end: str, period: str, scope: Scope | None = None
) -> str:
    """The name of a table in the ledger: what it is computed from, not who asked for it, so
    that running it again finds its own cells."""
    named = {k: sorted(v) for k, v in (scope or {}).items() if v}
    where = json.dumps(named, ensure_ascii=False, sort_keys=True) if named else "tous"
    return f"{code} par {','.join(dims) or 'ensemble'} {start}..{end} ({period}) {where}"


class Ledger:
    """The cells masked in anything delivered or published, one file per period:
    ``<warehouse>/secret/<periode>.jsonl``, one line per cell, only ever appended to. What is
    in it is masked again in every later table of its period (``forced``)."""

    def __init__(self, warehouse_root: Path):
        self.folder = Path(warehouse_root) / FOLDER
        # per period file: bytes parsed so far and their rows (the files are only appended to,
        # so a release recording hundreds of tables parses each line once, not once per table)
        self._parsed: dict[Path, tuple[int, list[tuple[str, ...]]]] = {}

    def path(self, period: str) -> Path:
        return self.folder / f"{period}.jsonl"

    @contextmanager
    def hold(self, start: str, end: str, period: str) -> Iterator[None]:
        """Hold the locks of the periods of ``start``..``end`` from reading the ledger to
        recording what was masked: a run of the same period started meanwhile waits, then reads
        what this one masked (without it both read the ledger before either records)."""
        held: set[Path] = getattr(_HELD, "paths", None) or set()
        _HELD.paths = held
        labels = sorted({period_of(months.to_date(m), period) for m in months.between(start, end)})
        with ExitStack() as stack:
            for label in labels:  # always in the same order: two runs never hold each other
                path = self.folder / f".{label}.verrou"
                if path in held:
                    continue
                busy = f"registre du secret de {label} occupé"
                stack.enter_context(locks.exclusive(path, busy, wait=True))
                held.add(path)
                stack.callback(held.discard, path)
            yield

    def read(self, periods: Iterable[str], with_source: bool = False) -> pl.DataFrame:
        """The masked cells of ``periods`` (columns ``KEYS``, and ``source``)."""
        columns = (*KEYS, "source")
        rows = [row for period in sorted(set(periods)) for row in self._rows(self.path(period))]
        table = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.Utf8), orient="row")
        return (table if with_source else table.drop("source")).unique()

    def _rows(self, path: Path) -> list[tuple[str, ...]]:
        """The entries of one period file, parsing only what was appended since the last call
        and only up to its last complete line (another process may be appending)."""
        if not path.exists():
            return []
        done, rows = self._parsed.get(path, (0, []))
        if path.stat().st_size < done:  # not ours to shrink: start again
            done, rows = 0, []
        with path.open("rb") as handle:
            handle.seek(done)
            fresh = handle.read()
        complete = fresh[: fresh.rfind(b"\n") + 1]
        for line in complete.decode("utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line a killed run left unfinished
            rows.append(tuple(str(entry[k]) for k in (*KEYS, "source")))
        self._parsed[path] = (done + len(complete), rows)
        return rows

    def forced(self, cells: pl.DataFrame, code: str, table: str) -> tuple[pl.Series, pl.Series]:
        """Which rows of ``cells`` (identified, see :func:`identify`) the ledger keeps masked:
        (masked by another table: to protect, masked by ``table`` itself: only to keep). Cells
        of every indicator counting the same quantity count (``catalogue.measure``)."""
        known = self.read(cells["periode"].cast(pl.Utf8).unique().to_list(), with_source=True)
        known = known.filter(pl.col("indicateur").is_in(same_measure(code)))
        own = pl.col("source") == table
        return flags(cells, known.filter(~own)), flags(cells, known.filter(own))

    def record(self, cells: pl.DataFrame, code: str, source: str) -> int:
        """Append the masked rows of ``cells`` not yet in the ledger; returns how many."""
        masked = cells.filter(pl.col("masque_primaire") | pl.col("masque_secondaire")).select(
            pl.col("periode").cast(pl.Utf8), pl.lit(code).alias("indicateur"),
            "population", "cellule",
        ).unique()  # fmt: skip
        if masked.is_empty():
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        added = 0
        with locks.exclusive(self.folder / ".verrou", "registre du secret occupé", wait=True):
            for (period,), part in masked.group_by("periode"):
                known = self.read([str(period)], with_source=True)
                new = part.join(
                    known.filter(pl.col("source") == source).drop("source"),
                    on=list(KEYS),
                    how="anti",
                )
                if new.is_empty():
                    continue
                stamp = datetime.now(UTC).isoformat(timespec="seconds")
                lines = [
                    json.dumps(
                        {**dict(zip(KEYS, row, strict=True)), "source": source, "le": stamp},
                        ensure_ascii=False,
                    )
                    for row in new.select(KEYS).iter_rows()
                ]
                path = self.path(str(period))
                # a line a killed run left unfinished stays alone on its line (then skipped)
                broken = path.exists() and path.stat().st_size and not _ends_a_line(path)
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(("\n" if broken else "") + "\n".join(lines) + "\n")
                added += len(lines)
        return added


def flags(cells: pl.DataFrame, known: pl.DataFrame) -> pl.Series:
    """Which rows of ``cells`` are among the (periode, population, cellule) of ``known``."""
    keys = ["periode", "population", "cellule"]
    marked = known.select(keys).unique().with_columns(pl.lit(True).alias("_force"))
    joined = cells.select(pl.col("periode").cast(pl.Utf8), "population", "cellule").join(
        marked, on=keys, how="left", maintain_order="left"
    )
    return joined["_force"].fill_null(False)


def _ends_a_line(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"
