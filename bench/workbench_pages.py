"""How fast the reviewer's workbench answers, on whatever models its registry holds.

Signs in to a running ``creditml review-server`` as a reviewer, then times each page
(queue, every queued version's page and report, each model's audit view) over ``--repeat``
requests and prints median and max per page (``--json``: one line per page). The first
request of a report builds it (SHAP values on the version's sample) and is timed apart.

    python bench/workbench_pages.py --url http://127.0.0.1:8100 --name demo-reviewer \\
        --password-file .creditml-demo/demo-tokens.json [--version MODEL/V ...] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

import httpx

LINK = re.compile(r'href="(/models/[^"/]+/versions/\d+)"')
AUDIT = re.compile(r'href="(/models/[^"/]+/audit)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def timed(client: httpx.Client, path: str) -> tuple[float, int]:
    start = time.perf_counter()
    answer = client.get(path)
    answer.raise_for_status()
    return time.perf_counter() - start, len(answer.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8100")
    parser.add_argument("--name", default="demo-reviewer")
    parser.add_argument("--password-file", type=Path, default=Path(".creditml-demo/demo-tokens.json"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--version", dest="versions", action="append", default=[],
                        help="MODEL/VERSION to time besides the queue's (e.g. versions already decided)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    password = json.loads(args.password_file.read_text())["passwords"][args.name]
    with httpx.Client(base_url=args.url, timeout=120, follow_redirects=True) as client:
        form = client.get("/signin").text
        signed = client.post("/signin", data={"name": args.name, "password": password, "next": "/queue",
                                              "csrf_token": CSRF.search(form)[1]})
        if "Sign out" not in signed.text:
            raise SystemExit(f"could not sign in as {args.name} at {args.url}")
        queue = client.get("/queue").text
        versions = sorted(set(LINK.findall(queue)) | {f"/models/{m}/versions/{v}" for m, v in
                                                      (x.split("/") for x in args.versions)})
        pages = {"queue": "/queue", **{f"audit {p.split('/')[2]}": p for p in sorted(set(AUDIT.findall(queue)))}}
        cold = {}
        for v in versions:
            pages[f"version {v}"] = v
            pages[f"report {v}"] = f"{v}/report"
            cold[f"report {v}"] = timed(client, f"{v}/report")[0]  # the first build, once per version
        rows = []
        for label, path in pages.items():
            seconds = [timed(client, path)[0] for _ in range(args.repeat)]
            rows.append({"page": label, "median_ms": round(1000 * statistics.median(seconds), 1),
                         "max_ms": round(1000 * max(seconds), 1), "first_build_s": round(cold[label], 1)
                         if label in cold else None})
    for row in rows:
        if args.json:
            print(json.dumps(row))
        else:
            first = f"  (first build {row['first_build_s']} s)" if row["first_build_s"] is not None else ""
            print(f"{row['page']:<70} median {row['median_ms']:>7.1f} ms  max {row['max_ms']:>7.1f} ms{first}")


if __name__ == "__main__":
    main()
