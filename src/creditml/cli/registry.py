"""Review and registry commands: report, review, promote, rollback, audit."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from creditml.cli._app import _registry, app, console, handles_errors
from creditml.errors import CreditmlError


@app.command()
@handles_errors
def report(
    model: str = typer.Argument(..., help="registered model name, e.g. creditml-credit-default"),
    version: str = typer.Option(..., "--version", help="model version"),
    out: Path = typer.Option(None, "--out", help="HTML file to write (default: reports/MODEL-vVERSION.html)"),
) -> None:
    """Write the self-contained SHAP review report of a model version (also logged to its run)."""
    from creditml.registry.reports import write_report

    _registry()
    out = out or Path("reports") / f"{model}-v{version}.html"
    with console.status(f"building the review report of {model} version {version}"):
        path = write_report(model, version, out)
    console.print(f"[green]report[/]: {path}")


@app.command()
@handles_errors
def review(
    model: str = typer.Argument(...),
    version: str = typer.Option(..., "--version"),
    approve: bool = typer.Option(None, "--approve/--reject", help="the reviewer's decision"),
    reviewer: str = typer.Option(..., "--reviewer", help="who reviewed"),
    comment: str = typer.Option(..., "--comment", help="why"),
) -> None:
    """Record a reviewer's approval or rejection of a model version."""
    from creditml.registry.promotion import review as record_review

    if approve is None:
        raise CreditmlError("say --approve or --reject")
    _registry()
    record_review(model, version, approve, reviewer, comment)
    console.print(f"{model} version {version}: [bold]{'approved' if approve else 'rejected'}[/] by {reviewer}")


@app.command()
@handles_errors
def promote(model: str = typer.Argument(...), version: str = typer.Option(..., "--version")) -> None:
    """Make a version champion: only when it passed the gates and was approved."""
    from creditml.registry.promotion import promote as do_promote

    _registry()
    previous = do_promote(model, version)
    console.print(f"{model}: champion is now version {version}" + (f" (was {previous})" if previous else ""))


@app.command()
@handles_errors
def rollback(model: str = typer.Argument(...)) -> None:
    """Restore the previous champion."""
    from creditml.registry.promotion import rollback as do_rollback

    _registry()
    current, previous = do_rollback(model)
    console.print(f"{model}: champion rolled back from version {current} to {previous}")


@app.command()
@handles_errors
def audit(model: str = typer.Argument(...)) -> None:
    """Every alias change and review of a model: who, when, from, to, why."""
    from creditml.registry.promotion import audit as entries

    _registry()
    table = Table(title=f"audit of {model}", title_justify="left")
    for col in ("when", "action", "alias", "from", "to / version", "who", "why"):
        table.add_column(col, no_wrap=col not in {"who", "why"})
    for e in entries(model):
        if e["action"] == "alias":
            table.add_row(e["at"], "alias", e["alias"], str(e.get("from") or "-"), str(e.get("to") or "-"),
                          e.get("by", ""), e.get("why", ""))
        else:
            table.add_row(e["at"], f"review: {e['decision']}", "", "", str(e["version"]), e.get("by", ""),
                          e.get("why", ""))
    console.print(table)
