"""The edge of the challenger comparison: find the champion, score it on the candidate's out-of-time instances.

Both models are compared on the same rows: the candidate's logged out-of-time
predictions, and the champion's probabilities computed now from the candidate's dataset
through the one feature path (``features.inputs.model_inputs``) with the champion's own
saved definitions and settings. Whatever prevents that (no dataset on this machine, a
different task, a definition the data no longer supports) becomes the note the report
shows in place of the comparison: it is never skipped silently.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from creditml.data import Dataset
from creditml.explain.compare import NO_CHAMPION, ChampionInputs
from creditml.features.inputs import model_inputs
from creditml.model.bundle import ModelBundle
from creditml.registry import ModelRegistry
from creditml.registry.loading import CHAMPION, load_bundle


def champion_version(registry: ModelRegistry, name: str) -> str | None:
    """The version of ``name`` that is its champion, or None.

    For now the MLflow alias ``champion`` decides; this is the one place to change when
    the governance ledger decides instead.
    """
    return registry.alias_version(name, CHAMPION)


def load_champion(registry: ModelRegistry, model_name: str, version: str, candidate: ModelBundle,
                  predictions: pd.DataFrame, dataset: Dataset | None, dataset_problem: str,
                  notes: list[str]) -> tuple[ChampionInputs | None, str]:
    """The champion scored on the candidate's out-of-time instances, or None and why not.

    ``dataset`` is the candidate's dataset (None, with ``dataset_problem`` saying why,
    when it could not be loaded). Facts the reader should weigh (the champion saw some
    of these instances in training) are appended to ``notes``.
    """
    champion = champion_version(registry, model_name)
    if champion is None:
        return None, f"{NO_CHAMPION}: model {model_name!r} has no version with the alias {CHAMPION!r}."
    if str(champion) == str(version):
        return None, f"{NO_CHAMPION}: this version ({version}) is the champion."
    info = registry.get_version(model_name, champion)
    head = f"The champion (version {champion}) could not be compared on this version's out-of-time instances"
    bundle = load_bundle(f"models:/{model_name}/{champion}")
    ours, theirs = candidate.task, bundle.task
    if (theirs.target, theirs.label) != (ours.target, ours.label):
        return None, (f"{head}: it predicts {theirs.label!r} for {theirs.target!r} rows, this version "
                      f"{ours.label!r} for {ours.target!r} rows; compare versions of the same task.")
    if dataset is None:
        return None, f"{head}: {dataset_problem}"
    test = predictions[predictions["split"] == "test"]
    key_type = dataset.tables[ours.target][candidate.index_name].dtype
    cutoff = pd.DataFrame({bundle.index_name: test.index.to_numpy().astype(key_type),
                           "time": pd.to_datetime(test["cutoff_time"]).to_numpy()})
    try:
        X = model_inputs(dataset, theirs.target, cutoff, bundle.definitions, bundle.features_settings,
                         engine=bundle.engine)
        margin, _ = bundle.margins(X)
    except Exception as exc:  # noqa: BLE001  the reader is told, with the error, instead of a comparison
        first = str(exc).splitlines()[0] if str(exc) else ""
        return None, (f"{head}: computing its features from the dataset failed ({type(exc).__name__}: {first}); "
                      "the champion's definitions may need columns this dataset no longer has.")
    X.index = test.index
    probabilities = pd.Series(1.0 / (1.0 + np.exp(-margin)), index=test.index, name="probability")
    _note_training_overlap(registry, info.run_id, champion, test.index, notes)
    return ChampionInputs(version=str(champion), run_id=info.run_id, probabilities=probabilities,
                          features=bundle.features, categories=bundle.categories, booster=bundle.booster,
                          best_iteration=bundle.best_iteration, sample=X, descriptions=bundle.descriptions), ""


def _note_training_overlap(registry: ModelRegistry, run_id: str, champion: str, ids: pd.Index,
                           notes: list[str]) -> None:
    """Warn when the champion trained or tuned on some of the instances it is now judged on."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = registry.download_artifacts(run_id, "evaluation/predictions.parquet", Path(tmp))
        except Exception:  # noqa: BLE001  an older run without the artifact: say that the check was not made
            notes.append(f"The champion's (version {champion}) predictions were not logged; whether it trained on "
                         "any of these out-of-time instances could not be checked.")
            return
        theirs = pd.read_parquet(path)
    seen = theirs.loc[theirs["split"].isin(["train", "validation"]), "instance_id"]
    overlap = ids.astype(str).isin(seen.astype(str))
    if overlap.any():
        notes.append(f"{int(overlap.sum())} of the {len(ids)} out-of-time instances were in the champion's "
                     f"(version {champion}) training or validation data: its figures on them are optimistic, "
                     "so the comparison favours the champion.")
