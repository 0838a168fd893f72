"""The `creditml` command. The only module that prints and exits.

Every command turns a :class:`CreditmlError` into its message on stderr and exit code 2,
so a broken contract never ends in a traceback.
"""

from __future__ import annotations

import functools
import sys
import warnings
from pathlib import Path
from typing import Callable, Optional

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
    if report.problems:
        raise DataContractError(report.problems, source=f"dataset {cfg.name!r} ({dataset})")
    console.print(_table_summary(f"dataset {cfg.name}", report.tables, cfg))
    rows = sum(len(t) for t in report.tables.values())
    console.print(f"[green]valid[/]: {len(report.tables)} tables, {rows:,} rows, {len(cfg.labels)} label(s)")


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


SET_OPTION = typer.Option(None, "--set", help="override a setting: KEY=VALUE (e.g. features.max_depth=0)")
DATASET_OPTION = typer.Option(None, "--dataset", help="another declared dataset YAML to run this pipeline on")


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

    cfg = load_pipeline_config(pipeline, set_, dataset)
    out = out or Path("data/features") / cfg.name
    with console.status("starting") as status:
        result = build_features(cfg, progress=lambda step: status.update(step))
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
) -> None:
    """Train a tuned model, evaluate it out of time, track it in MLflow and register a version."""
    from creditml.config import load_pipeline_config
    from creditml.runner import run_pipeline

    cfg = load_pipeline_config(pipeline, set_, dataset)
    with console.status("starting") as status:
        summary = run_pipeline(cfg, progress=lambda step: status.update(f"{cfg.name}: {step}"))
    table = Table(title=f"{cfg.name}: {summary.model_name} version {summary.version}", title_justify="left")
    for col in ("split", "AUC", "95% CI", "Gini", "KS", "PR-AUC", "Brier", "ECE"):
        table.add_column(col, justify="right")
    for split, m in summary.metrics.items():
        table.add_row(split, f"{m['auc']:.3f}", f"{m['auc_low']:.3f}-{m['auc_high']:.3f}", f"{m['gini']:.3f}",
                      f"{m['ks']:.3f}", f"{m['pr_auc']:.3f}", f"{m['brier']:.4f}", f"{m['ece']:.4f}")
    if not json_out:
        console.print(table)
        oracle = f", oracle AUC {summary.oracle_auc:.3f}" if summary.oracle_auc else ""
        console.print(f"[green]done[/]: {summary.candidates:,} candidates, {summary.selected} selected{oracle}; "
                      f"run {summary.run_id} in {summary.tracking_uri}")
    else:
        print(summary.as_json())


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
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port"),
    poll_seconds: float = typer.Option(30.0, "--poll-seconds", help="registry poll interval; 0 = off"),
    link_store: Optional[str] = typer.Option(
        None, "--link-store", help="SQLAlchemy URL of the fraud link store (default sqlite:///mlruns/linkstore.db; "
                                   "'none' = off)"),
) -> None:
    """Serve every champion over REST (POST /v1/{task}/score); follows the champion alias."""
    from creditml.serving.commands import serve as run_server

    run_server(host, port, poll_seconds, link_store)


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
    from creditml.serving.commands import score_file as run_batch

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
    from creditml.serving.commands import monitor as run_monitor

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
    from creditml.serving.commands import load_links

    console.print(load_links(pipeline, dataset, url, until))


def _registry() -> None:
    from creditml.registry import tracking

    tracking.configure()


@app.command()
@handles_errors
def report(
    model: str = typer.Argument(..., help="registered model name, e.g. creditml-credit-default"),
    version: str = typer.Option(..., "--version", help="model version"),
    out: Path = typer.Option(None, "--out", help="HTML file to write (default: reports/MODEL-vVERSION.html)"),
) -> None:
    """Write the self-contained SHAP review report of a model version (also logged to its run)."""
    from creditml.explain.inputs import write_report

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


DEMO_PIPELINES = ("credit_default", "intermediary_fraud", "collection_cure")


@app.command()
@handles_errors
def demo(
    world: Path = typer.Option(Path("data/world-medium"), help="where the built-in world is (generated if missing)"),
    scale: str = typer.Option("medium", help="scale of the generated world"),
    seed: int = typer.Option(42, help="seed of the generated world"),
    trials: int = typer.Option(8, help="Optuna trials per task (the full budget is the pipeline's tuning.n_trials)"),
    reports: Path = typer.Option(Path("reports"), help="where the review reports go"),
) -> None:
    """The whole flow on the built-in world: generate, validate, train, report, review, promote."""
    from creditml.config import load_dataset_config, load_pipeline_config
    from creditml.data import validate_dataset
    from creditml.data.synthetic import generate_world
    from creditml.registry.promotion import promote as do_promote, review as do_review
    from creditml.runner import run_pipeline

    dataset_yaml = world / "dataset.yaml"
    if not dataset_yaml.exists():
        with console.status(f"generating the {scale} world into {world}"):
            summary = generate_world(world, scale=scale, seed=seed)
        console.print(f"generated {sum(summary.rows.values()):,} rows in {summary.seconds:.0f}s")
    cfg = load_dataset_config(dataset_yaml)
    with console.status("validating"):
        report_ = validate_dataset(cfg)
    if report_.problems:
        from creditml.errors import DataContractError

        raise DataContractError(report_.problems, source=str(dataset_yaml))
    console.print(_table_summary(f"dataset {cfg.name}", report_.tables, cfg))
    results = []
    for name in DEMO_PIPELINES:
        pcfg = load_pipeline_config(Path("pipelines") / f"{name}.yaml", [f"tuning.n_trials={trials}"], dataset_yaml)
        with console.status(f"{name}: starting") as status:
            summary = run_pipeline(pcfg, progress=lambda step, n=name: status.update(f"{n}: {step}"))
        path = None
        if summary.version:
            from creditml.explain.inputs import write_report

            with console.status(f"{name}: writing the review report"):
                path = write_report(summary.model_name, summary.version,
                                    reports / f"{summary.model_name}-v{summary.version}.html")
            if summary.gates_passed:
                do_review(summary.model_name, summary.version, True, "demo reviewer",
                          "approved by make demo after reading the report")
                do_promote(summary.model_name, summary.version, by="make demo")
        results.append((summary, path))
        console.print(f"[green]{name}[/]: version {summary.version}, out-of-time AUC "
                      f"{summary.metrics['test']['auc']:.3f}")
    table = Table(title="creditml demo", title_justify="left")
    for col in ("task", "model", "version", "OOT AUC", "95% CI", "oracle AUC", "share of oracle", "KS",
                "candidates", "selected", "gates", "champion", "report"):
        table.add_column(col)
    for summary, path in results:
        m = summary.metrics["test"]
        oracle = summary.oracle_auc
        table.add_row(summary.task, summary.model_name, summary.version, f"{m['auc']:.3f}",
                      f"{m['auc_low']:.3f}-{m['auc_high']:.3f}", f"{oracle:.3f}" if oracle else "-",
                      f"{m['auc'] / oracle:.1%}" if oracle else "-", f"{m['ks']:.3f}", f"{summary.candidates:,}",
                      str(summary.selected), "passed" if summary.gates_passed else "; ".join(summary.gate_reasons),
                      "yes" if summary.gates_passed else "no", str(path or "-"))
    console.print(table)
    promoted = [s for s, _ in results if s.gates_passed and s.version]
    if promoted:
        _demo_serving(promoted, cfg)


def _demo_serving(promoted, dataset_cfg, per_task: int = 2) -> None:
    """Start the REST server, score a few out-of-time instances per champion, print the answers."""
    import httpx
    import pandas as pd

    from creditml.data import load_dataset
    from creditml.registry import store, tracking
    from creditml.serving.process import free_port, start_server, stop, wait_http
    from creditml.serving.records import records_for
    from creditml.serving.registry_watch import load_bundle

    tracking.configure()
    dataset = load_dataset(dataset_cfg)
    port = free_port()
    with console.status(f"starting creditml serve on 127.0.0.1:{port}"):
        proc = start_server(port)
        try:
            wait_http(f"http://127.0.0.1:{port}/health", proc, seconds=120)
        except Exception:
            stop(proc)
            raise
    try:
        table = Table(title=f"scored through http://127.0.0.1:{port}/v1/TASK/score", title_justify="left")
        for col in ("task", "model", "instance", "probability", "offline", "score", "band", "top reason"):
            table.add_column(col)
        for summary in promoted:
            bundle = load_bundle(f"models:/{summary.model_name}@champion")
            preds = pd.read_parquet(store.download_artifact(summary.run_id, "evaluation/predictions.parquet"))
            test = preds[preds.split == "test"].sort_values("probability", ascending=False)
            ids = [test.instance_id.iloc[0], test.instance_id.iloc[len(test) // 2]][:per_task]
            records = records_for(bundle.dataset, dataset.tables, bundle.task.target, ids, bundle.paths,
                                  bundle.features_settings.graph, bundle.task.cutoff)
            answer = httpx.post(f"http://127.0.0.1:{port}/v1/{summary.task}/score", json={"records": records},
                                timeout=60)
            answer.raise_for_status()
            offline = preds.set_index("instance_id")["probability"]
            for row in answer.json()["results"]:
                reason = row["reason_codes"][0]["feature"] if row["reason_codes"] else "-"
                table.add_row(summary.task, f"{row['model_name']} v{row['model_version']}", str(row["instance_id"]),
                              f"{row['probability']:.4f}", f"{offline.loc[row['instance_id']]:.4f}",
                              f"{row['score']:.0f}", row["band"], reason)
        console.print(table)
    finally:
        stop(proc)


def main(argv: Optional[list[str]] = None) -> None:  # pragma: no cover - entry point helper
    app(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":  # python -m creditml.cli
    main()
