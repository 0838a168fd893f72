"""Batch scoring of raw records from a file, written atomically.

Input: Parquet with a ``record`` column of JSON strings, or JSON lines (one record per
line). Output (Parquet or JSON lines, by the suffix of ``out``): one row per record with
``instance_id, probability, score, band, reason_codes, model_name, model_version`` and,
with ``with_features``, the model's input features as ``feature:<name>`` columns (what
``creditml.serving.monitor`` compares with the training reference).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from creditml.errors import CreditmlError
from creditml.model.bundle import OUTPUT_COLUMNS, ModelBundle
from creditml.model.records import parse_records

FEATURE_PREFIX = "feature:"


@dataclass(frozen=True)
class BatchSummary:
    rows: int
    seconds: float
    out: Path
    model_name: str
    model_version: str

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("nan")


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    raise CreditmlError(f"{path}: unknown file type {suffix!r}; use .parquet (a 'record' column of JSON strings) "
                        "or .jsonl (one JSON record per line)")


def read_records(path: Path) -> list:
    """Raw records of a Parquet (``record`` column) or JSON-lines file, unparsed."""
    path = Path(path)
    if not path.exists():
        raise CreditmlError(f"input file {str(path)!r} does not exist")
    if _format(path) == "parquet":
        frame = pd.read_parquet(path)
        if "record" not in frame.columns:
            raise CreditmlError(f"{path}: expected a column 'record' of JSON strings, found {list(frame.columns)}")
        return frame["record"].tolist()
    with open(path, encoding="utf-8") as fh:
        return [line for line in fh if line.strip()]


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def score_records_frame(bundle: ModelBundle, records: list[dict], with_features: bool) -> pd.DataFrame:
    X = bundle.feature_matrix(records)
    scored = bundle.score_matrix(X)
    if with_features:
        feats = X[bundle.features].reset_index(drop=True)
        for col in feats.columns:
            if isinstance(feats[col].dtype, pd.CategoricalDtype) or feats[col].dtype == object:
                feats[col] = feats[col].astype("string")
        feats.columns = [f"{FEATURE_PREFIX}{c}" for c in feats.columns]
        scored = pd.concat([scored.reset_index(drop=True), feats], axis=1)
    return scored


def write_atomically(frame: pd.DataFrame, out: Path) -> Path:
    """Write to a temporary sibling, then rename: readers never see half a file."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        if _format(out) == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_json(tmp, orient="records", lines=True, date_format="iso")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def score_file(model_uri: str, input: Path, out: Path, batch_size: int = 200, with_features: bool = True,
               show_progress: bool = True, bundle: ModelBundle | None = None, model_name: str = "",
               model_version: str = "") -> BatchSummary:
    """Score every record of ``input`` with the model at ``model_uri``; write ``out`` atomically."""
    import time

    _format(Path(out))  # fail on a bad output name before any work
    if bundle is None:
        from creditml.registry.loading import load_bundle, resolve_model_uri

        # resolved first (``@champion`` through the ledger), then loaded by that version
        model_name, model_version = resolve_model_uri(model_uri)
        bundle = load_bundle(f"models:/{model_name}/{model_version}" if model_name else model_uri)
    raw = read_records(Path(input))
    started = time.perf_counter()
    parts = []
    columns = [TextColumn("[bold]scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, disable=not show_progress, transient=True) as progress:
        bar = progress.add_task("records", total=len(raw))
        for chunk in _chunks(raw, batch_size):
            parts.append(score_records_frame(bundle, parse_records(chunk), with_features))
            progress.advance(bar, len(chunk))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=OUTPUT_COLUMNS)
    frame.insert(5, "model_name", model_name)
    frame.insert(6, "model_version", model_version)
    write_atomically(frame, Path(out))
    return BatchSummary(len(frame), time.perf_counter() - started, Path(out), model_name, model_version)


def write_records(records: list[dict], path: Path) -> Path:
    """Records to a batch input file (Parquet ``record`` column or JSON lines)."""
    texts = [json.dumps(r, default=str) for r in records]
    if _format(Path(path)) == "parquet":
        return write_atomically(pd.DataFrame({"record": texts}), Path(path))
    Path(path).write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    return Path(path)
