"""The published tables (the state carried from one month to the next): the marts of
``sql/marts``, whose headers declare their columns, key and loading (engine/models.py).

Marts are written with exactly these columns in this order, and a first month starts from
empty tables of these types, so the SQL never has to special-case "no previous snapshot".
The mappings below are read from the model files, never written by hand.
"""

from __future__ import annotations

from pathlib import Path

from datadsn.engine.models import Model, ModelError, read_models

SQL = Path(__file__).parent / "sql"


def published(folder: Path) -> dict[str, Model]:
    """The marts of a model folder, each declaring its key and columns."""
    marts = read_models(folder, ["marts"])
    for model in marts.values():
        if not model.columns or not model.key:
            raise ModelError(
                f"{model.step.path}:1 : en-tête de modèle invalide, un mart publié déclare "
                "@key et ses @column"
            )
    return marts


PUBLISHED = published(SQL)

TABLES: dict[str, dict[str, str]] = {name: m.columns for name, m in PUBLISHED.items()}
# Sort order of each published file: reruns then write rows in the same order.
KEYS: dict[str, str] = {name: ", ".join(m.key) for name, m in PUBLISHED.items()}
# Tables kept out of the plain-name catalogue views (internal bookkeeping).
INTERNAL = {name for name, m in PUBLISHED.items() if m.internal}


def select_list(table: str, present: set[str] | None = None) -> str:
    """Columns in schema order; a column absent from an older snapshot reads as NULL."""
    return PUBLISHED[table].select_list(present)
