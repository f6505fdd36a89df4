"""Models that own their metadata: SQL files with a header, Python steps with a decorator.

A SQL model is one ``<layer>/<name>.sql`` file holding one SELECT. Its leading comment block
carries, besides the prose saying what and why, a header of ``-- @`` lines (in the spirit of
sqlmesh's ``MODEL (...)``)::

    -- Contracts declared within the last 72 months.
    -- @kind table
    -- @key contrat_id
    -- @previous table
    -- @column contrat_id VARCHAR
    -- @column quotite_contrat DECIMAL(18,2)

``@kind`` (``table`` or ``view``) says how the runner materialises it; ``@key`` the columns that
identify a row (and sort a published file); ``@column`` the name and type of each output column,
in order, for the tables a run publishes; ``@previous`` (``table`` or ``view``) how a run loads
that table of the previous state; ``@internal`` keeps a published table out of the plain-name
catalogue. Python steps, for what SQL cannot say well, register on a :class:`Registry` with the
tables they read and write. :func:`load` turns a folder of models and a registry into a
:class:`Pipeline`; the order of its steps comes from what each reads (``schedule.ordered``), so
no list is kept by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schedule
from .backends import Backend
from .runner import Step, cast_list, run_step

KINDS = ("table", "view")
LAYERS = ("staging", "intermediate", "marts", "publication")  # the order data flows in
_DIRECTIVE = re.compile(r"^--\s*@(\w+)\b\s*(.*?)\s*$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_TYPE = re.compile(
    r"^(VARCHAR|DATE|BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|DOUBLE|TIMESTAMP"
    r"|DECIMAL\(\d+,\d+\))$"
)


class ModelError(ValueError):
    """A model file or step declaration that cannot be used: names the file and line."""


@dataclass(frozen=True)
class Model:
    """One SQL model and what its header declares."""

    step: Step
    kind: str
    key: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)  # name -> SQL type, in order
    previous: str | None = None  # how a run loads the previous state's table
    internal: bool = False

    @property
    def name(self) -> str:
        return self.step.name

    @property
    def layer(self) -> str:
        return self.step.layer

    def select_list(self, present: set[str] | None = None) -> str:
        """The declared columns cast to their types; a column missing from ``present`` (an
        older file) reads as NULL."""
        return cast_list(self.columns, present)

    def run(self, db: Backend) -> None:
        """Materialise the model as its header says (table or view, declared types)."""
        run_step(db, self.step, view=self.kind == "view", columns=self.columns or None)


def parse(path: Path, layer: str) -> Model:
    """The model of one SQL file; :class:`ModelError` on a bad header."""
    lines = path.read_text(encoding="utf-8").splitlines()
    seen: dict[str, int] = {}
    values: dict[str, Any] = {"columns": {}}
    in_header = True
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if in_header and text and not text.startswith("--"):
            in_header = False
        match = _DIRECTIVE.match(text)
        if not match:
            continue

        def fail(why: str, number: int = number) -> ModelError:
            return ModelError(f"{path}:{number} : en-tête de modèle invalide, {why}")

        if not in_header:
            raise fail("directive après le début de la requête")
        name, value = match.groups()
        if name != "column" and name in seen:
            raise fail(f"@{name} déjà donné ligne {seen[name]}")
        seen[name] = number
        _directive(name, value, values, fail)
    if "kind" not in values:
        raise ModelError(f"{path}:1 : en-tête de modèle invalide, @kind manquant (table ou view)")
    columns: dict[str, str] = values["columns"]
    key: tuple[str, ...] = values.get("key", ())
    missing = [c for c in key if columns and c not in columns]
    if missing:
        raise ModelError(
            f"{path}:{seen['key']} : en-tête de modèle invalide, clé hors des colonnes : "
            + ", ".join(missing)
        )
    return Model(
        step=Step(name=path.stem, layer=layer, path=path),
        kind=values["kind"],
        key=key,
        columns=columns,
        previous=values.get("previous"),
        internal=values.get("internal", False),
    )


def _directive(
    name: str, value: str, values: dict[str, Any], fail: Callable[[str], ModelError]
) -> None:
    """Check one ``-- @name value`` line and record it in ``values``."""
    if name in ("kind", "previous"):
        if value not in KINDS:
            raise fail(f"@{name} attend table ou view, trouvé {value!r}")
        values[name] = value
    elif name == "key":
        key = tuple(c.strip() for c in value.split(","))
        if not value or not all(_NAME.match(c) for c in key) or len(set(key)) != len(key):
            raise fail(f"@key attend des colonnes séparées par des virgules, trouvé {value!r}")
        values["key"] = key
    elif name == "column":
        parts = value.split(None, 1)
        if len(parts) != 2 or not _NAME.match(parts[0]) or not _TYPE.match(parts[1]):
            raise fail(f"@column attend un nom et un type SQL, trouvé {value!r}")
        if parts[0] in values["columns"]:
            raise fail(f"colonne {parts[0]} déjà déclarée")
        values["columns"][parts[0]] = parts[1]
    elif name == "internal":
        if value:
            raise fail("@internal ne prend pas de valeur")
        values["internal"] = True
    else:
        raise fail(f"directive inconnue @{name}")


# A Python step runs on the run's backend with the run's context; returns the rows it wrote.
StepFunction = Callable[[Backend, Any], int]


@dataclass(frozen=True)
class PythonStep:
    name: str
    reads: frozenset[str]
    writes: frozenset[str]
    run: StepFunction


class Registry:
    """The Python steps of a pipeline, registered with :meth:`step`."""

    def __init__(self) -> None:
        self.steps: dict[str, PythonStep] = {}

    def step(
        self, name: str, *, reads: Iterable[str], writes: Iterable[str] | None = None
    ) -> Callable[[StepFunction], StepFunction]:
        """Register the decorated function as the step ``name``: it runs once every table of
        ``reads`` is built, and builds ``writes`` (default: the table ``name``)."""

        def register(function: StepFunction) -> StepFunction:
            if name in self.steps:
                raise ModelError(f"étape Python {name} déjà enregistrée")
            self.steps[name] = PythonStep(
                name, frozenset(reads), frozenset(writes or (name,)), function
            )
            return function

        return register


@dataclass(frozen=True)
class Pipeline:
    """Every step of a pipeline, in an order that runs each after the steps it reads."""

    models: dict[str, Model]  # SQL models by name
    python: dict[str, PythonStep]
    tasks: tuple[schedule.Task, ...]  # in order
    depends: dict[str, set[str]]  # step -> steps it waits for

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tasks)


def _task(name: str, models: dict[str, Model], python: dict[str, PythonStep]) -> schedule.Task:
    if name in models:
        return schedule.Task(name, models[name].step.sql)
    step = python[name]
    return schedule.Task(name, None, step.reads, step.writes)


def read_models(folder: Path, layers: Iterable[str] = LAYERS) -> dict[str, Model]:
    """The models of ``folder`` (``<layer>/<name>.sql``) in ``layers``, by name."""
    models: dict[str, Model] = {}
    for layer in layers:
        for path in sorted((folder / layer).glob("*.sql")):
            if path.stem in models:
                raise ModelError(f"{path}:1 : modèle {path.stem} déjà défini")
            models[path.stem] = parse(path, layer)
    stray = sorted(p for p in folder.glob("*/*.sql") if p.parent.name not in LAYERS)
    if stray:
        raise ModelError(f"{stray[0]}:1 : dossier de modèles inconnu (attendu : {LAYERS})")
    return models


def load(folder: Path, registry: Registry) -> Pipeline:
    """The pipeline of the models of ``folder`` and the Python steps of ``registry``."""
    models = read_models(folder)
    clash = set(models) & set(registry.steps)
    if clash:
        raise ModelError(f"étape à la fois SQL et Python : {', '.join(sorted(clash))}")
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    # ties between ready steps: layer, then name (Python steps sit with the intermediate layer)
    names = sorted(
        [*models, *registry.steps],
        key=lambda n: (rank[models[n].layer] if n in models else rank["intermediate"], n),
    )
    python = dict(registry.steps)
    try:
        tasks, depends = schedule.ordered([_task(n, models, python) for n in names])
    except ValueError as exc:
        raise ModelError(f"{folder} : {exc}") from None
    return Pipeline(models, python, tuple(tasks), depends)
