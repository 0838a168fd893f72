"""Everything a trained model needs to score raw records, saved as one folder.

The same :class:`ModelBundle` scores in training (offline evaluation), in the MLflow
pyfunc, in the REST server and in batch scoring, so features are computed by the same
code from the same saved definitions everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import featuretools as ft
import numpy as np
import pandas as pd
import xgboost as xgb

from creditml.config import DatasetConfig, FeatureSettings, ScoringSettings, TaskSpec
from creditml.data import Dataset
import creditml.features.primitives  # noqa: F401  featuretools finds custom primitives only once imported
from creditml.features.inputs import ServedInputs
from creditml.model.reasons import top_risk_contributors
from creditml.model.paths import feature_paths
from creditml.model.frame import feature_types, model_matrix, positional_names
from creditml.model.scorecard import ScoreScale
from creditml.model.records import tables_from_records
from creditml.model.scorer import CompiledScorer

OUTPUT_COLUMNS = ["instance_id", "probability", "score", "band", "reason_codes"]
FLOAT32_MAX = float(np.finfo(np.float32).max)  # XGBoost reads its input as float32


class InputOutOfRange(ValueError):
    """A model input computed from a record is infinite or beyond what XGBoost can read."""

SINGLE_THREAD_ROWS = 64  # up to this many rows are scored on one thread


@dataclass
class ModelBundle:
    dataset: DatasetConfig  # column contracts only; file locations are irrelevant here
    task: TaskSpec
    features_settings: FeatureSettings
    definitions: list  # featuretools definitions of the selected DFS features
    features: list[str]  # model inputs in order (DFS and graph names)
    categories: dict[str, list[str]]
    booster: xgb.Booster
    best_iteration: int
    scoring: ScoringSettings
    descriptions: dict[str, str] = field(default_factory=dict)
    engine: str = "fast"
    key_kinds: dict[str, dict[str, str]] = field(default_factory=dict)  # id columns: "int" or "str"
    _single: tuple | None = field(default=None, init=False, repr=False, compare=False)
    _served: ServedInputs | None = field(default=None, init=False, repr=False, compare=False)
    _scorer: CompiledScorer | None = field(default=None, init=False, repr=False, compare=False)
    _xgb_schema: tuple | None = field(default=None, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ persistence
    def save(self, folder: Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        ft.save_features(self.definitions, str(folder / "features.json"))
        self.booster.save_model(str(folder / "booster.ubj"))
        meta = {
            "dataset": self.dataset.model_dump(mode="json", exclude={"base_dir"}),
            "task": self.task.model_dump(mode="json"),
            "features_settings": self.features_settings.model_dump(mode="json"),
            "features": self.features, "categories": self.categories, "best_iteration": self.best_iteration,
            "scoring": self.scoring.model_dump(mode="json"), "descriptions": self.descriptions,
            "engine": self.engine, "key_kinds": self.key_kinds,
        }
        (folder / "bundle.json").write_text(json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: Path) -> "ModelBundle":
        folder = Path(folder)
        meta = json.loads((folder / "bundle.json").read_text())
        booster = xgb.Booster()
        booster.load_model(str(folder / "booster.ubj"))
        return cls(
            dataset=DatasetConfig.model_validate(meta["dataset"]), task=TaskSpec.model_validate(meta["task"]),
            features_settings=FeatureSettings.model_validate(meta["features_settings"]),
            definitions=ft.load_features(str(folder / "features.json")), features=meta["features"],
            categories=meta["categories"], booster=booster, best_iteration=meta["best_iteration"],
            scoring=ScoringSettings.model_validate(meta["scoring"]), descriptions=meta["descriptions"],
            engine=meta["engine"], key_kinds=meta.get("key_kinds", {}),
        )

    # ------------------------------------------------------------------ scoring
    @property
    def index_name(self) -> str:
        return self.dataset.tables[self.task.target].primary_key

    @property
    def paths(self):
        return feature_paths(self.definitions)

    def cutoff_values(self, records: list[dict]) -> list:
        """Each record's cutoff as sent: ``cutoff_time``, else the instance's cutoff column."""
        return [record.get("cutoff_time") or record["instance"].get(self.task.cutoff) for record in records]

    def cutoff_times(self, records: list[dict]) -> pd.DataFrame:
        ids = [record["instance"][self.index_name] for record in records]
        times = pd.to_datetime(pd.Series(self.cutoff_values(records)), format="ISO8601")
        return pd.DataFrame({self.index_name: ids, "time": times})

    def feature_matrix(self, records: list[dict]) -> pd.DataFrame:
        """Model features of each record's instance as of its cutoff, in record order."""
        tables = tables_from_records(self.dataset, self.task.target, records, self.key_kinds)
        dataset = Dataset(self.dataset, tables)
        cutoff = self.cutoff_times(records)
        key_type = tables[self.task.target][self.index_name].dtype
        cutoff[self.index_name] = cutoff[self.index_name].astype(key_type)
        return self.served_inputs(dataset, cutoff)

    @property
    def served_inputs(self) -> ServedInputs:
        """``model_inputs`` with the model's plan compiled once (built on first use)."""
        served = self._served
        if served is None or served.definitions is not self.definitions:
            served = self._served = ServedInputs(self.dataset, self.task.target, self.definitions,
                                                 self.features_settings, self.engine)
        return served

    @property
    def scorer(self) -> CompiledScorer:
        """The compiled scorer of a few records (``model.scorer``; built on first use)."""
        scorer = self._scorer
        if scorer is None or scorer.bundle is not self:
            scorer = self._scorer = CompiledScorer(self)
        return scorer

    def margins(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Margin and per-feature contributions (XGBoost's exact TreeSHAP; last column = bias)."""
        block = model_matrix(X, self.features, self.categories)
        return self.block_margins(block, X.index)

    def block_margins(self, block: np.ndarray, instances) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`margins` of a model matrix (float64, the model's column order) of ``instances``."""
        self._check_range(instances, block)
        # a few rows on one thread: waking OpenMP's pool costs more than the trees (~12 ms a request)
        nthread = 1 if len(block) <= SINGLE_THREAD_ROWS else 0
        if self._xgb_schema is None:
            self._xgb_schema = (positional_names(self.features), feature_types(self.features, self.categories))
        names, types = self._xgb_schema
        # XGBoost reads float32: the same rounding as its own conversion of a float64 block
        dm = xgb.DMatrix(np.ascontiguousarray(block, dtype=np.float32), feature_names=names, feature_types=types,
                         enable_categorical=True, nthread=nthread)
        booster = self._single_thread_booster() if nthread == 1 else self.booster
        rng = (0, self.best_iteration + 1)
        # the block is in the model's column order by construction: XGBoost's own name check
        # (300 names read back from C on every call) is skipped
        contribs = booster.predict(dm, pred_contribs=True, iteration_range=rng, validate_features=False)
        # the margin as XGBoost sums it, so served and offline probabilities are the same number
        margin = booster.predict(dm, output_margin=True, iteration_range=rng, validate_features=False)
        return margin.astype("float64"), contribs

    def _check_range(self, instances, block: np.ndarray) -> None:
        bad = np.abs(block) > FLOAT32_MAX  # inf too; NaN compares False (missing is fine)
        if bad.any():
            row, col = (int(v[0]) for v in np.nonzero(bad))
            instance = instances[row].item() if hasattr(instances[row], "item") else instances[row]
            raise InputOutOfRange(
                f"feature {self.features[col]!r} of instance {instance!r} is {float(block[row, col]):g}, beyond the "
                f"largest number the model reads ({FLOAT32_MAX:.3g}); check the amounts it is computed from "
                f"(a tiny denominator or a huge amount)")

    def _single_thread_booster(self) -> xgb.Booster:
        if self._single is None or self._single[0] is not self.booster:
            single = self.booster.copy()
            single.set_param({"nthread": 1})
            self._single = (self.booster, single)
        return self._single[1]

    def score_matrix(self, X: pd.DataFrame) -> pd.DataFrame:
        return self._frame(self._matrix_results(X))

    def _matrix_results(self, X: pd.DataFrame) -> list[dict]:
        block = model_matrix(X, self.features, self.categories)
        return self._results(list(X.index.values), block, lambda i: _Row(X, i))

    def _results(self, ids: list, block: np.ndarray, values_of) -> list[dict]:
        """One result per row: instance id, probability, score, band and reason codes (a list)."""
        margin, contribs = self.block_margins(block, ids)
        proba = 1.0 / (1.0 + np.exp(-margin))
        scale = ScoreScale.from_settings(self.scoring)
        if self.scoring.label_is_good:  # score the chance of the bad outcome; reasons pull the good one down
            proba_bad, contribs = 1.0 - proba, -contribs
        else:
            proba_bad = proba
        scores = scale.score(proba_bad)
        bands = scale.band(scores)
        scores = np.round(scores, 1)
        # only the top features' values are read: a whole row as a Series costs more than the trees
        return [{"instance_id": ids[i], "probability": proba[i], "score": scores[i], "band": bands[i],
                 "reason_codes": self.reason_codes(row, values_of(i))} for i, row in enumerate(contribs[:, :-1])]

    @staticmethod
    def _frame(results: list[dict]) -> pd.DataFrame:
        return pd.DataFrame({"instance_id": np.array([r["instance_id"] for r in results]),
                             "probability": np.array([r["probability"] for r in results], dtype="float64"),
                             "score": np.array([r["score"] for r in results], dtype="float64"),
                             "band": np.array([r["band"] for r in results]),
                             "reason_codes": [json.dumps(r["reason_codes"]) for r in results]})

    def reason_codes(self, contributions: np.ndarray, values) -> list[dict]:
        """The features that pushed this instance's score down most (its risk up), strongest first."""
        out = []
        for name, contribution in top_risk_contributors(contributions, self.features, self.scoring.reason_codes):
            value = values.get(name)
            out.append({"feature": name, "description": self.descriptions.get(name, name),
                        "value": None if pd.isna(value) else (value.item() if hasattr(value, "item") else value),
                        "contribution": round(contribution, 6)})
        return out

    def score(self, records: list[dict]) -> pd.DataFrame:
        return self._frame(self.score_records(records))

    def score_records(self, records: list[dict]) -> list[dict]:
        """:meth:`score` as one dict per record (``reason_codes`` a list): the compiled scorer for a few
        records, the general path (``feature_matrix`` then ``score_matrix``) for anything else."""
        compiled = self.scorer.feature_block(records)
        if compiled is not None:
            ids, block, values_of = compiled
            return self._results(ids, block, values_of)
        return self._matrix_results(self.feature_matrix(records))

    def warm_up(self) -> None:
        """Plan and compile the model's program now (a record with no related rows), not on a first request."""
        kinds = self.key_kinds.get(self.task.target, {}) or {self.index_name: "int"}
        instance = {col: 0 if kind == "int" else "0" for col, kind in kinds.items()}  # keys and foreign keys
        instance[self.task.cutoff] = f"{self.dataset.as_of or '2000-01-01'}T00:00:00"
        for _ in range(2):  # the second call compiles the program of the columns the plan reads
            self.score_records([{"instance": instance, "related": {}}])


def _same_value(offline, served) -> bool:
    if pd.isna(offline) and pd.isna(served):
        return True
    if pd.isna(offline) or pd.isna(served):
        return False
    if isinstance(offline, (int, float, np.number)) and isinstance(served, (int, float, np.number)):
        # as the model reads them (XGBoost's float32): a tolerance would call 0 and 1e-28 the same, yet a
        # split at 0 sends them down different branches
        return bool(np.float32(offline) == np.float32(served))
    return str(offline) == str(served)


def _shown(value) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def feature_skew(offline: pd.Series, served: pd.Series, limit: int = 5) -> list[str]:
    """``"name: offline X, served Y"`` for the first ``limit`` features whose values differ.

    Both series are one instance's model inputs by feature name: as computed in training
    and as the bundle computes them from raw records.
    """
    out = []
    for name, value in offline.items():
        got = served.get(name)
        if not _same_value(value, got):
            out.append(f"{name}: offline {_shown(value)}, served {_shown(got)}")
            if len(out) == limit:
                break
    return out
class _Row:
    """``values.get(name)`` of row ``i`` of a frame without building the row."""

    def __init__(self, frame: pd.DataFrame, i: int):
        self.frame, self.i = frame, i

    def get(self, name):
        if name not in self.frame.columns:
            return None
        return self.frame.iat[self.i, self.frame.columns.get_loc(name)]
