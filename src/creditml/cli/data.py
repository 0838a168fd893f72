"""Commands on datasets: validate, generate."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from creditml.cli._app import _table_summary, app, console, handles_errors
from creditml.errors import CreditmlError


@app.command()
@handles_errors
def validate(dataset: Path = typer.Argument(..., help="dataset config YAML (configs/datasets/*.yaml)")) -> None:
    """Check every contract of a declared dataset; exit 2 listing all problems."""
    from creditml.config import load_dataset_config
    from creditml.data import validate_dataset
    from creditml.errors import DataContractError

    cfg = load_dataset_config(dataset)
    with console.status(f"validating {cfg.name} ({len(cfg.tables)} tables)"):
        report = validate_dataset(cfg)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    for step in report.cleaning:
        console.print(f"[cyan]cleaned:[/] {step}", highlight=False)
    if report.date_ranges or any(spec.static for spec in cfg.tables.values()):
        console.print(_date_ranges(report.date_ranges, cfg))
    if report.problems:
        raise DataContractError(report.problems, source=f"dataset {cfg.name!r} ({dataset})")
    console.print(_table_summary(f"dataset {cfg.name}", report.tables, cfg))
    rows = sum(len(t) for t in report.tables.values())
    console.print(f"[green]valid[/]: {len(report.tables)} tables, {rows:,} rows, {len(cfg.labels)} label(s)")


def _date_ranges(ranges, cfg) -> Table:
    out = Table(title=f"dates (plausible: {cfg.earliest} to {cfg.as_of or 'the latest time in the data'})",
                title_justify="left")
    for col in ("table", "column", "from", "to", ""):
        out.add_column(col)
    for r in ranges:
        out.add_row(r.table, r.column, str(r.first), str(r.last), "[red]outside[/]" if r.flagged else "")
    for name, spec in cfg.tables.items():
        if spec.static:
            out.add_row(name, "-", "static: true", "(known at every cutoff)", "")
    return out


@app.command()
@handles_errors
def generate(
    out: Path = typer.Option(..., "--out", help="folder to write the world into"),
    scale: str = typer.Option("small", help="small (~3k applications) | medium (~50k) | large (~500k)"),
    seed: int = typer.Option(0, help="random seed: the same seed writes the same bytes"),
) -> None:
    """Generate the built-in relational loan world (Parquet tables, dataset.yaml, oracle)."""
    from creditml.data.synthetic import SCALES, generate_world

    if scale not in SCALES:
        raise CreditmlError(f"--scale must be one of {', '.join(SCALES)}, got {scale!r}")
    with console.status(f"generating the {scale} world (seed {seed}) into {out}"):
        summary = generate_world(out, scale=scale, seed=seed)
    table = Table(title=f"{scale} world, seed {seed}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    for task, auc in summary.oracle_auc.items():
        console.print(f"  {task}: label rate {summary.label_rates[task]:.1%}, oracle AUC {auc:.3f}")
    console.print(f"[green]wrote[/] {out}/dataset.yaml in {summary.seconds:.1f}s")
