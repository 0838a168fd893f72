"""Closing what killed processes left open: MLflow runs still RUNNING, Optuna trials still RUNNING.

Every pipeline run is tagged with the host, pid and start time of the process that
runs it. The next pipeline run or registry command (``recover``) marks FAILED every
RUNNING run whose process on this host is gone, with the reason in the tag
``creditml.failure_reason``, and fails the trials whose Optuna heartbeat went silent
(``optuna.storages.fail_stale_trials``). Runs of other hosts are left to those hosts.
"""

from __future__ import annotations

import logging
import os
import socket

import optuna
import psutil

from creditml.config import TuningSettings
from creditml.registry import ModelRegistry, open_registry, tracking

log = logging.getLogger("creditml.registry")
HOST_TAG, PID_TAG, STARTED_TAG = "creditml.host", "creditml.pid", "creditml.pid_started"
STALE_ENV = "CREDITML_OPTUNA_STALE_SECONDS"


def process_tags() -> dict[str, str]:
    """Who runs this run: checked by ``recover`` to tell a live run from one whose process died."""
    me = psutil.Process()
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(me.pid), STARTED_TAG: f"{me.create_time():.3f}"}


def _alive(pid: int, started: str) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and f"{proc.create_time():.3f}" == started
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def close_dead_runs(registry: ModelRegistry) -> list[str]:
    """Mark FAILED every RUNNING run of a dead process on this host; return their ids."""
    host, closed = socket.gethostname(), []
    for run_id, tags in registry.running_runs():
        if tags.get(HOST_TAG) != host or not tags.get(PID_TAG, "").isdigit():
            continue
        if _alive(int(tags[PID_TAG]), tags.get(STARTED_TAG, "")):
            continue
        reason = (f"process {tags[PID_TAG]} on {host} ended without closing the run (killed or crashed); "
                  "marked FAILED by the next creditml command; no version was registered from it")
        registry.fail_run(run_id, reason)
        log.warning("run %s: %s", run_id, reason)
        closed.append(run_id)
    return closed


def _optuna_storages(uri: str) -> list[str]:
    found = []
    if os.environ.get(tracking.OPTUNA_ENV):
        found.append(os.environ[tracking.OPTUNA_ENV])
    folder = tracking.store_folder(uri)
    if folder is not None and (folder / "optuna.db").exists():
        found.append(f"sqlite:///{folder / 'optuna.db'}")
    return found


def fail_stale_trials(storage_url: str, stale_after: int | None = None) -> int:
    """Fail the RUNNING trials whose heartbeat is older than ``stale_after`` seconds; return how many."""
    grace = stale_after or int(os.environ.get(STALE_ENV) or TuningSettings().stale_after_seconds)
    storage = optuna.storages.RDBStorage(storage_url, heartbeat_interval=TuningSettings().heartbeat_seconds,
                                         grace_period=grace)
    failed = 0
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        before = sum(t.state == optuna.trial.TrialState.RUNNING for t in study.get_trials(deepcopy=False))
        if before:
            optuna.storages.fail_stale_trials(study)
            after = sum(t.state == optuna.trial.TrialState.RUNNING for t in study.get_trials(deepcopy=False))
            failed += before - after
    return failed


def recover(uri: str | None = None, extra_storages: tuple[str, ...] = ()) -> tuple[list[str], int]:
    """Close dead runs and stale trials; return (failed run ids, failed trial count). Never raises."""
    uri = uri or tracking.configure()
    runs, trials = [], 0
    try:
        runs = close_dead_runs(open_registry(uri))
    except Exception as exc:  # noqa: BLE001 - recovery must never stop the command that triggered it
        log.warning("could not check for runs left RUNNING: %s", exc)
    for storage in dict.fromkeys([*_optuna_storages(uri), *extra_storages]):
        try:
            trials += fail_stale_trials(storage)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not check %s for stale trials: %s", storage, exc)
    return runs, trials

