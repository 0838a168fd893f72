"""Signed-in people and governed versions for the registry, serving and pipeline tests.

``people(store)`` creates one identity per role with a real API token; ``log_version``
logs a run holding the artifacts promotion recomputes the gates from
(``evaluation/metrics.json``, ``features/leakage_flags.json``, ``config/pipeline.yaml``,
the fairness/PSI/additivity metrics), registers it, tags its gates and records its
trainer in the ledger, exactly as ``creditml run`` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import mlflow
import yaml

from creditml.config import GateSettings
from creditml.governance import Identity, create_user, issue_token
from creditml.modeling.artifacts import LeakageFlags
from creditml.modeling.gates import GateInputs, evaluate_gates
from creditml.registry import open_registry, tracking
from creditml.registry.promotion import record_gates, record_registration

GOOD = GateInputs(validation_auc=0.80, test_auc=0.78, test_ks=0.4, test_ece=0.01, score_psi=0.02,
                  additivity_error=1e-7, leakage_flags=(), fairness_ratio=0.95)
ROLES = {"dana": ("data_scientist",), "rui": ("reviewer",), "ava": ("approver",), "bo": ("approver",),
         "svc": ("service",), "root": ("admin",), "dual": ("data_scientist", "approver", "reviewer"),
         "sam": ("scorer",)}


@dataclass(frozen=True)
class Person:
    identity: Identity
    token: str

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def bearer(self) -> dict[str, str]:
        """The header a client of the scoring server sends."""
        return {"Authorization": f"Bearer {self.token}"}


def people(store) -> dict[str, Person]:
    out = {}
    for name, roles in ROLES.items():
        identity = create_user(store, name, roles)
        out[name] = Person(identity, issue_token(store, name, "tests").token)
    return out


def log_version(name: str, gates: GateInputs, trainer: Identity | None, settings: GateSettings | None = None) -> str:
    """A registered version whose run logged the gate artifacts of ``gates``."""
    exp = tracking.experiment_id("creditml/test")
    with mlflow.start_run(experiment_id=exp) as run:
        mlflow.log_text("model placeholder for registry tests", "model/MLmodel")
        mlflow.log_text(json.dumps({"validation": {"auc": gates.validation_auc},
                                    "test": {"auc": gates.test_auc, "ks": gates.test_ks, "ece": gates.test_ece}}),
                        "evaluation/metrics.json")
        mlflow.log_text(LeakageFlags(leakage_flags=list(gates.leakage_flags)).model_dump_json(),
                        "features/leakage_flags.json")
        mlflow.log_text(yaml.safe_dump({"gates": (settings or GateSettings()).model_dump()}), "config/pipeline.yaml")
        mlflow.log_metrics({"score_psi_train_test": gates.score_psi, "shap_additivity_max_error": gates.additivity_error,
                            "fairness_ratio": gates.fairness_ratio})
    registry = open_registry()
    version = registry.register_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id,
                                        {"run_id": run.info.run_id})
    record_gates(name, version, evaluate_gates(gates, settings or GateSettings()), registry)
    record_registration(name, version, run.info.run_id, trainer, registry)
    return version
