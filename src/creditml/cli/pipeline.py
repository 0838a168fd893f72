"""Pipeline commands: features, run, tune-worker."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from creditml.cli._app import DATASET_OPTION, SET_OPTION, app, console, handles_errors


@app.command()
@handles_errors
def features(
    pipeline: Path = typer.Argument(..., help="pipeline YAML (pipelines/*.yaml)"),
    out: Path = typer.Option(None, "--out", help="output folder (default: data/features/<pipeline name>)"),
    set_: Optional[list[str]] = SET_OPTION,
    dataset: Optional[Path] = DATASET_OPTION,
) -> None:
    """Build DFS candidates, graph features and a selection with a reason for every drop."""
    from creditml.config import load_pipeline_config
    from creditml.features.outputs import write_feature_outputs
    from creditml.features.pipeline import build_features
    from creditml.scale.backends import backends_for

    cfg = load_pipeline_config(pipeline, set_, dataset)
    out = out or Path("data/features") / cfg.name
    with console.status("starting") as status:
        result = build_features(cfg, progress=lambda step: status.update(step),
                                backend=backends_for(cfg).matrix)
        status.update(f"writing {out}")
        write_feature_outputs(result, out)
    report = result.selector.report_
    reasons = report["reason"].value_counts()
    table = Table(title=f"selection for {cfg.name}", title_justify="left")
    table.add_column("reason")
    table.add_column("features", justify="right")
    for reason, count in reasons.items():
        table.add_row(str(reason), f"{count:,}")
    console.print(table)
    inst = result.instances
    console.print(
        f"[green]done[/]: {len(inst.labels):,} instances (label rate {inst.labels.mean():.1%}), "
        f"{result.matrix.shape[1]:,} candidates, {len(result.selected):,} selected -> {out}"
    )


@app.command()
@handles_errors
def run(
    pipeline: Path = typer.Argument(..., help="pipeline YAML (pipelines/*.yaml)"),
    set_: Optional[list[str]] = SET_OPTION,
    dataset: Optional[Path] = DATASET_OPTION,
    json_out: bool = typer.Option(False, "--json", help="end with one machine-readable JSON summary line"),
    no_register: bool = typer.Option(False, "--no-register", help="track the run but register no version "
                                     "(experiments; baselines with features.max_depth=0 never register)"),
) -> None:
    """Train a tuned model, evaluate it out of time, track it in MLflow and register a version."""
    from creditml.config import load_pipeline_config
    from creditml.runner import run_pipeline

    cfg = load_pipeline_config(pipeline, set_, dataset)
    trainer = _trainer(cfg.name)
    if trainer is None and not json_out:
        console.print("[yellow]not signed in[/]: the version will be recorded as trained by 'unverified' and can "
                      "never be approved; sign in first (creditml login NAME, or CREDITML_TOKEN)")
    with console.status("starting") as status:
        summary = run_pipeline(cfg, progress=lambda step: status.update(f"{cfg.name}: {step}"),
                               register=not no_register, trainer=trainer)
    title = f"{summary.model_name} version {summary.version}" if summary.version else "not registered"
    table = Table(title=f"{cfg.name}: {title}", title_justify="left")
    for col in ("split", "AUC", "95% CI", "Gini", "KS", "PR-AUC", "Brier", "ECE"):
        table.add_column(col, justify="right")
    for split, m in summary.metrics.items():
        table.add_row(split, f"{m['auc']:.3f}", f"{m['auc_low']:.3f}-{m['auc_high']:.3f}", f"{m['gini']:.3f}",
                      f"{m['ks']:.3f}", f"{m['pr_auc']:.3f}", f"{m['brier']:.4f}", f"{m['ece']:.4f}")
    if not json_out:
        console.print(table)
        oracle = f", oracle AUC {summary.oracle_auc:.3f}" if summary.oracle_auc else ""
        if summary.new_trials == 0:
            console.print(f"[yellow]reused study {summary.study}[/]: its {summary.reused_trials} trials finished in "
                          "an earlier run and this run added none; to search again set tuning.study_name to a new "
                          "name or raise tuning.n_trials")
        elif summary.reused_trials:
            console.print(f"resumed study {summary.study}: {summary.reused_trials} earlier trials, "
                          f"{summary.new_trials} new")
        console.print(f"[green]done[/]: {summary.candidates:,} candidates, {summary.selected} selected{oracle}; "
                      f"run {summary.run_id} in {summary.tracking_uri}; {summary.registered}")
    else:
        print(summary.as_json())


def _trainer(pipeline_name: str):
    """The signed-in identity that trains, or None when nobody is signed in (a bad token is refused)."""
    from creditml.governance import AuthError, current_token

    if current_token() is None:
        return None
    from creditml.cli._app import _signed_in

    actor = _signed_in(f"train pipeline {pipeline_name!r}")
    if not (actor.has("data_scientist") or actor.has("service")):
        raise AuthError(f"{actor.name} may not train pipeline {pipeline_name!r}: rule role: expected role "
                        f"data_scientist or service, found roles: {', '.join(sorted(actor.roles)) or 'none'}; fix: "
                        "ask an admin to grant data_scientist, or sign out to train an unverified experiment")
    return actor


@app.command("tune-worker")
@handles_errors
def tune_worker_command(
    pipeline: Path = typer.Argument(..., help="pipeline YAML (pipelines/*.yaml)"),
    storage: str = typer.Option(..., "--storage", help="shared Optuna storage, e.g. postgresql://USER@HOST:5432/DB"),
    trials: int = typer.Option(10, "--trials", help="trials this worker runs"),
    features_dir: Path = typer.Option(None, "--features", help="folder written by creditml features (no recompute)"),
    timeout: float = typer.Option(None, "--timeout", help="start no new trial after this many seconds"),
    set_: Optional[list[str]] = SET_OPTION,
    dataset: Optional[Path] = DATASET_OPTION,
) -> None:
    """Add trials to the pipeline's shared Optuna study; start as many workers as there are cores/machines."""
    from creditml.scale.tune_worker import tune_worker

    with console.status("starting") as status:
        summary = tune_worker(pipeline, storage, trials, overrides=set_, dataset=dataset, features_dir=features_dir,
                              timeout_seconds=timeout, progress=lambda step: status.update(step))
    best = f"{summary.best_value:.4f}" if summary.best_value is not None else "-"
    console.print(f"[green]done[/]: {summary.trials} trial(s) by {summary.worker} (sampler seed "
                  f"{summary.sampler_seed}); study {summary.study_name} holds {summary.study_trials} finished "
                  f"trial(s), best validation AUC {best}", highlight=False)


@app.command()
@handles_errors
def recover() -> None:
    """Mark FAILED the runs and Optuna trials that killed processes left RUNNING (every run and registry command
    does this first; this does only that)."""
    from creditml.registry import tracking
    from creditml.registry.recovery import recover as close_dead

    runs, trials = close_dead(tracking.configure())
    console.print(f"closed {len(runs)} run(s) and {trials} trial(s) left RUNNING by processes that died"
                  + (f": {', '.join(runs)}" if runs else ""), highlight=False)
