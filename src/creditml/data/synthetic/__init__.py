"""The built-in relational loan world: a seeded generator with a known generating process.

``generate_world(out_dir, scale, seed)`` writes one Parquet file per table, the
dataset config ``dataset.yaml`` and ``oracle.parquet`` (the true probability of every
matured label). See docs/synthetic-world.md for the tables and the causal story.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from creditml.config import dump_dataset_config
from creditml.data.synthetic._credit import ChunkSim, bureau
from creditml.data.synthetic._fraud import fraud_labels, identifier_values
from creditml.data.synthetic._frames import chunk_frames, intermediaries_frame
from creditml.data.synthetic._params import SCALES, TASKS, Scale
from creditml.data.synthetic._skeleton import build_skeleton, customers_frame
from creditml.data.synthetic._writer import TABLES, Writers, dataset_config

__all__ = ["SCALES", "Scale", "WorldSummary", "generate_world"]


@dataclass
class WorldSummary:
    out_dir: Path
    scale: str
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    label_rates: dict[str, float] = field(default_factory=dict)
    oracle_auc: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def child_rows(self) -> int:
        return sum(v for k, v in self.rows.items() if k not in {"customers", "intermediaries", "applications"})


def generate_world(out_dir: str | Path, scale: str | Scale = "small", seed: int = 0,
                   chunk_customers: int | None = None) -> WorldSummary:
    """Generate the world into ``out_dir``; the same seed gives the same bytes."""
    started = time.perf_counter()
    sc = SCALES[scale] if isinstance(scale, str) else scale
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    root = np.random.SeedSequence(seed)
    s_skel, s_ids, s_fraud, s_chunks = root.spawn(4)
    sk = build_skeleton(sc, np.random.default_rng(s_skel))
    vals = identifier_values(sk["apps"], sk["customers"], sk["n_ring"], np.random.default_rng(s_ids))
    fraud = fraud_labels(sk["apps"], sk["customers"], vals, np.random.default_rng(s_fraud))

    writers = Writers(out)
    writers.write("intermediaries", intermediaries_frame(sk))
    n_c = len(sk["customers"]["created"])
    per = chunk_customers or sc.chunk_customers
    bounds = list(range(0, n_c, per)) + [n_c]
    a_cust = sk["apps"]["cust"]
    app_order = np.lexsort((sk["apps"]["t"], a_cust))  # apps by (customer, time)
    cust_sorted = a_cust[app_order]
    oracles = []
    for i, seq in zip(range(len(bounds) - 1), s_chunks.spawn(len(bounds) - 1)):
        c0, c1 = bounds[i], bounds[i + 1]
        rng = np.random.default_rng(seq)
        cids = np.arange(c0, c1)
        app_ix = app_order[np.searchsorted(cust_sorted, c0):np.searchsorted(cust_sorted, c1)]
        bframe, bagg = bureau(cids, sk["customers"], sc.bureau_accounts_mean, rng)
        sim = ChunkSim(cids, app_ix, sk, fraud, bagg, rng)
        sim.run()
        frames, oracle = chunk_frames(sim, sk, fraud, vals)
        writers.write("customers", customers_frame(sk["customers"], cids))
        writers.write("bureau_accounts", bframe)
        for name in ("applications", "loans", "installments", "collection_cases", "collection_actions",
                     "application_identifiers"):
            writers.write(name, frames[name])
        oracles.append(oracle)
        del sim, frames
    writers.close()
    oracle = pd.concat(oracles, ignore_index=True)
    oracle = oracle.sort_values(["task", "instance_id"], kind="stable").reset_index(drop=True)
    oracle.to_parquet(out / "oracle.parquet", index=False)
    cfg = dataset_config(f"synthetic-{sc.name}-seed{seed}",
                         f"creditml built-in synthetic loan world, scale {sc.name}, seed {seed}")
    dump_dataset_config(cfg, out / "dataset.yaml")
    return _summary(out, sc.name, seed, writers.rows, oracle, time.perf_counter() - started)


def _summary(out, scale, seed, rows, oracle, seconds) -> WorldSummary:
    from sklearn.metrics import roc_auc_score

    rates, aucs = {}, {}
    for task in TASKS:
        o = oracle[oracle["task"] == task]
        rates[task] = float(o["label"].mean()) if len(o) else float("nan")
        aucs[task] = float(roc_auc_score(o["label"], o["probability"])) if o["label"].nunique() == 2 else float("nan")
    return WorldSummary(out, scale, seed, dict(rows), rates, aucs, round(seconds, 3))


def planned_rows(scale: str | Scale) -> dict[str, int]:
    """Approximate expected row counts of a scale, from its parameters (no generation).

    Ratios per application were measured on generated worlds (see docs/synthetic-world.md).
    """
    sc = SCALES[scale] if isinstance(scale, str) else scale
    a = sc.n_applications
    from creditml.data.synthetic._params import PLANNED_LONG_TERMS, PLANNED_PER_APPLICATION
    per = dict(PLANNED_PER_APPLICATION)
    if sc.long_terms:
        per.update(PLANNED_LONG_TERMS)
    per["bureau_accounts"] = per["bureau_accounts"] * sc.bureau_accounts_mean
    out = {t: int(round(a * per[t])) for t in TABLES}
    out["intermediaries"] = sc.n_intermediaries
    return out
