"""Review and registry commands: report, review, approve, promote, rollback, audit (as the signed-in identity)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from creditml.cli._app import _registry, _signed_in, app, console, err_console, handles_errors
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
    approve: bool = typer.Option(None, "--approve/--reject", help="your decision, after reading the report"),
    comment: str = typer.Option(..., "--comment", help="what you read and why you decide so"),
) -> None:
    """Record your review (as the signed-in identity) of a model version; you may not review what you trained."""
    from creditml.registry.promotion import review as record_review

    if approve is None:
        raise CreditmlError("review: say --approve or --reject; fix: add one of them")
    _registry()
    actor = _signed_in(f"review version {version} of model {model!r}")
    entry = record_review(model, version, approve, actor, comment)
    console.print(f"{model} version {version}: review [bold]{'approve' if approve else 'reject'}[/] by {actor.name} "
                  f"recorded (ledger seq {entry.seq})", highlight=False)


@app.command()
@handles_errors
def approve(
    model: str = typer.Argument(...),
    version: str = typer.Option(..., "--version"),
    comment: str = typer.Option("", "--comment", help="conditions or notes of the approval"),
) -> None:
    """Approve a version as the signed-in approver: not its trainer, after someone else's approving review."""
    from creditml.registry.promotion import approve as record_approval

    _registry()
    actor = _signed_in(f"approve version {version} of model {model!r}")
    entry = record_approval(model, version, actor, comment)
    console.print(f"{model} version {version}: [bold]approved[/] by {actor.name} (ledger seq {entry.seq})",
                  highlight=False)


@app.command()
@handles_errors
def promote(model: str = typer.Argument(...), version: str = typer.Option(..., "--version")) -> None:
    """Make an approved version champion (as the signed-in approver or service); gates are recomputed from its run."""
    from creditml.registry.promotion import promote as do_promote

    _registry()
    actor = _signed_in(f"promote version {version} of model {model!r}")
    previous = do_promote(model, version, actor)
    console.print(f"{model}: champion is now version {version}" + (f" (was {previous})" if previous else "")
                  + f", promoted by {actor.name}", highlight=False)


@app.command()
@handles_errors
def rollback(model: str = typer.Argument(...)) -> None:
    """Restore the champion before the current one, as the ledger records it."""
    from creditml.registry.promotion import rollback as do_rollback

    _registry()
    actor = _signed_in(f"roll back model {model!r}")
    current, previous = do_rollback(model, actor)
    console.print(f"{model}: champion rolled back from version {current} to {previous} by {actor.name}",
                  highlight=False)


@app.command()
@handles_errors
def audit(model: str = typer.Argument(...),
          verify: bool = typer.Option(False, "--verify", help="check the hash chain, the signatures and the alias; "
                                      "exit 2 naming the first bad entry")) -> None:
    """The model's ledger: every registration, review, approval, promotion and rollback, who and when."""
    from creditml.registry import open_registry
    from creditml.registry.governed import champion_state, open_ledger, verify as verify_ledger

    _registry()
    registry = open_registry()
    registry.require_model(model)
    ledger = open_ledger(registry)
    table = Table(title=f"ledger of {model}", title_justify="left")
    for col in ("seq", "when", "kind", "version", "who", "detail"):
        table.add_column(col, no_wrap=col not in {"who", "detail"})
    for e in ledger.entries(model):
        p = e.payload
        detail = p.get("comment") or ""
        if e.kind == "review":
            detail = f"{p.get('decision')}: {detail}"
        elif e.kind == "registered":
            detail = f"trained by {p.get('trainer')}" + ("" if p.get("verified") else " (not signed in)")
        elif e.kind == "promotion":
            gates = p.get("gates") or {}
            detail = (f"from {p.get('previous') or '-'}; gates recomputed "
                      f"{'passed' if gates.get('passed') else 'FAILED'} (artifacts sha256 "
                      f"{str(gates.get('artifacts_sha256', ''))[:16]})")
        elif e.kind == "rollback":
            detail = f"from {p.get('from')}"
        table.add_row(str(e.seq), e.at, e.kind, str(e.version or "-"), e.actor, detail)
    console.print(table)
    state = champion_state(registry, ledger, model)
    console.print(f"champion by the ledger: {state.ledger_champion or 'none'}; alias 'champion': "
                  f"{state.alias or 'none'}", highlight=False)
    if state.problem and state.verified:
        err_console.print(f"[bold red]champion mismatch:[/] model {model!r}: {state.problem}", highlight=False,
                          soft_wrap=True)
    if verify:
        report = verify_ledger(registry, ledger, model)
        if report.ok and not state.problem:
            console.print(f"[green]verified[/]: {report}", highlight=False)
            return
        if not report.ok:
            err_console.print(f"[bold red]ledger verification failed:[/] {report}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
