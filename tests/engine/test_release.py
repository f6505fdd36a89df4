"""Tables released once no step reads them any more (engine/release.py)."""

from collections.abc import Iterable

from datadsn.engine.release import Releases


def _releases(kept: Iterable[str] = ()) -> Releases:
    # a -> b -> v (a view of b and c) -> d and e; c is read by v only
    reads = {"a": set(), "b": {"a"}, "c": set(), "v": {"b", "c"}, "d": {"v"}, "e": {"v", "a"}}
    return Releases(reads, views={"v"}, droppable={"a", "b", "c", "d", "e"}, kept=kept)


def test_a_table_goes_when_its_last_reader_has_finished() -> None:
    releases = _releases()
    assert releases.finished("a") == []
    assert releases.finished("b") == []  # a is still to be read by e
    assert releases.finished("c") == []
    assert releases.finished("v") == []  # a view reads nothing itself: its readers do
    assert releases.finished("d") == []  # v is still read by e, so b and c stay
    assert releases.finished("e") == ["a", "b", "c"]


def test_what_is_kept_stays_with_what_a_kept_view_reads() -> None:
    releases = _releases(kept={"v"})
    for step in ("a", "b", "c", "v", "d"):
        assert releases.finished(step) == []
    assert releases.finished("e") == ["a"]  # b and c stay: the kept view reads them


def test_only_droppable_names_are_released() -> None:
    releases = Releases({"x": {"entree"}, "y": {"x"}}, (), droppable={"x"}, kept=())
    assert releases.finished("x") == []  # an input of the run, not the run's to drop
    assert releases.finished("y") == ["x"]
