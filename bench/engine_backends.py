"""Why the feature engine runs on Polars: the same aggregation query in Polars and DuckDB.

    pip install duckdb   # not a creditml dependency; only this comparison needs it
    python bench/engine_backends.py [--json]

The query is the engine's typical work on the medium built-in world: for every loan
application (its cutoff = applied_at), the customer's installments due by the cutoff,
with the late-known payment columns masked when paid after the cutoff, aggregated into
ten features (count, sums, means, max, std, a where-clause count and sum). It is timed
for all 49,999 applications at once (a training matrix) and for one application (a
served request, median of 50). Both engines get the same in-memory frames and must
return the same values (checked).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

REPO = Path(__file__).resolve().parents[1]

SQL = """
SELECT a.application_id,
       count(i.installment_id) AS n,
       sum(i.amount_due) AS due_sum,
       avg(i.amount_due) AS due_mean,
       max(i.amount_due) AS due_max,
       stddev_samp(i.amount_due) AS due_std,
       coalesce(sum(CASE WHEN i.paid_at < a.applied_at THEN i.amount_paid END), 0) AS paid_sum,
       avg(CASE WHEN i.paid_at < a.applied_at THEN i.days_late END) AS late_mean,
       max(CASE WHEN i.paid_at < a.applied_at THEN i.days_late END) AS late_max,
       count(CASE WHEN i.paid_at < a.applied_at AND i.days_late > 30 THEN 1 END) AS late30_n,
       coalesce(sum(CASE WHEN i.paid_at < a.applied_at AND i.days_late > 30 THEN i.amount_due END), 0)
           AS late30_due  -- featuretools: the Sum of nothing is 0
FROM apps a JOIN inst i ON i.customer_id = a.customer_id AND i.due_at <= a.applied_at
GROUP BY a.application_id
"""


def polars_query(apps: pl.DataFrame, inst: pl.DataFrame) -> pl.DataFrame:
    known = pl.col("paid_at") < pl.col("applied_at")
    paid = pl.when(known).then(pl.col("amount_paid"))
    late = pl.when(known).then(pl.col("days_late"))
    late30 = known & (pl.col("days_late") > 30)
    return (apps.join(inst, on="customer_id", how="inner")
            .filter(pl.col("due_at") <= pl.col("applied_at"))
            .group_by("application_id")
            .agg(pl.col("installment_id").count().alias("n"), pl.col("amount_due").sum().alias("due_sum"),
                 pl.col("amount_due").mean().alias("due_mean"), pl.col("amount_due").max().alias("due_max"),
                 pl.col("amount_due").std().alias("due_std"), paid.sum().alias("paid_sum"),
                 late.mean().alias("late_mean"), late.max().alias("late_max"),
                 late30.fill_null(False).sum().alias("late30_n"),
                 pl.when(late30).then(pl.col("amount_due")).sum().alias("late30_due")))


def _timed(fn, repeat: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--world", default=str(REPO / "data" / "world-medium"))
    args = parser.parse_args()
    try:
        import duckdb
    except ImportError:
        print("this comparison needs duckdb: pip install duckdb", file=sys.stderr)
        return 2
    world = Path(args.world)
    if not (world / "applications.parquet").exists():
        print(f"{world}: no generated world; run `creditml generate --out {world} --scale medium`", file=sys.stderr)
        return 2
    apps_pd = pd.read_parquet(world / "applications.parquet", columns=["application_id", "customer_id", "applied_at"])
    inst_pd = pd.read_parquet(world / "installments.parquet", columns=[
        "installment_id", "customer_id", "due_at", "amount_due", "paid_at", "amount_paid", "days_late"])
    apps, inst = pl.from_pandas(apps_pd), pl.from_pandas(inst_pd)
    con = duckdb.connect()
    con.register("apps_all", apps_pd)
    con.register("inst", inst_pd)
    con.execute("SET threads TO 2")

    one_id = int(apps_pd.application_id.iloc[len(apps_pd) // 2])
    full_pl, got_pl = _timed(lambda: polars_query(apps, inst), 3)
    full_dd, got_dd = _timed(lambda: pl.from_pandas(con.execute(SQL.replace("apps a", "apps_all a")).df()), 3)
    one_apps = apps.filter(pl.col("application_id") == one_id)
    one_pl, _ = _timed(lambda: polars_query(one_apps, inst), 50)
    one_sql = SQL.replace("apps a", f"(SELECT * FROM apps_all WHERE application_id = {one_id}) a")
    one_dd, _ = _timed(lambda: con.execute(one_sql).df(), 50)

    a = got_pl.sort("application_id").to_pandas().set_index("application_id")
    b = got_dd.sort("application_id").to_pandas().set_index("application_id")[a.columns]
    differ = [c for c in a.columns if not np.allclose(a[c].astype(float), b[c].astype(float), rtol=1e-9,
                                                      equal_nan=True)]
    same = bool(a.index.equals(b.index)) and not differ
    result = {"instances": len(apps_pd), "installments": len(inst_pd), "same_values": same, "columns_differ": differ,
              "polars_full_s": round(full_pl, 3), "duckdb_full_s": round(full_dd, 3),
              "polars_one_ms": round(one_pl * 1000, 2), "duckdb_one_ms": round(one_dd * 1000, 2),
              "polars": pl.__version__, "duckdb": duckdb.__version__}
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
