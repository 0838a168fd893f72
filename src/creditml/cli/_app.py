"""The `creditml` Typer app, its consoles and error handling.

Every command turns a :class:`CreditmlError` into its message on stderr and exit code 2,
so a broken contract never ends in a traceback.
"""

from __future__ import annotations

import functools
import sys
import warnings
from typing import Callable

import typer
from rich.console import Console
from rich.table import Table

from creditml.errors import CreditmlError

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # woodwork 0.31 on import
warnings.filterwarnings("ignore", module=r"optuna(_integration)?(\.|$)")

app = typer.Typer(help="creditml: relational credit-risk models from raw tables to a served champion.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# piped output (logs, CI) gets room for tables instead of rich's 80-column default
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)


def handles_errors(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CreditmlError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
    return wrapper


def _table_summary(title: str, tables: dict, config) -> Table:
    out = Table(title=title, title_justify="left")
    for col in ("table", "rows", "columns", "time index", "from", "to"):
        out.add_column(col, justify="right" if col in {"rows", "columns"} else "left")
    for name, frame in tables.items():
        spec = config.tables[name]
        ti = spec.time_index
        lo = hi = ""
        if ti and len(frame):
            lo, hi = str(frame[ti].min().date()), str(frame[ti].max().date())
        out.add_row(name, f"{len(frame):,}", str(frame.shape[1]), ti or "-", lo, hi)
    return out


SET_OPTION = typer.Option(None, "--set", help="override a setting: KEY=VALUE (e.g. features.max_depth=0)")
DATASET_OPTION = typer.Option(None, "--dataset", help="another declared dataset YAML to run this pipeline on")


def _registry() -> None:
    """Point at the tracking store and close what killed processes left RUNNING there."""
    from creditml.registry import tracking
    from creditml.registry.recovery import recover

    recover(tracking.configure())


def _governance():
    """The governance database beside the configured registry."""
    from creditml.registry import open_registry, tracking
    from creditml.registry.governed import open_store

    return open_store(open_registry(tracking.configure()))


def _signed_in(doing: str):
    """The signed-in identity (CREDITML_TOKEN, else the `creditml login` file), or a refusal naming both."""
    from creditml.governance import signed_in

    return signed_in(_governance(), doing)
