"""Dropping a run's tables as soon as no step will read them again.

A consolidation keeps every table it builds until its end, and at month 6 of issue 23's input
they held 894 MiB when the steps were over: each new table and hash table was built in memory
faulted in afresh while finished ones sat idle. A table is released once every step that reads
it has finished; a view holds what it reads until every step reading the view has finished.
What is read after the steps (the published tables, and whatever the publication code reads) is
kept: :class:`Releases` never frees a name it is told to keep, nor what a kept view reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping


class Releases:
    """Which tables become free as steps finish.

    ``reads``: per step, the names it reads; ``views``: the steps that build views (they read
    nothing themselves: their readers do, through them); ``droppable``: the names that may be
    freed (tables built by the run); ``kept``: names read after the steps."""

    def __init__(
        self,
        reads: Mapping[str, Iterable[str]],
        views: Iterable[str],
        droppable: Iterable[str],
        kept: Iterable[str],
    ) -> None:
        self._reads = {step: set(names) for step, names in reads.items()}
        self._views = set(views)
        self._droppable = set(droppable)
        self._kept = set(kept)
        # readers not finished, per name
        self._waiting = Counter(name for names in self._reads.values() for name in names)

    def finished(self, step: str) -> list[str]:
        """The names free once ``step`` has finished, in a stable order. A view's reads wait
        for the view's own readers."""
        if step in self._views:
            return []
        free: list[str] = []
        for name in sorted(self._reads.get(step, ())):
            self._done_reading(name, free)
        return free

    def _done_reading(self, name: str, free: list[str]) -> None:
        self._waiting[name] -= 1
        if self._waiting[name] or name in self._kept:
            return
        if name in self._views:  # nothing reads the view any more: neither does the view
            for read in sorted(self._reads.get(name, ())):
                self._done_reading(read, free)
        elif name in self._droppable:
            free.append(name)
