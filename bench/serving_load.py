"""A bounded load test of the REST server: concurrent clients on loopback, every answer checked.

    MLFLOW_TRACKING_URI=sqlite:///mlruns/mlflow.db python bench/serving_load.py --json \
        --task credit_default --clients 8 --requests 5000 --workers 2

Starts ``creditml serve --workers N`` on 127.0.0.1 (or targets ``--url``, which must be a
loopback address), then ``--clients`` threads post the champion's example record
(``serving/example_record.json`` of its run) until ``--requests`` answers or
``--max-seconds`` have passed, whichever comes first. With ``--link-store`` a fraud record is
sent as a client sends it: the application's own sightings, the identifier group left to
the server's store. Any answer other than 200, or a
probability different from the first answer's, counts as an error. Prints requests/s,
p50/p95/p99/max latency, the errors and the machine's load average; exits 1 on any error.

The server checks API tokens: ``--token`` or ``CREDITML_SERVING_TOKEN`` (role scorer or
service); without either, the bench issues a token of user ``bench-service`` and revokes it
at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

warnings.filterwarnings("ignore")

from creditml.serving.process import client_token, free_port  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _start(port: int, workers: int, link_store: str) -> subprocess.Popen:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.Popen([sys.executable, "-m", "creditml.cli", "serve", "--host", "127.0.0.1", "--port",
                             str(port), "--poll-seconds", "0", "--link-store", link_store, "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(base: str, server: subprocess.Popen | None, task: str, record: dict, headers: dict,
          seconds: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            answer = httpx.post(f"{base}/v1/{task}/score", json=record, headers=headers, timeout=30)
            if answer.status_code == 200:
                return
            if answer.status_code in (401, 403):  # waiting will not help
                raise RuntimeError(f"the server refused the token: {answer.json()['detail'][0]['msg']}")
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{base} did not score a {task} record within {seconds:.0f}s")


def run_load(base: str, task: str, record: dict, clients: int, requests: int, max_seconds: float,
             token: str) -> dict:
    """Clients on keep-alive connections of the standard library's ``http.client``: the clients
    share the server's two cores, and httpx spent about 2.5 ms of CPU per request (a fifth of a
    core at 80 requests/s) that this one does not."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    issued = iter(range(requests))
    deadline = time.monotonic() + max_seconds
    body = json.dumps(record).encode()
    url = urlparse(base)
    path = f"{url.path.rstrip('/')}/v1/{task}/score"
    headers = {"content-type": "application/json", "Authorization": f"Bearer {token}"}
    expected: list[float] = []

    def client() -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if next(issued, None) is None:
                        return
                t = time.perf_counter()
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    answer = conn.getresponse()
                    text = answer.read()
                    ok = answer.status == 200
                    problem = None if ok else f"{answer.status}: {text[:200]!r}"
                    probability = json.loads(text)["results"][0]["probability"] if ok else None
                except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                    problem, probability = f"{type(exc).__name__}: {exc}", None
                    conn.close()  # the next request opens a new connection
                elapsed = time.perf_counter() - t
                with lock:
                    latencies.append(elapsed)
                    if problem is None and expected and probability != expected[0]:
                        problem = f"probability {probability}, first answer {expected[0]}"
                    elif problem is None and not expected:
                        expected.append(probability)
                    if problem is not None:
                        errors.append(problem)
        finally:
            conn.close()

    load_before = os.getloadavg()
    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    ms = np.asarray(latencies) * 1000
    return {"task": task, "clients": clients, "requests": len(latencies), "errors": len(errors),
            "error_examples": errors[:5], "seconds": round(seconds, 1),
            "requests_per_s": round(len(latencies) / seconds, 1),
            **{f"{k}_ms": round(float(np.percentile(ms, q)), 1) for k, q in (("p50", 50), ("p95", 95), ("p99", 99))},
            "max_ms": round(float(ms.max()), 1),
            "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()]}


def _load(args, record: dict, token: str) -> dict:
    server = None
    base = args.url.rstrip("/") if args.url else None
    if base is None:
        port = free_port()
        server = _start(port, args.workers, args.link_store)
        base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        _wait(base, server, args.task, record, headers)
        for _ in range(20 * args.workers):  # every worker warm
            _wait(base, server, args.task, record, headers)
        return run_load(base, args.task, record, args.clients, args.requests, args.max_seconds, token)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="credit_default")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=5000, help="stop after this many answers")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop after this long in any case")
    parser.add_argument("--workers", type=int, default=2, help="server processes (uvicorn workers)")
    parser.add_argument("--link-store", default="none", help="the server's --link-store (fraud)")
    parser.add_argument("--url", help="an already running server on loopback instead of starting one")
    parser.add_argument("--token", help="API token (role scorer or service; default $CREDITML_SERVING_TOKEN, else "
                                        "a temporary service token)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 64 or not 1 <= args.requests <= 100_000 or not 0 < args.max_seconds <= 3600:
        parser.error("--clients 1..64, --requests 1..100000 and --max-seconds up to 3600: this bench is bounded")
    if args.url and urlparse(args.url).hostname not in LOOPBACK:
        parser.error(f"--url must be a loopback address ({', '.join(sorted(LOOPBACK))}), got {args.url}")

    from creditml.registry import open_registry, tracking
    from creditml.registry.loading import champion_versions

    tracking.configure()
    registry = open_registry()
    champions, _ = champion_versions(registry)  # the champions the ledger vouches for
    runs = {task: (name, version, run_id) for name, (task, version, run_id) in champions.items()}
    if args.task not in runs:
        print(f"no {args.task} champion; known: {', '.join(sorted(runs)) or 'none'}", file=sys.stderr)
        return 2
    name, version, run_id = runs[args.task]
    record = json.loads(Path(registry.download_artifacts(run_id, "serving/example_record.json")).read_text())
    if args.link_store != "none":
        from creditml.serving.champions import load_bundle
        from creditml.serving.linkstore import own_record

        bundle = load_bundle(f"models:/{name}/{version}")
        if bundle.features_settings.graph is not None:
            record = own_record(record, bundle.dataset, bundle.features_settings.graph, bundle.task.target)
    with client_token(args.token) as token:  # before the server starts: it may create the identity store's user
        result = _load(args, record, token)
    result["workers"] = None if args.url else args.workers
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['task']}: {result['requests']} requests from {result['clients']} clients in "
              f"{result['seconds']} s = {result['requests_per_s']} req/s; p50 {result['p50_ms']} ms, p99 "
              f"{result['p99_ms']} ms, max {result['max_ms']} ms; {result['errors']} errors; load "
              f"{result['load_before']} -> {result['load_after']}")
        for e in result["error_examples"]:
            print("  error:", e)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
