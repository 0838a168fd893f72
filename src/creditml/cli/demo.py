"""`creditml demo`: the whole flow on the built-in world (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from creditml.cli._app import _table_summary, app, console, handles_errors
from creditml.errors import CreditmlError

if TYPE_CHECKING:
    import pandas as pd

SERVED_TOLERANCE = 1e-6  # the REST answer sums float32 tree outputs in float64; XGBoost's offline sum is float32


DEMO_PIPELINES = ("credit_default", "intermediary_fraud", "collection_cure")


@app.command()
@handles_errors
def demo(
    world: Path = typer.Option(Path("data/world-medium"), help="where the built-in world is (generated if missing)"),
    scale: str = typer.Option("medium", help="scale of the generated world"),
    seed: int = typer.Option(42, help="seed of the generated world"),
    trials: int = typer.Option(20, help="Optuna trials per task (the full budget is the pipeline's tuning.n_trials)"),
    reports: Path = typer.Option(Path("reports"), help="where the review reports go"),
    home_credit: Path = typer.Option(Path("configs/datasets/home_credit.yaml"),
                                     help="the real Home Credit sample's dataset YAML (validated when the sample is "
                                          "there; CREDITML_SAMPLES says where)"),
    workbench: bool = typer.Option(True, "--workbench/--no-workbench",
                                   help="leave the reviewer's workbench running on loopback at the end"),
) -> None:
    """The whole flow on the built-in world: generate, validate, train as a data scientist, report, review,
    approve and promote as two other people."""
    from creditml.config import load_dataset_config, load_pipeline_config
    from creditml.data import validate_dataset
    from creditml.data.synthetic import generate_world
    from creditml.registry.promotion import approve as do_approve, promote as do_promote, review as do_review
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
    _validate_home_credit(home_credit)
    people = demo_people()
    results = []
    for name in DEMO_PIPELINES:
        pcfg = load_pipeline_config(Path("pipelines") / f"{name}.yaml", [f"tuning.n_trials={trials}"], dataset_yaml)
        with console.status(f"{name}: starting") as status:
            summary = run_pipeline(pcfg, progress=lambda step, n=name: status.update(f"{n}: {step}"),
                                   trainer=people["demo-scientist"])
        path = None
        if summary.version:
            from creditml.registry.reports import write_report

            with console.status(f"{name}: writing the review report"):
                path = write_report(summary.model_name, summary.version,
                                    reports / f"{summary.model_name}-v{summary.version}.html")
            if summary.gates_passed:
                do_review(summary.model_name, summary.version, True, people["demo-reviewer"],
                          f"read {path}: approved by make demo")
                do_approve(summary.model_name, summary.version, people["demo-approver"], "make demo")
                do_promote(summary.model_name, summary.version, people["demo-approver"])
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
    if workbench:
        _demo_workbench(reports)


def _demo_workbench(logs: Path, port: int = 8100) -> None:
    """Start ``creditml review-server`` in the background (it outlives the demo) and say how to sign in.

    The demo reviewer gets a random password, kept with the demo's tokens (mode 0600), never printed.
    """
    import json
    import os
    import secrets
    import socket
    import subprocess
    import sys

    from creditml.cli._app import _governance
    from creditml.governance import set_password
    from creditml.serving.process import free_port, wait_http

    saved_path = _demo_tokens()
    saved = json.loads(saved_path.read_text())
    passwords = saved.setdefault("passwords", {})
    for name in ("demo-reviewer", "demo-approver"):
        passwords.setdefault(name, secrets.token_urlsafe(12))
        set_password(_governance(), name, passwords[name])
    fd = os.open(saved_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(saved, fh)
    with socket.socket() as probe:  # the usual port when it is free, any free one otherwise
        port = port if probe.connect_ex(("127.0.0.1", port)) != 0 else free_port()
    logs.mkdir(parents=True, exist_ok=True)
    log = open(logs / "workbench.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "creditml.cli", "review-server", "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/signin", proc, seconds=120)
    console.print(f"reviewer's workbench: [bold]http://127.0.0.1:{port}/[/] (pid {proc.pid}, log {logs}/workbench.log)"
                  f"; sign in as [bold]demo-reviewer[/] or [bold]demo-approver[/] with the password under "
                  f"\"passwords\" in {saved_path}; stop it with: kill {proc.pid}", highlight=False)


def _validate_home_credit(dataset_yaml: Path) -> None:
    """Validate the real Home Credit sample when it is there (it is not part of the repository); say which."""
    from creditml.config import SAMPLES_VARIABLE, SamplesNotFound, load_dataset_config
    from creditml.data import validate_dataset
    from creditml.errors import DataContractError

    try:
        cfg = load_dataset_config(dataset_yaml)
    except SamplesNotFound as exc:
        console.print(f"Home Credit sample not found at {exc.location}; skipped (set {SAMPLES_VARIABLE} to the "
                      "folder holding home_credit_sample/ to validate it)", highlight=False)
        return
    with console.status(f"validating the Home Credit sample at {cfg.base_dir}"):
        report = validate_dataset(cfg)
    if report.problems:
        raise DataContractError(report.problems, source=f"dataset {cfg.name!r} ({dataset_yaml})")
    rows = sum(len(t) for t in report.tables.values())
    console.print(f"Home Credit sample at {cfg.base_dir}: [green]valid[/], {len(report.tables)} tables, {rows:,} rows",
                  highlight=False)
    for note in report.notes:
        console.print(f"  [yellow]note:[/] {note}", highlight=False)
DEMO_PEOPLE = {"demo-scientist": ("data_scientist",), "demo-reviewer": ("reviewer",),
               "demo-approver": ("approver",), "demo-service": ("service",)}  # demo-service: the scoring client


def _demo_tokens() -> Path:
    import os

    return Path(os.environ.get("CREDITML_HOME") or ".creditml-demo") / "demo-tokens.json"


def demo_people() -> dict:
    """The demo's data scientist, reviewer, approver and scoring service, each signed in by a token kept
    in the demo's local config (``CREDITML_HOME`` or ``.creditml-demo/``, mode 0600), never printed in full."""
    import json
    import os

    from creditml.cli._app import _governance
    from creditml.governance import (AuthError, IdentityError, authenticate_token, create_user, issue_token)

    store = _governance()
    saved_path = _demo_tokens()
    saved_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    saved = json.loads(saved_path.read_text()) if saved_path.exists() else {}
    people = {}
    for name, roles in DEMO_PEOPLE.items():
        try:
            people[name] = authenticate_token(store, saved[name])
            continue
        except (KeyError, AuthError):
            pass
        try:
            create_user(store, name, roles)
        except IdentityError:
            pass  # created by an earlier demo whose token file is gone: issue a new token
        saved[name] = issue_token(store, name, "make demo").token
        people[name] = authenticate_token(store, saved[name])
    fd = os.open(saved_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(saved, fh)
    for name, identity in people.items():
        console.print(f"signed in as [bold]{name}[/] ({', '.join(sorted(identity.roles))}), token "
                      f"{saved[name][:16]}... in {saved_path}", highlight=False)
    return people


def _demo_serving(promoted, dataset_cfg, per_task: int = 2) -> None:
    """Start the REST server, score a few out-of-time instances per champion as demo-service, print the answers."""
    import json

    import httpx
    import pandas as pd

    from creditml.data import load_dataset
    from creditml.registry import open_registry, tracking
    from creditml.serving.process import free_port, start_server, stop, wait_http
    from creditml.model.records import records_for
    from creditml.registry.loading import load_bundle

    tracking.configure()
    dataset = load_dataset(dataset_cfg)
    # the server refuses calls without a token; demo_people() saved demo-service's
    headers = {"Authorization": f"Bearer {json.loads(_demo_tokens().read_text())['demo-service']}"}
    port = free_port()
    with console.status(f"starting creditml serve on 127.0.0.1:{port}"):
        # the demo sends self-contained records: a fraud record carries its whole identifier group (a
        # production server reads that from the link store), so its bodies exceed the default limit
        proc = start_server(port, env={"CREDITML_MAX_BODY_BYTES": str(256 * 1024 * 1024)})
        try:
            wait_http(f"http://127.0.0.1:{port}/health", proc, seconds=120)
        except Exception:
            stop(proc)
            raise
    skewed: list[str] = []
    try:
        table = Table(title=f"scored through http://127.0.0.1:{port}/v1/TASK/score", title_justify="left")
        for col in ("task", "model", "instance", "probability", "offline", "score", "band", "top reason"):
            table.add_column(col)
        for summary in promoted:
            bundle = load_bundle(f"models:/{summary.model_name}@champion")
            preds = pd.read_parquet(open_registry().download_artifacts(summary.run_id, "evaluation/predictions.parquet"))
            test = preds[preds.split == "test"].sort_values("probability", ascending=False)
            ids = [test.instance_id.iloc[0], test.instance_id.iloc[len(test) // 2]][:per_task]
            records = records_for(bundle.dataset, dataset.tables, bundle.task.target, ids, bundle.paths,
                                  bundle.features_settings.graph, bundle.task.cutoff)
            results = []
            for record in records:  # one request per record, as a scoring client sends them
                answer = httpx.post(f"http://127.0.0.1:{port}/v1/{summary.task}/score", json={"records": [record]},
                                    headers=headers, timeout=120)
                answer.raise_for_status()
                results += answer.json()["results"]
            offline = preds.set_index("instance_id")["probability"]
            skewed += served_skew(summary.task, results, offline)
            for row in results:
                evaluated = offline.loc[row["instance_id"]]
                reason = row["reason_codes"][0]["feature"] if row["reason_codes"] else "-"
                table.add_row(summary.task, f"{row['model_name']} v{row['model_version']}", str(row["instance_id"]),
                              f"{row['probability']:.4f}", f"{evaluated:.4f}",
                              f"{row['score']:.0f}", row["band"], reason)
        console.print(table)
    finally:
        stop(proc)
    refuse_skew(skewed)


def served_skew(task: str, served: list[dict], offline: pd.Series) -> list[str]:
    """One line per served answer whose probability differs from the offline evaluation's by more than
    ``SERVED_TOLERANCE`` (``offline``: probability by instance id, from the run's predictions)."""
    out = []
    for row in served:
        evaluated = offline.loc[row["instance_id"]]
        if abs(row["probability"] - evaluated) > SERVED_TOLERANCE:
            out.append(f"{task} instance {row['instance_id']}: served {row['probability']:.6f}, offline {evaluated:.6f}")
    return out


def refuse_skew(skewed: list[str]) -> None:
    if skewed:
        raise CreditmlError("training/serving skew: the served probability differs from the offline evaluation's "
                            f"for {'; '.join(skewed)}; compare the features with tests/serving/test_skew.py's check "
                            "and report it: a served model must score exactly as it was evaluated")
