"""The Python steps of the consolidation: what SQL cannot say well, registered with what they
read and write so that the scheduler places them among the SQL models (``sql/``).

Each runs on the run's connection with the run's :class:`Context` and returns the rows it wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from datadsn.engine.backends import Backend
from datadsn.engine.models import Registry
from datadsn.engine.runner import table_from_lists
from datadsn.engine.schedule import tables_read

from . import archive, calendar, identity
from .carry import Carry
from .schema import SQL

STEPS = Registry()
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Context:
    carry: Carry
    archived: dict[str, Path]  # the contract archive's month files carried over
    clock: Clock  # the run's times come from it, never from the engine's now()


@STEPS.step("int_fusions_salaries", reads={"int_aretes_salaries"})
def fusions_salaries(db: Backend, run: Context) -> int:
    """Employee merges resolved to a fix-point (chains and cycles of merges)."""
    return identity.resolve(db, "int_aretes_salaries", "int_fusions_salaries")


@STEPS.step("int_fusions_contrats", reads={"int_aretes_contrats"})
def fusions_contrats(db: Backend, run: Context) -> int:
    """Contract merges resolved to a fix-point."""
    return identity.resolve(db, "int_aretes_contrats", "int_fusions_contrats")


@STEPS.step("calendrier", reads={"int_heures_declarees"})
def calendrier(db: Backend, run: Context) -> int:
    """Working days of the months the declared hours cover (holidays from data/)."""
    return calendar.build_calendar(db, "int_heures_declarees")


@STEPS.step("int_contrats_reactives", reads={"int_contrats_a_reprendre"})
def contrats_reactives(db: Backend, run: Context) -> int:
    """Archived contracts the run's declarations may change, brought back."""
    return archive.bring_back(db, run.archived)


@STEPS.step("prev_activites_sources_conservees", reads={"int_activites_mois"})
def sources_conservees(db: Backend, run: Context) -> int:
    """The hour sources carried over for the calendar months the run recomputes."""
    run.carry.sources_view(db)
    return 0


# after prev_activites_sources_conservees: the months the run rewrites are known then
@STEPS.step("activites_reprises", reads={"fusions", "prev_activites_sources_conservees"})
def activites_reprises(db: Backend, run: Context) -> int:
    """The count of the carried months of ``activites`` once merged ids are resolved."""
    return run.carry.carried_count(db)


# what the chargements mart reads, so that the end of the run is read when the mart can start
_CHARGEMENTS_READS = tables_read((SQL / "marts" / "chargements.sql").read_text(encoding="utf-8"))


@STEPS.step("run_fin", reads=_CHARGEMENTS_READS - {"run_fin"})
def run_fin(db: Backend, run: Context) -> int:
    """``run_fin``: the time the run's rules ended, from the run's clock (``chargements.fin``)."""
    table_from_lists(db, "run_fin", {"fin": ("TIMESTAMP", [run.clock()])})
    return 1
