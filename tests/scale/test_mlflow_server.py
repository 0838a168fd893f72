"""A whole `creditml run` against an MLflow tracking server backed by PostgreSQL, then promotion and serving."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd

from creditml.registry import promotion, tracking
from tests.conftest import PIPELINES

BIN = Path(sys.executable).parent
MODEL = "creditml-credit-default"
SMALL_RUN = ["features.max_candidates=150", "tuning.n_trials=2", "tuning.max_boost_rounds=80",
             "tuning.early_stopping_rounds=10", "selection.max_selected=30", "training.min_positives=5",
             # a model trained on a few hundred instances: the gates are relaxed, not skipped
             "gates.min_fairness_ratio=0", "gates.min_test_auc=0", "gates.min_test_ks=0", "gates.max_auc_drop=1",
             "gates.max_score_psi=100", "gates.max_calibration_error=1"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"mlflow server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"mlflow server at {url} not healthy within {timeout:.0f}s")


def _stop(server: subprocess.Popen) -> None:
    """Stop the server and the workers it forked (its own process group, started by this test)."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def test_run_review_promote_and_serve_through_a_postgres_backed_tracking_server(small_world, postgres_url, tmp_path,
                                                                                monkeypatch):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # the governance service's database and key: shared by the training subprocess and this process
    governance = {"CREDITML_GOVERNANCE_URL": f"sqlite:///{tmp_path / 'governance.db'}",
                  "CREDITML_LEDGER_KEY": str(tmp_path / "ledger.key"), "CREDITML_HOME": str(tmp_path / "home")}
    for key, value in governance.items():
        monkeypatch.setenv(key, value)
    from creditml.governance import connect
    from tests.governed import people

    staff = people(connect(governance["CREDITML_GOVERNANCE_URL"]))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "MLFLOW_TRACKING_URI": url,
           **governance, "CREDITML_TOKEN": staff["dana"].token}
    server_log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [str(BIN / "mlflow"), "server", "--backend-store-uri", postgres_url, "--default-artifact-root",
         str(tmp_path / "artifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=tmp_path, env={k: v for k, v in env.items() if k != "MLFLOW_TRACKING_URI"},
        stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
    previous_uri = mlflow.get_tracking_uri()
    try:
        _wait_healthy(url, server, timeout=60)
        run = subprocess.run(
            [str(BIN / "creditml"), "run", str(PIPELINES / "credit_default.yaml"), "--dataset", str(small_world),
             "--json", *[arg for s in SMALL_RUN + [f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}"]
                         for arg in ("--set", s)]],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        assert summary["tracking_uri"] == url and summary["gates_passed"], summary

        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        tracking.configure(tmp_path / "mlruns")
        version = summary["version"]
        assert promotion.audit(MODEL)[0].payload["trainer"] == "dana"  # the run's signed-in identity
        promotion.review(MODEL, version, True, staff["rui"].identity, "scale-out end-to-end test")
        promotion.approve(MODEL, version, staff["ava"].identity)
        assert promotion.promote(MODEL, version, staff["ava"].identity) is None

        model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
        record = mlflow.artifacts.load_dict(f"runs:/{summary['run_id']}/serving/example_record.json")
        scored = model.predict(pd.DataFrame({"record": [json.dumps(record)]}))
        assert len(scored) == 1 and 0 < float(scored["probability"].iloc[0]) < 1
        assert not (tmp_path / "mlruns" / "mlflow.db").exists()  # nothing went to the embedded store
    finally:
        mlflow.set_tracking_uri(previous_uri)
        mlflow.set_registry_uri(previous_uri)
        _stop(server)
        server_log.close()
