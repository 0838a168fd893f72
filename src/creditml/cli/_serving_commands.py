"""The serving commands as plain functions; ``creditml.cli`` wires them to Typer and prints."""

from __future__ import annotations

from pathlib import Path

from creditml.errors import CreditmlError


def serve(host: str = "127.0.0.1", port: int = 8000, poll_seconds: float = 30.0,
          link_store_url: str | None = None, workers: int = 1, link_store_max_age: float = 7.0,
          token_cache_seconds: float = 30.0) -> None:
    """Run the REST server with uvicorn until interrupted (blocks).

    ``workers`` > 1 starts that many processes (uvicorn's workers), each building the app
    with ``app_from_env`` from the same settings passed through the environment. The
    identity store is opened first: a server that cannot check tokens does not start.
    """
    import os

    import uvicorn

    from creditml.registry import open_registry, tracking
    from creditml.registry.governed import governance_url
    from creditml.serving.app import create_app
    from creditml.serving.auth import CACHE_ENV, TokenVerifier, open_identity_store
    from creditml.serving.linkstate import MAX_AGE_ENV
    from creditml.serving.linkstore import DEFAULT_URL, LinkStore
    from creditml.serving.champions import ChampionWatcher

    if poll_seconds < 0:
        raise CreditmlError(f"--poll-seconds must be 0 (no polling) or more, got {poll_seconds}")
    if workers < 1:
        raise CreditmlError(f"--workers must be 1 or more, got {workers}")
    if not link_store_max_age > 0:
        raise CreditmlError(f"--link-store-max-age must be a number of days above 0, got {link_store_max_age}")
    if not token_cache_seconds >= 0:
        raise CreditmlError(f"--token-cache-seconds must be 0 (check every request) or more, got "
                            f"{token_cache_seconds}")
    uri = tracking.configure()
    identities = open_identity_store(governance_url(open_registry(uri)))
    url = link_store_url or DEFAULT_URL
    if workers > 1:
        identities.dispose()  # each worker opens its own
        os.environ.update({"CREDITML_POLL_SECONDS": str(poll_seconds), "CREDITML_LINKSTORE_URL": url,
                           MAX_AGE_ENV: str(link_store_max_age), CACHE_ENV: str(token_cache_seconds)})
        uvicorn.run("creditml.serving.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="info")
        return
    store = None if url.lower() == "none" else LinkStore(url)
    app = create_app(ChampionWatcher(poll_seconds=poll_seconds), store,
                     verifier=TokenVerifier(identities, token_cache_seconds), link_store_max_age_days=link_store_max_age)
    uvicorn.run(app, host=host, port=port, log_level="info")


def score_file(model_uri: str, input: Path, out: Path, batch_size: int = 200, with_features: bool = True):
    from creditml.registry import tracking
    from creditml.serving.batch import score_file as run

    tracking.configure()
    if batch_size < 1:
        raise CreditmlError(f"--batch-size must be at least 1, got {batch_size}")
    return run(model_uri, input, out, batch_size=batch_size, with_features=with_features)


def monitor(model_name: str, scored_file: Path, out: Path | None = None):
    from creditml.registry import tracking
    from creditml.serving.monitor import monitor as run

    tracking.configure()
    return run(model_name, scored_file, out)


def load_links(pipeline: Path, dataset: Path | None = None, url: str | None = None, until: str | None = None) -> dict:
    """Seed the link store from a dataset with the graph declaration of a pipeline; return row counts."""
    from creditml.config import load_pipeline_config
    from creditml.data import load_dataset
    from creditml.serving.linkstore import DEFAULT_URL, LinkStore

    cfg = load_pipeline_config(pipeline, None, dataset)
    if cfg.features.graph is None:
        raise CreditmlError(f"{pipeline}: pipeline {cfg.name!r} declares no features.graph; "
                            "only fraud pipelines with identifier-graph features use the link store")
    data = load_dataset(cfg.dataset)
    store = LinkStore(url or DEFAULT_URL)
    store.load_from_dataset(data, cfg.features.graph, cfg.task.target, until=until)
    counts = store.counts()
    store.close()
    return counts
