"""Serving commands: serve, score, monitor, links-load."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from creditml.cli._app import DATASET_OPTION, app, console, handles_errors


@app.command()
@handles_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port"),
    poll_seconds: float = typer.Option(30.0, "--poll-seconds", help="registry poll interval; 0 = off"),
    link_store: Optional[str] = typer.Option(
        None, "--link-store", help="SQLAlchemy URL of the fraud link store (default sqlite:///mlruns/linkstore.db; "
                                   "'none' = off)"),
    workers: int = typer.Option(1, "--workers", help="server processes, each with its own copy of the champions "
                                                     "(one per core scales scoring; see docs/serving.md)"),
    link_store_max_age: float = typer.Option(
        7.0, "--link-store-max-age", help="days: a link store whose newest sighting is older is reported stale"),
    token_cache_seconds: float = typer.Option(
        30.0, "--token-cache-seconds", help="how long a verified API token is trusted before it is checked again "
                                            "(a revoked token works at most this long); 0 = every request"),
) -> None:
    """Serve every champion over REST (POST /v1/{task}/score); follows the champion alias.

    Every endpoint but /health needs an API token (Authorization: Bearer) of a user with role scorer,
    service or admin, checked against the governance database beside the tracking store
    (MLFLOW_TRACKING_URI, or CREDITML_GOVERNANCE_URL); the server refuses to start without it."""
    from creditml.cli._serving_commands import serve as run_server

    run_server(host, port, poll_seconds, link_store, workers, link_store_max_age, token_cache_seconds)


@app.command("score")
@handles_errors
def score_file(
    model_uri: str = typer.Argument(..., help="e.g. models:/creditml-credit-default@champion"),
    input: Path = typer.Option(..., "--input", help="Parquet with a 'record' column of JSON, or JSON lines"),
    out: Path = typer.Option(..., "--out", help="Parquet or JSON lines (by suffix), written atomically"),
    batch_size: int = typer.Option(200, "--batch-size"),
    features: bool = typer.Option(True, "--features/--no-features", help="also write the model's feature values"),
) -> None:
    """Batch-score raw records with a registered model."""
    from creditml.cli._serving_commands import score_file as run_batch

    summary = run_batch(model_uri, input, out, batch_size, features)
    console.print(f"[green]scored[/] {summary.rows:,} records in {summary.seconds:.1f}s "
                  f"({summary.per_second:,.0f}/s) -> {summary.out}")


@app.command()
@handles_errors
def monitor(
    model: str = typer.Argument(..., help="registered model name"),
    input: Path = typer.Option(..., "--input", help="a scored file written by creditml score"),
    out: Path = typer.Option(None, "--out", help="HTML page (default reports/MODEL-monitor.html)"),
) -> None:
    """PSI of scores and top features against the training reference; HTML page and an MLflow run."""
    from creditml.cli._serving_commands import monitor as run_monitor

    result = run_monitor(model, input, out)
    console.print(result.table.to_string(index=False))
    console.print(f"[green]report[/]: {result.html_path} (run {result.run_id})")


@app.command("links-load")
@handles_errors
def links_load(
    pipeline: Path = typer.Argument(..., help="the fraud pipeline YAML"),
    dataset: Optional[Path] = DATASET_OPTION,
    url: Optional[str] = typer.Option(None, "--url", help="link store URL (default sqlite:///mlruns/linkstore.db)"),
    until: Optional[str] = typer.Option(None, "--until", help="load history up to this time only"),
) -> None:
    """Seed the fraud link store with a dataset's identifier history."""
    from creditml.cli._serving_commands import load_links

    console.print(load_links(pipeline, dataset, url, until))
