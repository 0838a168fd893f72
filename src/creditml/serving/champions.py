"""Champions in memory: load the version the ledger says is champion, follow it when it moves.

The MLflow ``champion`` alias is only a mirror: a refresh asks the verified ledger
(``registry.loading.champion_versions``); an alias that disagrees is refused, logged and
kept in ``mismatches`` (``/health`` reports it), and the last approved model keeps serving.

:class:`ChampionWatcher` keeps an immutable ``{task: ServedModel}`` mapping. A refresh
loads every champion whose version changed *before* touching the mapping, then
replaces the mapping in one assignment, so a request in flight keeps the model it
started with and no request ever sees a half-loaded one. A background thread refreshes
every ``poll_seconds``; ``refresh()`` is also what ``POST /v1/admin/reload`` calls.
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from creditml.model.bundle import ModelBundle
from creditml.registry import ModelRegistry, open_registry
from creditml.registry.loading import CHAMPION, champion_versions, load_bundle
from creditml.serving.schemas import ModelInfo, TaskRecordValidator

log = logging.getLogger("creditml.serving")



@dataclass(frozen=True)
class ServedModel:
    task: str
    name: str
    version: str
    alias: str
    loaded_at: str
    run_id: str
    bundle: ModelBundle
    validator: TaskRecordValidator

    @property
    def uses_graph(self) -> bool:
        return self.bundle.features_settings.graph is not None

    def info(self, link_store: bool = False) -> ModelInfo:
        return ModelInfo(task=self.task, name=self.name, version=self.version, alias=self.alias,
                         loaded_at=self.loaded_at, run_id=self.run_id, link_store=link_store and self.uses_graph)


def _freeze_heap() -> None:
    """Keep the garbage collector off the loaded models.

    A bundle holds hundreds of thousands of long-lived objects (feature definitions,
    MLflow, pandas); without this every full collection walks them in the middle of a
    request. Unfreeze first so that the models just replaced can be collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ChampionWatcher:
    def __init__(self, alias: str = CHAMPION, poll_seconds: float = 30.0, registry: ModelRegistry | None = None):
        self.alias = alias
        self.poll_seconds = poll_seconds
        self._registry = registry
        self._models: dict[str, ServedModel] = {}
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.mismatches: list[dict] = []

    @property
    def registry(self) -> ModelRegistry:
        if self._registry is None:
            self._registry = open_registry()
        return self._registry

    @property
    def models(self) -> dict[str, ServedModel]:
        return self._models  # one read of an immutable mapping: consistent for the whole request

    def refresh(self) -> list[str]:
        """Load champions that changed, then swap the mapping; return the tasks that changed."""
        with self._refresh_lock:
            current = self._models
            wanted, problems = champion_versions(self.registry)
            self.mismatches = [p.describe() for p in problems]
            for problem in problems:
                log.error("refusing the %s alias of %s: %s", self.alias, problem.name, problem.problem)
            fresh: dict[str, ServedModel] = {}
            changed = []
            for name, (task, version, run_id) in wanted.items():
                old = current.get(task)
                if old is not None and old.name == name and old.version == version:
                    fresh[task] = old
                    continue
                if task in fresh:
                    log.warning("task %s is served by %s already; ignoring %s", task, fresh[task].name, name)
                    continue
                try:
                    # by version: the one resolved above, even if the alias moves meanwhile
                    bundle = load_bundle(f"models:/{name}/{version}")
                    _warm_up(bundle, name, version)
                except Exception as exc:  # a broken version must not take the others down
                    log.exception("could not load %s version %s", name, version)
                    self.last_error = f"{name} version {version}: {exc}"
                    if old is not None:
                        fresh[task] = old
                    continue
                fresh[task] = ServedModel(task, name, version, self.alias, _now(), run_id, bundle,
                                          TaskRecordValidator(bundle.dataset, bundle.task))
                changed.append(task)
                log.info("serving %s version %s for task %s", name, version, task)
            for task, old in current.items():
                # a model whose ledger no longer verifies (or names no champion) keeps serving its last
                # approved version rather than going dark; the problem is in mismatches and /health
                if task not in fresh and any(p.name == old.name for p in problems):
                    fresh[task] = old
            changed += [t for t in current if t not in fresh]
            self._models = fresh
            if changed:
                _freeze_heap()
            return changed

    def start(self) -> None:
        self.refresh()
        if self.poll_seconds > 0:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="creditml-champion-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
                self.last_error = None
            except Exception as exc:  # registry unreachable: keep serving what is loaded
                self.last_error = str(exc)
                log.warning("champion refresh failed: %s", exc)


def _warm_up(bundle: ModelBundle, name: str, version: str) -> None:
    """Plan and compile the model's feature program before it serves (the first request would pay ~100 ms)."""
    try:
        bundle.warm_up()
    except Exception:  # a model that cannot score an empty record still serves real ones
        log.warning("could not warm up %s version %s; its first request compiles its program", name, version,
                    exc_info=True)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
