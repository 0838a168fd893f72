"""Time graph_features on a random world: 50k instances, 300k sightings by default.

    .venv/bin/python bench/graph_features.py [--instances N] [--sightings M] [--seed S]

Prints one JSON line: {"instances": ..., "sightings": ..., "seconds": ..., "cpu_seconds": ...}
(wall clock and CPU time of the graph_features call; CPU time is the steadier figure on a
busy machine).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from creditml.config import GraphSettings
from creditml.features.graph import graph_features

SETTINGS = GraphSettings(
    table="application_identifiers", instance_column="application_id", value_column="value",
    kind_column="kind", time_column="seen_at", customer_column="customer_id", burst_days=[1, 7, 30],
)
KINDS = np.array(["device", "phone", "ip", "address", "employer_phone", "contact_phone"])
# per kind: size of the value pool relative to the number of applications, and skew
# (values = floor(pool * u ** skew): skew > 1 gives a few very common values, e.g. public IPs)
POOLS = {"device": (0.9, 1.0), "phone": (0.8, 1.0), "ip": (0.3, 3.0), "address": (0.6, 1.5),
         "employer_phone": (0.05, 4.0), "contact_phone": (0.5, 2.0)}


def make_world(n_instances: int = 50_000, n_sightings: int = 300_000, seed: int = 0):
    """Random applications (all of them instances, at their own time), skewed identifier
    pools, some rings (groups sharing a device and a phone in a burst) and confirmations."""
    rng = np.random.default_rng(seed)
    n = n_instances
    app_ids = np.array([f"A{i}" for i in range(n)])
    t0 = pd.Timestamp("2023-01-01").value
    app_t = np.sort(t0 + rng.integers(0, 730 * 86_400, n).astype(np.int64) * 1_000_000_000)
    customers = rng.integers(0, int(n * 0.8), n)
    applications = pd.DataFrame({"instance_id": app_ids, "time": pd.to_datetime(app_t),
                                 "customer": [f"c{c}" for c in customers]})
    s_app = rng.integers(0, n, n_sightings)
    s_kind = rng.integers(0, len(KINDS), n_sightings)
    u = rng.random(n_sightings)
    values = np.empty(n_sightings, dtype=object)
    for k, kind in enumerate(KINDS):
        m = s_kind == k
        pool, skew = POOLS[kind]
        codes = np.floor(max(1, int(pool * n)) * u[m] ** skew).astype(np.int64)
        values[m] = np.char.add(f"{kind[:2]}", codes.astype(str))
    # rings: 1% of applications, in groups of 5-15 consecutive applications sharing a device and phone
    ring_apps = rng.choice(n, n // 100, replace=False)
    ring_id = rng.integers(0, max(1, n // 1000), len(ring_apps))
    ring_rows = np.flatnonzero(np.isin(s_app, ring_apps) & np.isin(s_kind, [0, 1]))
    lookup = dict(zip(ring_apps.tolist(), ring_id.tolist()))
    for r in ring_rows:
        values[r] = f"ring{lookup[s_app[r]]}-{KINDS[s_kind[r]]}"
    delay = np.where(rng.random(n_sightings) < 0.8, 0, rng.integers(-86_400, 3 * 86_400, n_sightings))
    links = pd.DataFrame({
        "application_id": app_ids[s_app], "value": values, "kind": KINDS[s_kind],
        "seen_at": pd.to_datetime(app_t[s_app] + delay.astype(np.int64) * 1_000_000_000),
    })
    conf = rng.choice(n, n // 50, replace=False)
    confirmations = pd.DataFrame({
        "instance_id": app_ids[conf],
        "known_at": pd.to_datetime(app_t[conf] + rng.integers(0, 120, len(conf)) * 86_400 * 1_000_000_000),
    })
    instances = pd.DataFrame({"instance_id": app_ids, "cutoff": applications["time"],
                              "customer": applications["customer"]})
    return links, instances, applications, confirmations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=50_000)
    parser.add_argument("--sightings", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    links, instances, applications, confirmations = make_world(args.instances, args.sightings, args.seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    features = graph_features(links, instances, applications, SETTINGS, confirmations)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    assert len(features) == len(instances)
    print(json.dumps({"instances": len(instances), "sightings": len(links), "seconds": round(seconds, 3),
                      "cpu_seconds": round(cpu_seconds, 3)}))


if __name__ == "__main__":
    main()
