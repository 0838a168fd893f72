"""Write the feature stage's results to a folder, all or nothing."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import featuretools as ft
import pandas as pd

from creditml.features.pipeline import FeatureResult

FILES = ("candidate_features.json", "candidate_matrix.parquet", "selection.csv", "selected_matrix.parquet",
         "feature_descriptions.json", "instances.parquet")


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    # category columns with mixed types do not round-trip; Parquet keeps them as strings
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("string")
    return out


def write_feature_outputs(result: FeatureResult, out_dir: Path) -> list[Path]:
    """Write every output into a temporary sibling folder, then move it into place."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        ft.save_features(result.candidates, str(tmp / "candidate_features.json"))
        inst = result.instances
        cutoff = inst.times.rename("cutoff_time")
        candidate = _parquet_safe(result.matrix)
        candidate.insert(0, "cutoff_time", cutoff.reindex(candidate.index).values)
        candidate.to_parquet(tmp / "candidate_matrix.parquet")
        report = result.selector.report_
        report.to_csv(tmp / "selection.csv", index=False)
        selected = _parquet_safe(result.matrix[result.selected])
        selected.insert(0, "cutoff_time", cutoff.reindex(selected.index).values)
        selected.to_parquet(tmp / "selected_matrix.parquet")
        (tmp / "feature_descriptions.json").write_text(json.dumps(result.descriptions, indent=1))
        pd.DataFrame({"cutoff_time": cutoff, "label": inst.labels, "split": result.split.values}).to_parquet(
            tmp / "instances.parquet")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out_dir / f for f in FILES]
