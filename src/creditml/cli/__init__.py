"""The `creditml` command line: the only package that prints and exits.

Every command turns a :class:`CreditmlError` into its message on stderr and exit code 2,
so a broken contract never ends in a traceback. One module per area registers its
commands on the shared Typer ``app``.
"""

from __future__ import annotations

import sys
from typing import Optional

from creditml.cli import data, pipeline, registry, serving, demo, users, workbench  # noqa: F401,E402  (they register commands)
from creditml.cli._app import app

__all__ = ["app", "main"]


def main(argv: Optional[list[str]] = None) -> None:
    app(argv if argv is not None else sys.argv[1:])
