"""Advisory locks on a warehouse (flock): one writer of a kind at a time.

The system releases a lock when its process dies, so a killed command never leaves the
warehouse locked.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockedError(RuntimeError):
    """Another process holds the lock (its message says which work is running)."""


@contextmanager
def exclusive(path: Path, busy_message: str, wait: bool = False) -> Iterator[None]:
    """Hold the lock file ``path`` for the block; raise :class:`LockedError` at once if another
    process holds it (with ``wait``, wait for it instead: for short critical sections)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(busy_message) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_free(path: Path) -> bool:
    """Whether no process holds the lock file ``path`` right now."""
    if not path.exists():
        return True
    with open(path, "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True
