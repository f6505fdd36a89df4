"""The public monthly release: the catalogue's tables over 24 months, protected together.

Layout (a contract with the portal, which reads it through :func:`latest` only)::

    <warehouse>/publications/<YYYY-MM>   atomic link to an immutable version folder
        release.json                     metadata, rules, audit, one entry per indicator
        <CODE>.parquet                   one row per released cell, long format (COLUMNS)

For each indicator, each released dimension (région, département, NAF section and A88, size
band, sex, broad age band: those the indicator allows) is a table of one dimension and the
national total. Tables of one hierarchy are slices of one protected cube (``hierarchies.py``);
cubes share the national total, so a cell masked in one is forced masked in the others and
they are protected again until they agree. An indicator whose value is a share along a dimension
(``part_selon``) is released along that dimension only. Before anything is written, an attacker
holding every table of a period solves the linear programme of each masked primary cell
(``attacker.attack``): a cell pinned narrower than its protection interval refuses the release.
A new run of the same month publishes the next version; the link swap is atomic
(``engine/publication.py``), files are written read-only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from datadsn import months
from datadsn.engine import locks, publication

from . import attacker, references, suppression
from .catalogue import BY_CODE, CATALOGUE, Indicator, same_measure
from .compute import TOTAL, IndicatorError, Session, compute_cells, precompute_cells
from .hierarchies import UNKNOWN
from .publish import joint_dims, protect_cells, slice_of
from .release import STATUSES, shown_value
from .rules import Rules

FORMAT = "datadsn-publication/1"
FOLDER = "publications"
META = "release.json"
WRITING = ".ecriture-"  # a version being written, under the publication lock
WINDOW = 24  # months released, up to the release's month
PERIOD = "mois"
DIMENSIONS = (
    "region",
    "departement",
    "naf_section",
    "naf_a88",
    "tranche_effectif",
    "sexe",
    "tranche_age_large",
)
NATIONAL = "national"
NATIONAL_LABEL = "France entière"
COLUMNS: dict[str, Any] = {
    "indicateur": pl.Utf8,
    "periode": pl.Utf8,
    "dimension": pl.Utf8,
    "code": pl.Utf8,
    "libelle": pl.Utf8,
    "valeur": pl.Float64,
    "unite": pl.Utf8,
    "statut": pl.Utf8,
}
# Labels of the categories the reference lists do not name.
LABELS = {
    "tranche_effectif": {
        "0": "aucun salarié",
        "1-9": "1 à 9 salariés",
        "10-49": "10 à 49 salariés",
        "50-249": "50 à 249 salariés",
        "250+": "250 salariés ou plus",
    },
}
UNKNOWN_LABEL = "non renseigné"
# The releases' name in the suppression ledger: one table per indicator, dimension and month,
# whatever the release it is in, so that a month's cells masked by one release are only kept
# masked by the next (not protected anew, which would mask more every month).
SOURCE = "publication mensuelle"
MAX_ROUNDS = 10  # cubes protected again until their shared cells agree
_MONTH = re.compile(r"^\d{4}-\d{2}$")


# The protected cells of each cube of an indicator, by the cube's dimensions.
Cubes = dict[tuple[str, ...], pl.DataFrame]


class PublicationError(ValueError):
    """A release that cannot be made or read (message in French)."""


class PublicationRefused(PublicationError):
    """The attacker audit pins a masked cell: nothing is published."""


@dataclass(frozen=True)
class Publication:
    """One published version, read from its own folder (a later swap does not mix versions)."""

    folder: Path
    meta: dict[str, Any]

    @property
    def month(self) -> str:
        return str(self.meta["mois"])

    @property
    def version(self) -> int:
        return int(self.meta["version"])

    def path(self, code: str) -> Path:
        for entry in self.meta["indicateurs"]:
            if entry["code"] == code.upper():
                return self.folder / entry["fichier"]
        raise PublicationError(f"indicateur absent de la publication {self.month} : {code}")

    def cells(self, code: str) -> pl.DataFrame:
        return pl.read_parquet(self.path(code))


def folder(warehouse_root: Path) -> Path:
    return Path(warehouse_root) / FOLDER


def is_month(name: str) -> bool:
    return bool(_MONTH.match(name))


def open_month(warehouse_root: Path, month: str) -> Publication | None:
    link = folder(warehouse_root) / month
    if not link.exists():
        return None
    version = link.resolve()
    try:
        meta = json.loads((version / META).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PublicationError(f"publication {month} illisible : {exc}") from exc
    if meta.get("format") != FORMAT:
        raise PublicationError(f"publication {month} d'un autre format : {meta.get('format')}")
    return Publication(version, meta)


def latest(warehouse_root: Path) -> Publication | None:
    """The release of the latest month published, or None."""
    root = folder(warehouse_root)
    if not root.is_dir():
        return None
    published = sorted(p.name for p in root.iterdir() if is_month(p.name) and p.exists())
    return open_month(warehouse_root, published[-1]) if published else None


def released_dimensions(indicator: Indicator) -> list[str]:
    """``national`` then the dimensions released for ``indicator``."""
    if indicator.part_selon:
        return [indicator.part_selon]
    return [NATIONAL, *[d for d in DIMENSIONS if d in indicator.dimensions]]


def cubes(indicator: Indicator) -> list[tuple[list[str], list[str]]]:
    """(cube dimensions, released dimensions sliced from it), one cube per hierarchy."""
    out: list[tuple[list[str], list[str]]] = []
    for dim in released_dimensions(indicator):
        if dim == NATIONAL:
            continue
        joint = joint_dims(indicator, [dim])
        for known, members in out:
            if set(known) == set(joint):
                members.append(dim)
                break
        else:
            out.append((joint, [dim]))
    return out


def window(session: Session, month: str) -> tuple[str, str]:
    """The 24 months up to ``month``, from the first consolidated month at the earliest."""
    end = months.parse(month, PublicationError)
    rows = session.backend.rows("SELECT min(mois) FROM contrats_mois")
    first = months.of_date(rows[0][0]) if rows and rows[0][0] is not None else end
    return max(months.shift(end, 1 - WINDOW), first), end


def _masked() -> pl.Expr:
    return pl.col("masque_primaire") | pl.col("masque_secondaire")


def protect_indicator(
    session: Session,
    indicator: Indicator,
    start: str,
    end: str,
    rules: Rules,
    ledger: suppression.Ledger | None = None,
) -> Cubes:
    """Each cube of ``indicator`` protected, a cell masked in one masked in all, with
    ``population`` and ``cellule`` columns (:func:`suppression.identify`). Cells the ledger
    holds from other tables are protected like primary ones; from earlier releases, kept."""
    raw: Cubes = {}
    for joint, _ in cubes(indicator):
        cells = compute_cells(session, indicator, joint, start, end, PERIOD)
        raw[tuple(joint)] = suppression.identify(cells, joint)
    keys = ["periode", "population", "cellule"]
    masked = kept = pl.DataFrame(schema=dict.fromkeys(keys, pl.Utf8))
    if ledger is not None:
        known = ledger.read(months.between(start, end), with_source=True)
        known = known.filter(pl.col("indicateur").is_in(same_measure(indicator.code)))
        own = pl.col("source") == SOURCE
        masked, kept = known.filter(~own).select(keys), known.filter(own).select(keys)
    done: Cubes = {}
    for _ in range(MAX_ROUNDS):
        behind = [
            key
            for key in raw
            if key not in done or done[key].filter(~_masked()).join(masked, on=keys).height
        ]
        if not behind:
            return done
        for key in behind:
            forced = suppression.flags(raw[key], masked)
            keep = suppression.flags(raw[key], kept)
            done[key] = protect_cells(raw[key], indicator, list(key), rules, forced, keep)
        masked = pl.concat(
            [masked, *[c.filter(_masked()).select(keys) for c in done.values()]]
        ).unique()
    raise PublicationError(
        f"{indicator.code} : les tableaux de la période ne s'accordent pas sur les cases masquées"
    )


def released_cells(indicator: Indicator, done: Cubes) -> list[tuple[str, pl.DataFrame]]:
    """(dimension, its table with ``statut`` and the national margin) sliced from the cubes."""
    return [
        (dim, slice_of(done[tuple(joint)], joint, [dim]).with_columns(_status().alias("statut")))
        for joint, members in cubes(indicator)
        for dim in members
    ]


def _status() -> pl.Expr:
    return (
        pl.when(pl.col("masque_primaire"))
        .then(pl.lit(STATUSES[1]))
        .when(pl.col("masque_secondaire"))
        .then(pl.lit(STATUSES[2]))
        .otherwise(pl.lit(STATUSES[0]))
    )


def long_table(indicator: Indicator, cubes_done: Cubes) -> pl.DataFrame:
    """The released rows of ``indicator`` (``COLUMNS``), national first."""
    known = references.labels()
    parts: list[pl.DataFrame] = []
    national_done = False
    for dim, table in released_cells(indicator, cubes_done):
        if not national_done and not indicator.part_selon:
            national = table.filter(pl.col(dim) == TOTAL)
            parts.append(_rows(indicator, national, NATIONAL, None, {}))
            national_done = True
        inner = table.filter(pl.col(dim) != TOTAL)
        labels = {**known.get(dim, {}), **LABELS.get(dim, {}), UNKNOWN: UNKNOWN_LABEL}
        parts.append(_rows(indicator, inner, dim, dim, labels))
    if not parts:
        return pl.DataFrame(schema=COLUMNS)
    order = {d: i for i, d in enumerate(released_dimensions(indicator))}
    rank = pl.col("dimension").replace_strict(order, return_dtype=pl.Int32)
    return pl.concat(parts).sort(rank, "code", "periode", nulls_last=False)


def _rows(
    indicator: Indicator,
    table: pl.DataFrame,
    dimension: str,
    column: str | None,
    labels: dict[str, str],
) -> pl.DataFrame:
    code = pl.col(column) if column else pl.lit(None, dtype=pl.Utf8)
    label = (
        pl.col(column).replace_strict(labels, default=pl.col(column), return_dtype=pl.Utf8)
        if column
        else pl.lit(NATIONAL_LABEL)
    )
    return table.select(
        pl.lit(indicator.code).alias("indicateur"),
        pl.col("periode").cast(pl.Utf8),
        pl.lit(dimension).alias("dimension"),
        code.cast(pl.Utf8).alias("code"),
        label.alias("libelle"),
        shown_value(),
        pl.lit(indicator.unite).alias("unite"),
        "statut",
    )


def exposed(indicator: Indicator, cubes_done: Cubes, rules: Rules) -> list[str]:
    """What an attacker holding every released table of ``indicator`` pins (additive ones)."""
    if not indicator.additif:
        return []
    held = [
        attacker.Holding(
            f"{indicator.code} par {dim}",
            indicator.code,
            PERIOD,
            rules,
            [dim],
            table.select("periode", dim, "valeur", "statut"),
        )
        for dim, table in released_cells(indicator, cubes_done)
    ]
    return attacker.attack(held)


def holdings(warehouse_root: Path) -> list[attacker.Holding]:
    """Every table of the current version of every month published (additive indicators), as
    an attacker holds them: one table per dimension, the national total as its margin."""
    root = folder(warehouse_root)
    months_published = (
        sorted(p.name for p in root.iterdir() if is_month(p.name)) if root.is_dir() else []
    )
    out = []
    for month in months_published:
        found = open_month(warehouse_root, month)
        if found is None:
            continue
        rules = Rules.from_dict(found.meta["regles"])
        for entry in found.meta["indicateurs"]:
            indicator = BY_CODE.get(entry["code"])
            if indicator is None or not indicator.additif:
                continue
            cells = found.cells(entry["code"])
            national = cells.filter(pl.col("dimension") == NATIONAL)
            for dim in entry["dimensions"]:
                if dim == NATIONAL:
                    continue
                rows = pl.concat(
                    [
                        cells.filter(pl.col("dimension") == dim),
                        national.with_columns(pl.lit(TOTAL).alias("code")),
                    ]
                )
                table = rows.select("periode", pl.col("code").alias(dim), "valeur", "statut")
                name = f"publication {month} {entry['code']} par {dim}"
                out.append(attacker.Holding(name, entry["code"], PERIOD, rules, [dim], table))
    return out


@dataclass
class Released:
    publication: Publication
    cells: int
    masked: int


def release(
    session: Session,
    warehouse_root: Path,
    month: str,
    rules: Rules,
    indicators: tuple[Indicator, ...] = CATALOGUE,
) -> Released:
    """Compute, protect, audit and publish the release of ``month`` (the next version)."""
    ledger = suppression.Ledger(warehouse_root)
    if not rules.secret_entreprises:
        raise PublicationError(
            "une publication ouverte à tous applique le secret des entreprises "
            "(secret_entreprises = true)"
        )
    try:
        start, end = window(session, month)
    except IndicatorError as exc:
        raise PublicationError(str(exc)) from exc
    # The months' ledger is held from reading it to recording what the release masks.
    with ledger.hold(start, end, PERIOD):
        return _protect_and_publish(session, ledger, rules, indicators, start, end)


def _protect_and_publish(
    session: Session,
    ledger: suppression.Ledger,
    rules: Rules,
    indicators: tuple[Indicator, ...],
    start: str,
    end: str,
) -> Released:
    warehouse_root = ledger.folder.parent
    try:
        requests = [(ind, joint) for ind in indicators for joint, _ in cubes(ind)]
        precompute_cells(session, requests, start, end, PERIOD)
        tables: dict[str, pl.DataFrame] = {}
        protected: dict[str, Cubes] = {}
        problems: list[str] = []
        for indicator in indicators:
            done = protect_indicator(session, indicator, start, end, rules, ledger)
            problems += exposed(indicator, done, rules)
            tables[indicator.code] = long_table(indicator, done)
            protected[indicator.code] = done
    except IndicatorError as exc:
        raise PublicationError(str(exc)) from exc
    if problems:
        raise PublicationRefused(
            f"publication refusée : {len(problems)} case(s) masquée(s) recalculable(s), "
            f"dont {' ; '.join(problems[:3])}"
        )
    masked = sum(int((t["statut"] != STATUSES[0]).sum()) for t in tables.values())
    root = folder(warehouse_root)
    root.mkdir(parents=True, exist_ok=True)
    with locks.exclusive(root / ".verrou", "une publication est déjà en cours d'écriture"):
        current = open_month(warehouse_root, end)
        meta = {
            "format": FORMAT,
            "mois": end,
            "version": current.version + 1 if current else 1,
            "cree_le": datetime.now(UTC).isoformat(timespec="seconds"),
            "du": start,
            "au": end,
            "regles": rules.to_dict(),
            "audit": {"cases_masquees": masked, "exposees": 0},
            "indicateurs": [_entry(ind) for ind in indicators],
        }
        for left in root.glob(f"{WRITING}*"):  # by a killed run
            shutil.rmtree(left, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=WRITING, dir=root))
        try:
            os.chmod(tmp, 0o755)
            for code, table in tables.items():
                table.write_parquet(tmp / f"{code}.parquet")
            text = json.dumps(meta, ensure_ascii=False, indent=2)
            (tmp / META).write_text(text, encoding="utf-8")
            for file in tmp.iterdir():
                os.chmod(file, 0o444)
            publication.publish_folder(tmp, root / end)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        published = open_month(warehouse_root, end)
    # Recorded once published: a refused release keeps nothing masked.
    for indicator in indicators:
        for _, cells in released_cells(indicator, protected[indicator.code]):
            ledger.record(cells, indicator.code, SOURCE)
    assert published is not None
    return Released(published, sum(t.height for t in tables.values()), masked)


def _entry(indicator: Indicator) -> dict[str, Any]:
    return {
        "code": indicator.code,
        "titre": indicator.titre,
        "unite": indicator.unite,
        "definition": indicator.definition,
        "precautions": list(indicator.precautions),
        "dimensions": released_dimensions(indicator),
        "fichier": f"{indicator.code}.parquet",
    }
