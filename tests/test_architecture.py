"""The layer contracts (pyproject's ``[tool.importlinter]``) hold, and they can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import creditml

ROOT = Path(__file__).resolve().parents[1]
LINT = str(Path(sys.executable).parent / "lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([LINT, "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=src, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_layer_contracts_are_kept():
    result = _lint(Path(creditml.__file__).resolve().parents[1])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_a_backwards_import_and_an_mlflow_import_break_them(tmp_path):
    copy = tmp_path / "src" / "creditml"
    shutil.copytree(Path(creditml.__file__).resolve().parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "data" / "loading.py", "a") as fh:
        fh.write("\nfrom creditml.runner import run_pipeline  # noqa: E402,F401\n")
    with open(copy / "serving" / "batch.py", "a") as fh:
        fh.write("\nimport mlflow  # noqa: E402,F401\n")
    result = _lint(tmp_path / "src")
    assert result.returncode == 1
    assert "creditml.data is not allowed to import creditml.runner" in result.stdout
    assert "creditml.serving is not allowed to import mlflow" in result.stdout
    assert "Contracts: 0 kept, 2 broken." in result.stdout
