"""governance sits below registry: it imports neither MLflow nor higher creditml packages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import creditml.governance

PACKAGE = Path(creditml.governance.__file__).parent
ALLOWED_CREDITML = ("creditml.errors", "creditml.config", "creditml.governance")


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_no_module_imports_mlflow_or_a_higher_creditml_package():
    offenders = {}
    for path in sorted(PACKAGE.glob("*.py")):
        bad = sorted(m for m in imported_modules(path)
                     if m.split(".")[0] == "mlflow"
                     or (m.startswith("creditml") and not m.startswith(ALLOWED_CREDITML)))
        if bad:
            offenders[path.name] = bad
    assert offenders == {}, f"governance must import only creditml.errors/config, found {offenders}"


def test_importing_governance_loads_no_mlflow():
    code = ("import sys, creditml.governance; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'featuretools', 'xgboost')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(PACKAGE.parents[1])})
    assert out.stdout.strip() == "[]"
