"""Shared fixtures: one small seeded built-in world per test session; the real data samples when present."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")

REPO = Path(__file__).resolve().parents[1]
PIPELINES = REPO / "pipelines"
WORLD_TASKS = ("credit_default", "intermediary_fraud", "collection_cure")
REQUIRE_SAMPLES = "CREDITML_REQUIRE_SAMPLES"


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """dataset.yaml of a small built-in world (seed 7), generated once per session."""
    from creditml.data.synthetic import generate_world

    out = tmp_path_factory.mktemp("world-small")
    generate_world(out, scale="small", seed=7)
    return out / "dataset.yaml"


def _samples_required() -> bool:
    value = os.environ.get(REQUIRE_SAMPLES, "")
    if value not in ("", "0", "1"):
        pytest.fail(f"{REQUIRE_SAMPLES}: expected 1 (the run needs the real data samples) or 0/unset, found "
                    f"{value!r}; export {REQUIRE_SAMPLES}=1 or unset it", pytrace=False)
    return value == "1"


@pytest.fixture(scope="session")
def samples() -> Path:
    """The folder of the real data samples (``creditml.config.samples_location``).

    A test that needs the samples takes this fixture (and gets the ``samples`` marker, so
    ``pytest -m samples`` selects them all). Without the samples it is skipped with the
    reason, unless CREDITML_REQUIRE_SAMPLES=1 (as in ``.ci/run``): then it fails, so CI
    can never skip them silently.
    """
    from creditml.config import SamplesNotFound, samples_location

    required = _samples_required()
    try:
        return samples_location()
    except SamplesNotFound as exc:
        missing = str(exc)
    if required:
        pytest.fail(f"{REQUIRE_SAMPLES}=1 but the real data samples are missing: {missing}", pytrace=False)
    pytest.skip(f"real data samples not found: {missing}")


def pytest_collection_modifyitems(items):
    for item in items:
        if "samples" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.samples)
