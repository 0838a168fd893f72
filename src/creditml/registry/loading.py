"""Loading registered creditml models: the only way serving, batch scoring and reports get a bundle."""

from __future__ import annotations

from creditml.model.bundle import ModelBundle
from creditml.registry import ModelRegistry, open_registry

CHAMPION = "champion"
TASK_TAG = "creditml.task"


def load_bundle(model_uri: str) -> ModelBundle:
    """The scoring bundle inside a logged creditml pyfunc."""
    import mlflow.pyfunc

    # featuretools finds custom primitives only in imported modules; a fresh process has not imported them
    import creditml.features.primitives  # noqa: F401
    return mlflow.pyfunc.load_model(model_uri).unwrap_python_model().bundle


def resolve_model_uri(model_uri: str, registry: ModelRegistry | None = None) -> tuple[str, str]:
    """``(name, version)`` of a ``models:/NAME@alias`` or ``models:/NAME/VERSION`` URI; blanks otherwise."""
    if not model_uri.startswith("models:/"):
        return "", ""
    spec = model_uri[len("models:/"):]
    if "@" in spec:
        name, alias = spec.split("@", 1)
        registry = registry or open_registry()
        version = registry.alias_version(name, alias)
        if version is None:
            registry.require_model(name)
            from creditml.registry import RegistryError

            raise RegistryError(f"model {name!r} has no version with alias {alias!r}; promote one first")
        return name, version
    name, _, version = spec.rpartition("/")
    return (name, version) if name else ("", "")


def champion_versions(registry: ModelRegistry, alias: str = CHAMPION) -> dict[str, tuple[str, str, str]]:
    """``{model name: (task, version, run_id)}`` of every creditml model holding ``alias``."""
    out = {}
    for name in registry.model_names():
        version = registry.alias_version(name, alias)
        if version is None:
            continue
        info = registry.get_version(name, version)
        task = info.tags.get(TASK_TAG)
        if task:
            out[name] = (task, info.version, info.run_id)
    return out
