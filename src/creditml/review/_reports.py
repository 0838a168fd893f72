"""Each version's HTML report, built once per server and kept in memory.

A report takes seconds to build (SHAP values on the logged sample); the pages must answer
in well under a second, so the first build is cached by (model, version, run id), one
build at a time per version, and the queue's reports can be built in the background when
the server starts.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from creditml.explain.report import build_report
from creditml.registry import ModelRegistry
from creditml.registry.reports import load_report_inputs

log = logging.getLogger("creditml.review")

Builder = Callable[[ModelRegistry, str, str], str]


def build_version_report(store: ModelRegistry, model: str, version: str) -> str:
    return build_report(load_report_inputs(model, version, store))


class ReportCache:
    """HTML of each version's report; ``get`` builds it on first use."""

    def __init__(self, store: ModelRegistry, builder: Builder = build_version_report):
        self.store, self._builder = store, builder
        self._html: dict[tuple[str, str, str], str] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def _key(self, model: str, version: str) -> tuple[str, str, str]:
        return model, str(version), self.store.get_version(model, version).run_id

    def cached(self, model: str, version: str) -> bool:
        return self._key(model, version) in self._html

    def get(self, model: str, version: str) -> str:
        key = self._key(model, version)
        if key in self._html:
            return self._html[key]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # a second request for the same version waits for the first build
            if key not in self._html:
                self._html[key] = self._builder(self.store, model, str(version))
        return self._html[key]

    def warm(self, versions: list[tuple[str, str]]) -> threading.Thread:
        """Build these versions' reports in a background thread (errors are logged, not raised)."""
        def run() -> None:
            for model, version in versions:
                try:
                    self.get(model, version)
                except Exception:
                    log.exception("building the report of model %r version %s in the background failed", model,
                                  version)

        thread = threading.Thread(target=run, name="creditml-review-warm", daemon=True)
        thread.start()
        return thread
