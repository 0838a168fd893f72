"""`creditml review-server` starts the workbench on the configured stores."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from creditml.cli import app

SRC = Path(__file__).resolve().parents[2] / "src"


def test_help_names_the_options():
    result = CliRunner().invoke(app, ["review-server", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--secure-cookies", "--warm"):
        assert option in result.output


def test_the_command_serves_the_sign_in_page(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(SRC), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
           "CREDITML_GOVERNANCE_URL": f"sqlite:///{tmp_path / 'governance.db'}",
           "CREDITML_LEDGER_KEY": str(tmp_path / "gov" / "ledger.key")}
    server = subprocess.Popen([sys.executable, "-m", "creditml.cli", "review-server", "--port", str(port), "--no-warm"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(600):
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/signin", timeout=1)
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.1)
        else:
            raise AssertionError("review-server did not answer within 60 s")
        assert answer.status_code == 200 and "Sign in" in answer.text
        assert (tmp_path / "gov" / "review-session.secret").stat().st_mode & 0o777 == 0o600
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
