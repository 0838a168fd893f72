"""Serving latency and throughput of every champion in the registry.

    MLFLOW_TRACKING_URI=sqlite:///mlruns/mlflow.db python bench/serving_latency.py --json

Per champion: single-request latency p50/p99 in process (``bundle.score`` of one
record) and over HTTP on loopback (the REST server in a uvicorn subprocess), and batch
throughput (instances/s scoring ``--batch`` records in one call). The record is the
run's ``serving/example_record.json``; the batch repeats it under distinct instance ids.
With ``--link-store URL`` (seeded by ``creditml links-load``) the server fills a fraud
record's identifier group from the store, and the bench sends only the application's own
rows and sightings, as a client does. Each line carries the machine's load average
before and after (latency on a shared machine means little without it).
Prints one JSON line per model with ``--json``.

The server checks API tokens: ``--token`` or ``CREDITML_SERVING_TOKEN`` (role service, so
fraud requests pay for the link store write as production calls do); without either, the
bench issues a token of user ``bench-service`` and revokes it at the end.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

from creditml.serving.process import client_token, free_port  # noqa: E402


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2)}


def _batch_of(record: dict, pk: str, n: int) -> list[dict]:
    out = []
    for i in range(n):
        r = copy.deepcopy(record)
        key = r["instance"][pk]
        r["instance"][pk] = key + 10_000_000 + i if isinstance(key, int) else f"{key}-bench{i}"
        out.append(r)
    return out


def _start_server(port: int, link_store: str = "none") -> subprocess.Popen:
    env = dict(os.environ, CREDITML_POLL_SECONDS="0", CREDITML_LINKSTORE_URL=link_store,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "creditml.serving.app:app_from_env",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON line per model")
    parser.add_argument("--requests", type=int, default=200, help="single requests per path")
    parser.add_argument("--batch", type=int, default=200, help="records in the throughput batch")
    parser.add_argument("--link-store", default="none", help="the server's link store (fraud context)")
    parser.add_argument("--tasks", nargs="*", help="only these tasks")
    parser.add_argument("--token", help="API token of a service identity (default $CREDITML_SERVING_TOKEN, else "
                                        "a temporary one)")
    args = parser.parse_args(argv)

    from creditml.registry import open_registry, tracking
    from creditml.serving.champions import champion_versions

    tracking.configure()
    champions, _ = champion_versions(open_registry())  # the champions the ledger vouches for
    if not champions:
        print("no champion is registered; train and promote a model first", file=sys.stderr)
        return 2
    with client_token(args.token) as token:
        return _bench(args, champions, token)


def _bench(args, champions: dict, token: str) -> int:
    import httpx

    from creditml.registry import open_registry
    from creditml.serving.champions import load_bundle
    from creditml.serving.linkstore import own_record

    port = free_port()
    server = _start_server(port, args.link_store)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).json().get("models"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print("the REST server did not start", file=sys.stderr)
                return 1
            time.sleep(0.5)
        http = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"})
        for name, (task, version, run_id) in champions.items():
            if args.tasks and task not in args.tasks:
                continue
            bundle = load_bundle(f"models:/{name}/{version}")
            record = json.loads(Path(open_registry().download_artifacts(run_id, "serving/example_record.json")).read_text())
            sent = record
            if args.link_store != "none" and bundle.features_settings.graph is not None:
                sent = own_record(record, bundle.dataset, bundle.features_settings.graph, bundle.task.target)
            load_before = os.getloadavg()
            bundle.score([record])  # warm-up
            local = []
            for _ in range(args.requests):
                t = time.perf_counter()
                bundle.score([record])
                local.append(time.perf_counter() - t)
            for _ in range(5):  # the server compiles the model's plan on its first requests
                http.post(f"{base}/v1/{task}/score", json=sent).raise_for_status()
            remote = []
            for _ in range(args.requests):
                t = time.perf_counter()
                http.post(f"{base}/v1/{task}/score", json=sent).raise_for_status()
                remote.append(time.perf_counter() - t)
            batch = _batch_of(record, bundle.index_name, args.batch)
            t = time.perf_counter()
            bundle.score(batch)
            throughput = args.batch / (time.perf_counter() - t)
            row = {"model": name, "version": version, "task": task, "engine": bundle.engine,
                   "features": len(bundle.features), "requests": args.requests,
                   "in_process": _percentiles(local), "http": _percentiles(remote),
                   "batch_size": args.batch, "batch_instances_per_s": round(throughput, 1),
                   "link_store": sent is not record,
                   "load_before": [round(x, 2) for x in load_before],
                   "load_after": [round(x, 2) for x in os.getloadavg()]}
            row["http_p99_under_50ms"] = row["http"]["p99_ms"] < 50
            if args.json:
                print(json.dumps(row))
            else:
                print(f"{name} v{version} ({bundle.engine} engine, {len(bundle.features)} features): "
                      f"in-process p50 {row['in_process']['p50_ms']} ms p99 {row['in_process']['p99_ms']} ms; "
                      f"HTTP p50 {row['http']['p50_ms']} ms p99 {row['http']['p99_ms']} ms; "
                      f"batch {row['batch_instances_per_s']} instances/s; load {row['load_before']} -> "
                      f"{row['load_after']}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
