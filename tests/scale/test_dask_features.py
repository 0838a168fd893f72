"""Feature partitions on a real Dask cluster concatenate to the single-process matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditml.config import load_pipeline_config
from creditml.data import load_dataset
from creditml.errors import ConfigError, CreditmlError
from creditml.features.compute import compute_matrix
from creditml.features.dfs import build_candidates
from creditml.features.entityset import build_entityset
from creditml.scale._cluster import scheduler_address
from creditml.scale.dask_features import (DatasetSource, _compute_partition, compute_matrix_dask,
                                          partition_instances)
from creditml.tasks import build_instances
from tests.conftest import PIPELINES


@pytest.fixture(scope="module")
def stage(small_world):
    cfg = load_pipeline_config(PIPELINES / "credit_default.yaml", ["features.max_candidates=250"], small_world)
    dataset = load_dataset(cfg.dataset)
    es = build_entityset(dataset, cfg.features.ignore_columns)
    instances = build_instances(dataset, cfg.task)
    candidates = build_candidates(es, cfg.task.target, cfg.features)
    return cfg, es, instances.cutoff_time, candidates


def test_partitions_are_contiguous_id_ranges_covering_every_row_once():
    ids = np.array([50, 3, 17, 8, 99, 1, 42, 23, 77])
    parts = partition_instances(ids, 4)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(ids)))
    ranges = [(ids[p].min(), ids[p].max()) for p in parts]
    assert all(hi < lo for (_, hi), (lo, _) in zip(ranges, ranges[1:]))
    assert all((np.diff(p) > 0).all() for p in parts)  # original order inside a partition
    assert len(partition_instances(ids[:2], 8)) == 2
    with pytest.raises(ValueError, match="partitions: expected a positive number, got 0"):
        partition_instances(ids, 0)


def test_fast_engine_on_dask_equals_single_process(stage, dask_cluster):
    cfg, es, cutoff, candidates = stage
    reference = compute_matrix(candidates, es, cutoff, "fast")
    got = compute_matrix_dask(candidates, es, cutoff, dask_cluster.scheduler_address, 5,
                              dataset_yaml=cfg.dataset, ignore=cfg.features.ignore_columns)
    pd.testing.assert_frame_equal(reference, got)


def test_featuretools_engine_with_scattered_entityset_keeps_the_callers_order(stage, dask_cluster):
    _, es, cutoff, candidates = stage
    shuffled = cutoff.sample(60, random_state=3).reset_index(drop=True)
    reference = compute_matrix(candidates[:80], es, shuffled, "featuretools")
    got = compute_matrix_dask(candidates[:80], es, shuffled, dask_cluster.scheduler_address, 3,
                              engine="featuretools")
    pd.testing.assert_frame_equal(reference, got)


def test_worker_refuses_tables_that_differ_from_the_clients(stage, dask_cluster):
    from distributed import Client

    cfg, _, cutoff, candidates = stage
    real = DatasetSource.of(cfg.dataset)
    stale = DatasetSource(real.dataset_yaml, real.ignore, tuple((p, size + 1, t) for p, size, t in real.signature))
    import featuretools as ft

    with Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        future = client.submit(_compute_partition, stale, ft.save_features(candidates[:5]), cutoff.head(3), "fast")
        with pytest.raises(CreditmlError, match="differ from the client's"):
            future.result(timeout=60)


def test_no_scheduler_names_the_setting_and_the_environment_variable(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with pytest.raises(ConfigError, match=r"features.dask_scheduler: no Dask scheduler address; set it \(e.g. "
                                          r"--set features.dask_scheduler=tcp://HOST:8786\)"):
        scheduler_address(None, "features.dask_scheduler")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.5:8786")
    assert scheduler_address(None, "features.dask_scheduler") == "tcp://10.0.0.5:8786"
