from pathlib import Path

import pytest

from datadsn.ingest.pseudonymize import Secret

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "corpus" / "dsn_samples"


@pytest.fixture
def secret() -> Secret:
    return Secret(b"test-secret-of-at-least-32-bytes!", demo=False)


@pytest.fixture
def samples() -> Path:
    assert SAMPLES.exists(), f"the shared corpus must sit beside the repository: {SAMPLES}"
    return SAMPLES
