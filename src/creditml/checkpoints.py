"""Named points of a pipeline run where a test may freeze the process to kill it there.

``CREDITML_TEST_PAUSE_AT=NAME`` makes the process that reaches ``checkpoint(NAME)`` touch
``CREDITML_TEST_PAUSE_FILE`` and sleep; a test waits for the file and sends SIGKILL, so
a kill lands exactly at that stage. Unset (always, outside such tests) it does nothing.
Points: ``features``, ``tuning`` (inside a running trial), ``run_started``, ``logging``,
``registration`` (the run is closed, the version not yet registered).
"""

from __future__ import annotations

import os
import time

PAUSE_ENV, FILE_ENV = "CREDITML_TEST_PAUSE_AT", "CREDITML_TEST_PAUSE_FILE"


def checkpoint(name: str) -> None:
    if os.environ.get(PAUSE_ENV) != name:
        return
    marker = os.environ.get(FILE_ENV)
    if marker:
        with open(marker, "w") as fh:
            fh.write(f"{os.getpid()} {name}\n")
    time.sleep(3600)
