"""The scale-out backends a pipeline config asks for, built here and passed down.

``features`` and ``modeling`` never import this package: the runner (or a command)
builds the backends from the settings and hands them to ``build_features`` and
``train_model``. ``None`` means "in this process".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from creditml.config import PipelineConfig
from creditml.features.compute import MatrixBackend
from creditml.modeling.train import FinalFitter


@dataclass(frozen=True)
class Backends:
    matrix: MatrixBackend | None = None
    final_fit: FinalFitter | None = None


def backends_for(cfg: PipelineConfig) -> Backends:
    fs = cfg.features
    matrix = None
    if fs.dask_scheduler is not None:
        from creditml.scale.dask_features import compute_matrix_dask

        dataset_yaml = cfg.dataset if fs.dask_data == "path" else None

        def matrix(features, es, cutoff_time, engine):  # noqa: F811 - a MatrixBackend
            return compute_matrix_dask(features, es, cutoff_time, fs.dask_scheduler, fs.dask_partitions,
                                       engine=engine, dataset_yaml=dataset_yaml, ignore=fs.ignore_columns)
    final_fit = None
    if cfg.training.backend == "dask":
        from creditml.scale._cluster import scheduler_address
        from creditml.scale.dask_training import fit_final_dask

        address = scheduler_address(cfg.training.dask_scheduler or fs.dask_scheduler, "training.dask_scheduler")
        final_fit = partial(fit_final_dask, scheduler_address=address)
    return Backends(matrix, final_fit)
