"""Shared fixtures: one small seeded built-in world per test session."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")

REPO = Path(__file__).resolve().parents[1]
PIPELINES = REPO / "pipelines"
WORLD_TASKS = ("credit_default", "intermediary_fraud", "collection_cure")


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """dataset.yaml of a small built-in world (seed 7), generated once per session."""
    from creditml.data.synthetic import generate_world

    out = tmp_path_factory.mktemp("world-small")
    generate_world(out, scale="small", seed=7)
    return out / "dataset.yaml"
