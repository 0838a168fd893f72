"""Loading registered creditml models: the only way serving, batch scoring and reports get a bundle.

``models:/NAME@champion`` means the champion *the ledger* decides (verified, with an
approval in force), never whatever the MLflow alias points at: an alias that disagrees
is refused and logged, and the ledger's champion is loaded instead.
"""

from __future__ import annotations

import logging

from creditml.model.bundle import ModelBundle
from creditml.registry import ModelRegistry, RegistryError, open_registry
from creditml.registry.governed import CHAMPION, ChampionState, champion_state, ledger_champions, open_ledger

TASK_TAG = "creditml.task"
log = logging.getLogger("creditml.registry")


def load_bundle(model_uri: str) -> ModelBundle:
    """The scoring bundle inside a logged creditml pyfunc; ``@champion`` resolves through the ledger."""
    import mlflow.pyfunc

    # featuretools finds custom primitives only in imported modules; a fresh process has not imported them
    import creditml.features.primitives  # noqa: F401
    if model_uri.startswith("models:/") and model_uri.endswith(f"@{CHAMPION}"):
        name, version = resolve_model_uri(model_uri)
        model_uri = f"models:/{name}/{version}"
    return mlflow.pyfunc.load_model(model_uri).unwrap_python_model().bundle


def ledger_champion(name: str, registry: ModelRegistry | None = None) -> tuple[str, ChampionState]:
    """The version the verified ledger says is champion of ``name``; a refusal when there is none."""
    registry = registry or open_registry()
    registry.require_model(name)
    state = champion_state(registry, open_ledger(registry), name)
    if state.ledger_champion is None:
        why = state.problem or "the ledger records no promotion"
        raise RegistryError(f"model {name!r} has no champion the ledger vouches for ({why}); rule ledger-decides; "
                            f"fix: review, approve and promote a version (creditml review/approve/promote {name})")
    return state.ledger_champion, state


def resolve_model_uri(model_uri: str, registry: ModelRegistry | None = None) -> tuple[str, str]:
    """``(name, version)`` of a ``models:/NAME@alias`` or ``models:/NAME/VERSION`` URI; blanks otherwise."""
    if not model_uri.startswith("models:/"):
        return "", ""
    spec = model_uri[len("models:/"):]
    if "@" in spec:
        name, alias = spec.split("@", 1)
        registry = registry or open_registry()
        if alias == CHAMPION:
            return name, ledger_champion(name, registry)[0]
        version = registry.alias_version(name, alias)
        if version is None:
            registry.require_model(name)
            raise RegistryError(f"model {name!r} has no version with alias {alias!r}; promote one first")
        return name, version
    name, _, version = spec.rpartition("/")
    return (name, version) if name else ("", "")


def champion_versions(registry: ModelRegistry) -> tuple[dict[str, tuple[str, str, str]], list[ChampionState]]:
    """``({model name: (task, version, run_id)}, [mismatches])``: every creditml model the ledger names a
    champion of (verified, approval in force), and every model whose alias or ledger is wrong."""
    champions, problems = ledger_champions(registry)
    out = {}
    for name, version in champions.items():
        info = registry.get_version(name, version)
        task = info.tags.get(TASK_TAG)
        if task:
            out[name] = (task, info.version, info.run_id)
    return out, problems
