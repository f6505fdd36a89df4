from pathlib import Path

import pytest

from datadsn.ingest.pseudonymize import Secret

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "corpus" / "dsn_samples"


@pytest.hookimpl(tryfirst=True)  # before xdist's, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test` runs the suite on two processes (pytest-xdist, ``--dist loadgroup``): the
    Spark tests go to one of them, in one group, so that they share one JVM and one Connect
    server and never run two Spark sessions at once on two cores."""
    for item in items:
        if item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))
    # the Spark group, the longest unit, early: first among the tests without a database
    # (pytest-django's own sort, which runs after this hook, puts the database tests first)
    items.sort(key=lambda item: item.get_closest_marker("spark") is None)


@pytest.fixture
def secret() -> Secret:
    return Secret(b"test-secret-of-at-least-32-bytes!", demo=False)


@pytest.fixture
def samples() -> Path:
    assert SAMPLES.exists(), f"the shared corpus must sit beside the repository: {SAMPLES}"
    return SAMPLES
