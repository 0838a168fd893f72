"""The feature matrix on a Dask cluster: instance partitions computed by the feature engine.

Instances are split into contiguous instance-id ranges; every row keeps its own cutoff
time, so each partition is an ordinary ``compute_matrix`` call and the concatenation
equals the single-process matrix (same index, order, columns, dtypes and values).

What travels to the workers is small: the definitions are scattered once, and with
``dataset_yaml`` every worker process loads the declared tables itself, once, from a
path it shares with the client. Without it the EntitySet is scattered once to every
worker (its whole data is pickled, fine for small worlds and tests).
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import featuretools as ft
import numpy as np
import pandas as pd

from creditml.errors import CreditmlError
from creditml.scale._cluster import connect

# partitions of more instances than this are split further (per-partition memory, see docs/scale-out.md)
MAX_PARTITION_INSTANCES = 50_000


@dataclass(frozen=True)
class DatasetSource:
    """Where a worker loads the EntitySet from, and what the client saw there (size, mtime)."""

    dataset_yaml: str
    ignore: tuple[tuple[str, tuple[str, ...]], ...]
    signature: tuple[tuple[str, int, int], ...]

    @classmethod
    def of(cls, dataset_yaml: str | Path, ignore: dict[str, list[str]] | None = None) -> "DatasetSource":
        path = str(Path(dataset_yaml).resolve())
        frozen = tuple(sorted((t, tuple(cols)) for t, cols in (ignore or {}).items()))
        return cls(path, frozen, _signature(path))


def _signature(dataset_yaml: str) -> tuple[tuple[str, int, int], ...]:
    from creditml.config import load_dataset_config

    cfg = load_dataset_config(dataset_yaml)
    out = []
    for name in sorted(cfg.tables):
        path = cfg.path_of(name)
        st = path.stat()
        out.append((str(path), st.st_size, int(st.st_mtime)))
    return tuple(out)


# per worker process: the EntitySet of each dataset and the definitions of each payload
_ENTITYSETS: dict[DatasetSource, ft.EntitySet] = {}
_DEFINITIONS: dict[str, list] = {}
_LOCK = threading.Lock()


def _entityset_on_worker(source: DatasetSource) -> ft.EntitySet:
    with _LOCK:
        if source not in _ENTITYSETS:
            try:
                seen = _signature(source.dataset_yaml)
            except (OSError, CreditmlError) as exc:
                raise CreditmlError(f"worker on {os.uname().nodename}: cannot read the dataset {source.dataset_yaml} "
                                    f"({exc}); mount the data at the same path on every worker") from None
            if seen != source.signature:
                changed = sorted({p for p, *_ in set(seen) ^ set(source.signature)})
                raise CreditmlError(
                    f"worker on {os.uname().nodename}: the tables of {source.dataset_yaml} differ from the "
                    f"client's (size or modification time of {', '.join(changed)}); give every worker the "
                    "same files (a shared folder at the same path)"
                )
            from creditml.data import load_dataset
            from creditml.features.entityset import build_entityset

            _ENTITYSETS.clear()  # one dataset per worker at a time: memory is the limit
            _ENTITYSETS[source] = build_entityset(load_dataset(source.dataset_yaml),
                                                  {t: list(c) for t, c in source.ignore})
        return _ENTITYSETS[source]


def _definitions_on_worker(payload: str) -> list:
    key = hashlib.sha256(payload.encode()).hexdigest()
    with _LOCK:
        if key not in _DEFINITIONS:
            import creditml.features.primitives  # noqa: F401  (registers the credit primitives)

            _DEFINITIONS.clear()
            _DEFINITIONS[key] = ft.load_features(payload)
        return _DEFINITIONS[key]


def _compute_partition(source, payload: str, cutoff: pd.DataFrame, engine: str) -> pd.DataFrame:
    from creditml.features.compute import compute_matrix

    es = source if isinstance(source, ft.EntitySet) else _entityset_on_worker(source)
    return compute_matrix(_definitions_on_worker(payload), es, cutoff, engine)


def partition_instances(ids: pd.Series | np.ndarray, partitions: int) -> list[np.ndarray]:
    """Row positions of each partition: contiguous ranges of instance ids, rows in their original order."""
    if partitions < 1:
        raise ValueError(f"partitions: expected a positive number, got {partitions}")
    by_id = np.argsort(np.asarray(ids), kind="stable")
    return [np.sort(chunk) for chunk in np.array_split(by_id, min(partitions, max(len(by_id), 1))) if len(chunk)]


def default_partitions(n_instances: int, worker_threads: int) -> int:
    """Two partitions per worker thread (balance), more when a partition would exceed the memory bound."""
    return max(2 * max(worker_threads, 1), -(-n_instances // MAX_PARTITION_INSTANCES))


def combine_partitions(parts: list[pd.DataFrame], positions: list[np.ndarray]) -> pd.DataFrame:
    """Concatenate partition matrices and restore the original row order and column dtypes.

    A categorical column keeps the categories its partitions declare; a partition where
    an aggregation saw nothing has none (featuretools' all-missing column) and must not
    turn the whole column into objects.
    """
    order = np.concatenate(positions)
    frame = pd.concat(parts, axis=0)
    frame = frame.iloc[np.argsort(order, kind="stable")]
    for col in frame.columns:
        dtypes = [p[col].dtype for p in parts]
        if not any(isinstance(d, pd.CategoricalDtype) for d in dtypes) or isinstance(frame[col].dtype,
                                                                                   pd.CategoricalDtype):
            continue
        categories: list = []
        for d in dtypes:
            if isinstance(d, pd.CategoricalDtype):
                categories += [c for c in d.categories if c not in categories]
        if categories:
            frame[col] = pd.Categorical(frame[col], categories=categories)
        else:
            frame[col] = frame[col].astype(dtypes[0])
    return frame


def compute_matrix_dask(features: list, entityset: ft.EntitySet, cutoff_time: pd.DataFrame,
                        scheduler_address: str, partitions: int | None = None, *, engine: str = "fast",
                        dataset_yaml: str | Path | None = None,
                        ignore: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """``compute_matrix`` on the Dask cluster at ``scheduler_address``, partitioned by instance id.

    ``dataset_yaml`` (with the ``ignore`` columns the EntitySet was built with): workers
    build the EntitySet from the declared tables themselves instead of receiving it.
    """
    if len(cutoff_time) == 0:
        from creditml.features.compute import compute_matrix

        return compute_matrix(features, entityset, cutoff_time, engine)
    target = entityset[features[0].dataframe_name].ww.index if features else None
    id_col = "instance_id" if "instance_id" in cutoff_time.columns else target
    payload = ft.save_features(features)
    with connect(scheduler_address) as client:
        threads = sum(client.nthreads().values())
        n = partitions or default_partitions(len(cutoff_time), threads)
        positions = partition_instances(cutoff_time[id_col].to_numpy(), n)
        source = DatasetSource.of(dataset_yaml, ignore) if dataset_yaml is not None else entityset
        if isinstance(source, ft.EntitySet):
            source = client.scatter(source, broadcast=True, hash=False)
        shared = client.scatter(payload, broadcast=True)
        futures = [client.submit(_compute_partition, source, shared, cutoff_time.iloc[pos].reset_index(drop=True),
                                 engine, key=f"creditml-features-{i}-{hashlib.sha1(pos.tobytes()).hexdigest()[:8]}",
                                 pure=False)
                   for i, pos in enumerate(positions)]
        parts = client.gather(futures)
    return combine_partitions(parts, positions)
