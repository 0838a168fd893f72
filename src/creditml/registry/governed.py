"""Where the registry meets governance: the ledger beside the tracking store, gates
recomputed from a run's own artifacts, and who the ledger says is champion.

Nothing here trusts a tag or an alias: gate results come from the logged artifacts
(their SHA-256 is what a promotion records), the champion comes from the verified
ledger, and the MLflow alias is compared with it and reported when it disagrees.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from creditml.config import GateSettings
from creditml.errors import CreditmlError
from creditml.governance import (Ledger, LedgerEntry, VerifyReport, approval_in_force, champion_of, connect)
from creditml.governance import settings as gov_settings
from creditml.governance.keys import SigningKey, trusted_keys_from_settings
from creditml.governance.records import GENESIS_HASH, canonical_json
from creditml.modeling.artifacts import LeakageFlags, read_record
from creditml.modeling.gates import GateDecision, GateInputs, evaluate_gates
from creditml.registry import ModelRegistry, RegistryError

log = logging.getLogger("creditml.governance")
CHAMPION = "champion"
HEAD_TAG = "creditml.ledger.head"  # "<seq>:<hash>" mirrored outside the governance database
GATE_ARTIFACTS = ("evaluation/metrics.json", "features/leakage_flags.json", "config/pipeline.yaml")
GATE_METRICS = ("score_psi_train_test", "shap_additivity_max_error", "fairness_ratio")


def governance_root(registry: ModelRegistry) -> Path:
    """Beside an SQLite tracking store (``mlruns/`` by default); ``mlruns/`` otherwise."""
    uri = registry.uri
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///"):]).resolve().parent
    return gov_settings.DEFAULT_ROOT


class _LazyKeyLedger(Ledger):
    """A ledger whose signing key (only appends need it) and trusted keys live under ``root``."""

    def __init__(self, store, root: Path):
        super().__init__(store)
        self.root = root

    @property
    def signing_key(self) -> SigningKey:
        if self._signing_key is None:
            self._signing_key = SigningKey.load_or_create(gov_settings.key_path(self.root))
        return self._signing_key

    def trusted_keys(self):
        return trusted_keys_from_settings(self.root)


_stores: dict[str, object] = {}


def governance_url(registry: ModelRegistry) -> str:
    """URL of this registry's governance database: ``CREDITML_GOVERNANCE_URL``, else SQLite beside the store."""
    root = governance_root(registry)
    root.mkdir(parents=True, exist_ok=True)
    return gov_settings.database_url(root)


def open_ledger(registry: ModelRegistry) -> Ledger:
    """The governance ledger of this registry (``CREDITML_GOVERNANCE_URL`` or SQLite beside the store)."""
    root = governance_root(registry)
    url = governance_url(registry)
    if url not in _stores:
        _stores[url] = connect(url)
    return _LazyKeyLedger(_stores[url], root)


def open_store(registry: ModelRegistry):
    return open_ledger(registry).store


def mirror_head(registry: ModelRegistry, ledger: Ledger, name: str) -> None:
    seq, digest = ledger.head(name)
    registry.set_model_tags(name, {HEAD_TAG: f"{seq}:{digest}"})


def verify(registry: ModelRegistry, ledger: Ledger, name: str) -> VerifyReport:
    """Chain and signatures, anchored at the head mirrored into the registry's model tag."""
    expected = None
    try:
        mirrored = registry.model_tags(name).get(HEAD_TAG)
    except RegistryError:
        mirrored = None
    if mirrored and ":" in mirrored:
        seq, digest = mirrored.split(":", 1)
        expected = (int(seq), digest)
    if expected is None and ledger.head(name)[0] == 0 and not ledger.entries(name):
        return VerifyReport(model=name, entries=0, head_seq=0, head_hash=GENESIS_HASH)  # nothing decided yet
    return ledger.verify(name, expected_head=expected)


# ---------------------------------------------------------------------- gates from artifacts


@dataclass(frozen=True)
class RecomputedGates:
    decision: GateDecision
    artifacts_sha256: str  # over every input below, canonical
    files: dict[str, str]  # artifact -> SHA-256 of its bytes
    metrics: dict[str, float | None]

    def payload(self) -> dict:
        return {"passed": self.decision.passed, "failed": self.decision.reasons, "artifacts_sha256":
                self.artifacts_sha256, "files": self.files,
                "metrics": {k: (None if v is None or math.isnan(v) else v) for k, v in self.metrics.items()}}


def recompute_gates(registry: ModelRegistry, name: str, version: str) -> RecomputedGates:
    """The automated gates of ``version`` evaluated now from its run's logged artifacts (never a tag)."""
    info = registry.get_version(name, version)
    where = f"model {name!r} version {version} (run {info.run_id})"
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rel in GATE_ARTIFACTS:
            try:
                path = registry.download_artifacts(info.run_id, rel, Path(tmp) / rel.replace("/", "_"))
                files[rel] = Path(path).read_bytes()
            except Exception:  # noqa: BLE001 - a missing artifact is the refusal below, whatever the store says
                raise RegistryError(f"{where}: its run lacks the artifact {rel!r} the gates are recomputed from; "
                                    "rule gates-from-artifacts: no promotion without them; fix: retrain it with "
                                    "this creditml version") from None
    run_metrics = registry.run_metrics(info.run_id)
    metrics = {k: run_metrics.get(k) for k in GATE_METRICS}
    try:
        split = json.loads(files["evaluation/metrics.json"])
        flags = read_record(LeakageFlags, files["features/leakage_flags.json"].decode(), "features/leakage_flags.json")
        pipeline = yaml.safe_load(files["config/pipeline.yaml"]) or {}
        settings = GateSettings.model_validate(pipeline.get("gates") or {})
        nan = float("nan")
        inputs = GateInputs(
            validation_auc=float(split["validation"]["auc"]), test_auc=float(split["test"]["auc"]),
            test_ks=float(split["test"]["ks"]), test_ece=float(split["test"]["ece"]),
            score_psi=_num(metrics["score_psi_train_test"], nan),
            additivity_error=_num(metrics["shap_additivity_max_error"], nan),
            leakage_flags=tuple(flags.leakage_flags), fairness_ratio=_num(metrics["fairness_ratio"], nan))
    except (KeyError, TypeError, ValueError, ValidationError, CreditmlError) as exc:
        raise RegistryError(f"{where}: its gate artifacts cannot be read ({str(exc).splitlines()[0]}); rule "
                            "gates-from-artifacts; fix: retrain it with this creditml version") from None
    hashes = {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}
    overall = hashlib.sha256(canonical_json({"files": hashes, "metrics": {
        k: (None if v is None or math.isnan(v) else v) for k, v in metrics.items()}}).encode()).hexdigest()
    return RecomputedGates(evaluate_gates(inputs, settings), overall, hashes, metrics)


def _num(value, default: float) -> float:
    return default if value is None else float(value)


# ---------------------------------------------------------------------- champions by the ledger


@dataclass(frozen=True)
class ChampionState:
    """What the ledger says of one model, and whether the alias agrees."""

    name: str
    ledger_champion: str | None  # served only when ``servable``
    alias: str | None
    verified: bool
    problem: str | None = None  # why the ledger's champion cannot be served, or the mismatch

    @property
    def mismatch(self) -> bool:
        return self.alias != self.ledger_champion

    def describe(self) -> dict:
        return {"model": self.name, "alias": self.alias, "ledger": self.ledger_champion,
                "verified": self.verified, "problem": self.problem}


def champion_state(registry: ModelRegistry, ledger: Ledger, name: str, alias: str = CHAMPION) -> ChampionState:
    """The champion of ``name`` as the verified ledger decides, compared with the MLflow alias."""
    alias_version = registry.alias_version(name, alias)
    report = verify(registry, ledger, name)
    if not report.ok:
        problem = f"ledger fails verification: {str(report).splitlines()[0]}"
        log.error("model %s: %s; serving nothing new from it", name, problem)
        return ChampionState(name, None, alias_version, False, problem)
    rows = ledger.entries(name)
    champion = champion_of(rows)
    problem = None
    if champion is not None and approval_in_force(rows, champion) is None:
        problem = f"the ledger's champion, version {champion}, has no approval in force"
        champion = None
    if alias_version != champion:
        problem = (f"alias {alias!r} points at version {alias_version} but the ledger's champion is version "
                   f"{champion}; the alias is refused (someone moved it outside creditml); fix: run "
                   f"'creditml promote {name} --version V' as an approver, or restore the alias to {champion}")
        log.error("CHAMPION MISMATCH model %s: %s", name, problem)
    return ChampionState(name, champion, alias_version, True, problem)


def ledger_champions(registry: ModelRegistry, alias: str = CHAMPION) -> tuple[dict[str, str], list[ChampionState]]:
    """``({model: version the ledger says is champion with an approval in force}, [mismatches])``.

    Every registered model is checked, so an alias set on a model without any ledger
    entry is reported too.
    """
    ledger = open_ledger(registry)
    champions, problems = {}, []
    for name in registry.model_names():
        state = champion_state(registry, ledger, name, alias)
        if state.verified and state.ledger_champion is not None:
            champions[name] = state.ledger_champion
        if state.problem is not None:
            problems.append(state)
    return champions, problems


def entries(registry: ModelRegistry, name: str) -> list[LedgerEntry]:
    return open_ledger(registry).entries(name)
