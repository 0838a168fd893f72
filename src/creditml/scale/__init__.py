"""Scale-out: the same pipeline on a Dask cluster, parallel Optuna workers and a tracking server.

Nothing here changes what is computed, only where: feature partitions run on Dask
workers and concatenate to the single-process matrix; the final XGBoost fit runs with
``xgboost.dask``; tuning workers add trials to the study the pipeline's run resumes.
"""

from creditml.scale.dask_features import compute_matrix_dask, partition_instances
from creditml.scale.dask_training import fit_final_dask
from creditml.scale.tune_worker import WorkerSummary, tune_worker, worker_seed

__all__ = ["WorkerSummary", "compute_matrix_dask", "fit_final_dask", "partition_instances", "tune_worker",
           "worker_seed"]
