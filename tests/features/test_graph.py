"""Graph features: exact values on hand-built rings and dandelions, tie semantics,
point-in-time safety under perturbation of everything after the cutoff, and a naive
reference implementation on a random graph."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditml.config import GraphSettings
from creditml.features.graph import graph_feature_names, graph_features, graph_kinds

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2024-01-01")

SETTINGS = GraphSettings(
    table="application_identifiers", instance_column="application_id", value_column="value",
    kind_column="kind", time_column="seen_at", customer_column="customer_id", burst_days=[1, 7, 30],
)


def _day(d: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=d)


# ----------------------------------------------------------------------------- example


@pytest.fixture()
def example():
    """A ring of 4 applications sharing a device and a phone, and a dandelion broker:
    5 applications with their own device and phone whose only common identifier is the
    broker's number, given as contact phone."""
    apps, links = [], []
    ring_times = [_day(10), _day(12.25), _day(12.75), _day(13.5)]
    for i, t in enumerate(ring_times, start=1):
        apps.append((f"R{i}", t, f"c{i}"))
        links += [(f"R{i}", "D-ring", "device", t), (f"R{i}", "P-ring", "phone", t)]
    broker_days = [1, 5, 20, 40, 60]
    broker_customers = ["b1", "b2", "b3", "b5", "b5"]  # B4 and B5: the same customer
    for i, (d, c) in enumerate(zip(broker_days, broker_customers), start=1):
        t = _day(d)
        apps.append((f"B{i}", t, c))
        links += [(f"B{i}", f"D-b{i}", "device", t), (f"B{i}", f"P-b{i}", "phone", t),
                  (f"B{i}", "BROKER", "contact_phone", t)]
    applications = pd.DataFrame(apps, columns=["instance_id", "time", "customer"])
    links = pd.DataFrame(links, columns=["application_id", "value", "kind", "seen_at"])
    confirmations = pd.DataFrame({
        "instance_id": ["R1", "R2", "B1"],
        "known_at": [_day(12), _day(20), _day(100)],
    })
    return links, applications, confirmations


def _instances(applications: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    a = applications.set_index("instance_id").loc[ids]
    return pd.DataFrame({"instance_id": ids, "cutoff": a["time"].to_numpy(), "customer": a["customer"].to_numpy()})


def test_ring_member_exact_values(example):
    links, applications, confirmations = example
    f = graph_features(links, _instances(applications, ["R4"]), applications, SETTINGS, confirmations).loc["R4"]
    assert f["GRAPH_shared_apps_device"] == 3
    assert f["GRAPH_shared_apps_phone"] == 3
    assert f["GRAPH_shared_apps_contact_phone"] == 0
    assert f["GRAPH_shared_customers_device"] == 3
    assert f["GRAPH_shared_apps_total"] == 3
    assert f["GRAPH_shared_customers_total"] == 3
    assert f["GRAPH_shared_confirmed"] == 1  # R1 known at day 12; R2 only at day 20
    assert f["GRAPH_shared_apps_max_identifier"] == 3
    assert f["GRAPH_identifiers"] == 2
    # cutoff day 13.5: R3 (12.75) in the 1-day window, R2 (12.25) and R3 in 7 days
    assert f["GRAPH_burst_apps_1d"] == 1
    assert f["GRAPH_burst_apps_7d"] == 3
    assert f["GRAPH_burst_apps_30d"] == 3
    assert f["GRAPH_group_apps"] == 4
    assert f["GRAPH_group_identifiers"] == 2
    assert f["GRAPH_group_customers"] == 4
    assert f["GRAPH_group_links"] == 8
    assert f["GRAPH_group_density"] == 1.0
    assert f["GRAPH_group_cycles"] == 3
    # R1 known at day 12 counts, R2 known only at day 20 does not
    assert f["GRAPH_group_confirmed"] == 1
    assert f["GRAPH_group_confirmed_share"] == pytest.approx(1 / 3)
    assert f["GRAPH_identifier_age_days_device"] == 3.5
    assert f["GRAPH_identifier_age_days_min"] == 3.5
    assert f["GRAPH_identifier_age_days_max"] == 3.5
    assert np.isnan(f["GRAPH_identifier_age_days_contact_phone"])


def test_dandelion_member_exact_values(example):
    links, applications, confirmations = example
    f = graph_features(links, _instances(applications, ["B5"]), applications, SETTINGS, confirmations).loc["B5"]
    assert f["GRAPH_shared_apps_contact_phone"] == 4
    assert f["GRAPH_shared_customers_contact_phone"] == 3  # B4 is B5's own customer
    assert f["GRAPH_shared_apps_device"] == 0
    assert f["GRAPH_shared_apps_phone"] == 0
    assert f["GRAPH_shared_apps_total"] == 4
    assert f["GRAPH_shared_confirmed"] == 0  # B1 shares the broker number, but is known only at day 100
    assert f["GRAPH_shared_apps_max_identifier"] == 4
    assert f["GRAPH_shared_customers_max_identifier"] == 3
    assert f["GRAPH_identifiers"] == 3
    assert f["GRAPH_burst_apps_1d"] == 0
    assert f["GRAPH_burst_apps_7d"] == 0
    assert f["GRAPH_burst_apps_30d"] == 1  # B4 at day 40
    assert f["GRAPH_group_apps"] == 5
    assert f["GRAPH_group_identifiers"] == 11
    assert f["GRAPH_group_customers"] == 4
    assert f["GRAPH_group_links"] == 15
    assert f["GRAPH_group_density"] == pytest.approx(15 / 55)
    assert f["GRAPH_group_cycles"] == 0  # a dandelion is a tree
    assert f["GRAPH_group_confirmed"] == 0  # B1 confirmed only at day 100
    assert f["GRAPH_group_confirmed_share"] == 0
    assert f["GRAPH_identifier_age_days_contact_phone"] == 59
    assert f["GRAPH_identifier_age_days_device"] == 0
    assert f["GRAPH_identifier_age_days_min"] == 0
    assert f["GRAPH_identifier_age_days_max"] == 59


def test_ring_denser_than_dandelion_and_order_kept(example):
    links, applications, confirmations = example
    ids = ["B5", "R4", "R2", "B1"]
    f = graph_features(links, _instances(applications, ids), applications, SETTINGS, confirmations)
    assert list(f.index) == ids
    assert f.index.name == "instance_id"
    assert list(f.columns) == graph_feature_names(["contact_phone", "device", "phone"], [1, 7, 30], True)
    assert (f.dtypes == np.float64).all()
    assert f.loc["R4", "GRAPH_group_density"] > f.loc["B5", "GRAPH_group_density"]
    assert f.loc["R4", "GRAPH_group_cycles"] > f.loc["B5", "GRAPH_group_cycles"]
    # R2 as of its own time (day 12.25): only R1 exists yet; R1's confirmation (day 12) counts
    r2 = f.loc["R2"]
    assert r2["GRAPH_shared_apps_device"] == 1
    assert r2["GRAPH_group_apps"] == 2
    assert r2["GRAPH_group_links"] == 4
    assert r2["GRAPH_group_confirmed"] == 1
    assert r2["GRAPH_group_confirmed_share"] == 1.0
    # B1 as of day 1: alone
    b1 = f.loc["B1"]
    assert b1["GRAPH_shared_apps_total"] == 0
    assert b1["GRAPH_group_apps"] == 1
    assert b1["GRAPH_group_identifiers"] == 3
    assert b1["GRAPH_group_density"] == 1.0
    assert b1["GRAPH_group_cycles"] == 0
    assert b1["GRAPH_identifier_age_days_max"] == 0


def test_without_kind_or_customer_columns(example):
    links, applications, confirmations = example
    settings = GraphSettings(table="t", instance_column="application_id", value_column="value",
                             time_column="seen_at", burst_days=[7])
    inst = _instances(applications, ["R4"])[["instance_id", "cutoff"]]
    f = graph_features(links.drop(columns="kind"), inst, applications.drop(columns="customer"), settings)
    assert list(f.columns) == graph_feature_names(["any"], [7], False)
    assert f.loc["R4", "GRAPH_shared_apps_any"] == 3
    assert f.loc["R4", "GRAPH_group_apps"] == 4
    assert f.loc["R4", "GRAPH_group_confirmed"] == 0


# -------------------------------------------------------------------------------- ties


def test_row_stamped_at_cutoff_included_one_second_later_not():
    cut = _day(5)
    applications = pd.DataFrame({
        "instance_id": ["A", "B", "C", "D", "E"],
        "time": [_day(1), _day(1), _day(1), cut, cut + pd.Timedelta(seconds=1)],
        "customer": ["a", "b", "c", "d", "e"],
    })
    links = pd.DataFrame({
        "application_id": ["A", "B", "C", "D", "E"],
        "value": ["dev"] * 5,
        "kind": ["device"] * 5,
        "seen_at": [_day(1), cut, cut + pd.Timedelta(seconds=1), _day(1), _day(1)],
    })
    confirmations = pd.DataFrame({"instance_id": ["B", "D"], "known_at": [cut, cut + pd.Timedelta(seconds=1)]})
    inst = pd.DataFrame({"instance_id": ["A"], "cutoff": [cut], "customer": ["a"]})
    f = graph_features(links, inst, applications, SETTINGS, confirmations).loc["A"]
    # B: sighting at the cutoff; D: application at the cutoff (its earlier sighting waits for it)
    # C: sighting one second late; E: application one second late
    assert f["GRAPH_shared_apps_device"] == 2
    assert f["GRAPH_group_apps"] == 3
    assert f["GRAPH_burst_apps_1d"] == 1  # D (application at the cutoff); B applied on day 1
    assert f["GRAPH_burst_apps_30d"] == 2
    assert f["GRAPH_group_confirmed"] == 1  # B known exactly at the cutoff, D one second later


def test_burst_counts_use_application_time():
    applications = pd.DataFrame({"instance_id": ["A", "B"], "time": [_day(10), _day(2)], "customer": ["a", "b"]})
    links = pd.DataFrame({"application_id": ["A", "B"], "value": ["x", "x"], "kind": ["ip", "ip"],
                          "seen_at": [_day(10), _day(9.5)]})
    inst = pd.DataFrame({"instance_id": ["A"], "cutoff": [_day(10)], "customer": ["a"]})
    f = graph_features(links, inst, applications, SETTINGS).loc["A"]
    assert f["GRAPH_shared_apps_ip"] == 1
    assert f["GRAPH_burst_apps_1d"] == 0
    assert f["GRAPH_burst_apps_30d"] == 1
    assert f["GRAPH_identifier_age_days_ip"] == 0.5


# ---------------------------------------------------------------------- random worlds

KINDS = ["contact_phone", "device", "ip", "phone"]


def random_world(seed: int, n_apps: int = 300, days: float = 100.0):
    rng = np.random.default_rng(seed)
    app_ids = [f"A{i:04d}" for i in range(n_apps)]
    times = T0 + pd.to_timedelta(np.sort(rng.uniform(0, days, n_apps)), unit="D")
    times = times.round("h")  # plenty of exact ties
    applications = pd.DataFrame({
        "instance_id": app_ids, "time": times,
        "customer": [f"c{c}" for c in rng.integers(0, int(n_apps * 0.7), n_apps)],
    })
    pools = {"device": n_apps, "phone": n_apps // 2, "ip": n_apps // 6, "contact_phone": n_apps // 3}
    rows = []
    for i, app in enumerate(app_ids):
        for kind in KINDS:
            for _ in range(rng.integers(0, 3)):
                value = f"{kind[0]}{rng.integers(0, pools[kind])}"
                if kind == "contact_phone" and rng.random() < 0.3:
                    value = f"p{rng.integers(0, pools['phone'])}"  # cross-kind links
                delay = 0.0 if rng.random() < 0.6 else rng.choice([-2.0, 0.5, 3.0])
                rows.append((app, value, kind, times[i] + pd.Timedelta(days=float(delay))))
    links = pd.DataFrame(rows, columns=["application_id", "value", "kind", "seen_at"])
    links["seen_at"] = links["seen_at"].dt.round("h")
    conf_apps = rng.choice(n_apps, n_apps // 8, replace=False)
    confirmations = pd.DataFrame({
        "instance_id": [app_ids[i] for i in conf_apps],
        "known_at": (applications["time"].to_numpy()[conf_apps]
                     + pd.to_timedelta(rng.integers(0, 60, len(conf_apps)), unit="D")),
    })
    return links, applications, confirmations


def _perturb_after(links, applications, confirmations, t0, seed):
    """Change, add and remove every row that is dated after t0 (and each application
    dated after t0 together with anything about it)."""
    rng = np.random.default_rng(seed)
    links, applications, confirmations = links.copy(), applications.copy(), confirmations.copy()
    app_time = applications.set_index("instance_id")["time"]
    late_apps = set(app_time[app_time > t0].index)
    early_apps = sorted(set(app_time.index) - late_apps)
    values = links["value"].unique()

    # applications after t0: drop a third, move/re-customer the rest (still after t0), add new ones
    late = applications["time"] > t0
    drop = late & (rng.random(len(applications)) < 0.33)
    applications = applications[~drop].copy()
    late = applications["time"] > t0
    applications.loc[late, "time"] += pd.to_timedelta(rng.integers(0, 5000, int(late.sum())), unit="min")
    applications.loc[late, "customer"] = [f"c{c}" for c in rng.integers(0, 50, int(late.sum()))]
    new_apps = pd.DataFrame({
        "instance_id": [f"N{i}" for i in range(40)],
        "time": t0 + pd.to_timedelta(rng.integers(1, 10_000, 40), unit="min"),
        "customer": [f"c{c}" for c in rng.integers(0, 50, 40)],
    })
    applications = pd.concat([applications, new_apps], ignore_index=True)

    # sightings after t0 or of applications after t0: drop some, rewire the rest
    late_rows = (links["seen_at"] > t0) | links["application_id"].isin(late_apps)
    drop = late_rows & (rng.random(len(links)) < 0.3)
    links = links[~drop].copy()
    late_rows = (links["seen_at"] > t0) | links["application_id"].isin(late_apps)
    n_late = int(late_rows.sum())
    links.loc[late_rows, "value"] = rng.choice(values, n_late)
    links.loc[late_rows, "kind"] = rng.choice(KINDS + ["email"], n_late)
    late_seen = late_rows & (links["seen_at"] > t0)
    links.loc[late_seen, "seen_at"] += pd.to_timedelta(rng.integers(-30, 3000, int(late_seen.sum())), unit="min")
    links.loc[late_seen & (links["seen_at"] <= t0), "seen_at"] = t0 + pd.Timedelta(seconds=1)
    added = pd.DataFrame({
        # new sightings after t0 on early applications, joining them to existing identifiers
        "application_id": list(rng.choice(early_apps, 150)) + [f"N{i}" for i in range(40)] * 2,
        "value": rng.choice(values, 150 + 80),
        "kind": rng.choice(KINDS, 150 + 80),
        # new applications (dated after t0) sighted *before* t0: still invisible
        "seen_at": list(t0 + pd.to_timedelta(rng.integers(1, 10_000, 150), unit="min"))
                   + list(t0 - pd.to_timedelta(rng.integers(0, 10_000, 80), unit="min")),
    })
    links = pd.concat([links, added], ignore_index=True).sample(frac=1.0, random_state=seed)

    # confirmations known after t0: drop some, move the rest, add new ones for early applications
    late_c = confirmations["known_at"] > t0
    drop = late_c & (rng.random(len(confirmations)) < 0.5)
    confirmations = confirmations[~drop].copy()
    late_c = confirmations["known_at"] > t0
    confirmations.loc[late_c, "known_at"] += pd.Timedelta(days=3)
    confirmations = pd.concat([confirmations, pd.DataFrame({
        "instance_id": list(rng.choice(early_apps, 30)) + ["N1", "N2"],
        "known_at": t0 + pd.to_timedelta(rng.integers(1, 10_000, 32), unit="min"),
    })], ignore_index=True)
    return links, applications, confirmations


@pytest.mark.parametrize("cap", [1000, 2])
def test_no_feature_changes_when_everything_after_cutoff_changes(cap):
    links, applications, confirmations = random_world(seed=7)
    t0 = _day(60)
    early = applications[applications["time"] <= t0]
    rng = np.random.default_rng(1)
    # instances at their own time, at t0 exactly, and some in between
    shifted = early["time"].iloc[:50] + pd.to_timedelta(rng.uniform(0, 2, 50), unit="D").round("s")
    cut = list(early["time"]) + [t0] * 20 + list(shifted.where(shifted <= t0, t0))
    ids = list(early["instance_id"]) + list(rng.choice(early["instance_id"], 20)) + list(early["instance_id"].iloc[:50])
    cust = applications.set_index("instance_id").loc[ids, "customer"].to_numpy()
    instances = pd.DataFrame({"instance_id": ids, "cutoff": cut, "customer": cust})
    assert (instances["cutoff"] <= t0).all()

    before = graph_features(links, instances, applications, SETTINGS, confirmations,
                            kinds=KINDS, max_neighbours_per_identifier=cap)
    p_links, p_apps, p_conf = _perturb_after(links, applications, confirmations, t0, seed=3)
    after = graph_features(p_links, instances, p_apps, SETTINGS, p_conf,
                           kinds=KINDS, max_neighbours_per_identifier=cap)
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    # the world is not trivial: there are shared identifiers and confirmed neighbours
    assert before["GRAPH_shared_apps_total"].max() >= 3
    assert before["GRAPH_group_confirmed"].max() >= 1
    # sanity: the perturbation does change the same applications seen after t0
    later = instances.assign(cutoff=_day(101))
    a = graph_features(links, later, applications, SETTINGS, confirmations, kinds=KINDS)
    b = graph_features(p_links, later, p_apps, SETTINGS, p_conf, kinds=KINDS)
    assert not a.equals(b)


def _reference(links, instances, applications, confirmations, settings, kinds):
    """Naive per-instance computation straight from the definitions."""
    app = applications.set_index("instance_id")
    conf = confirmations.groupby("instance_id")["known_at"].min()
    out = []
    for _, row in instances.iterrows():
        t, me = row["cutoff"], row["instance_id"]
        own_c = row["customer"]
        l = links.merge(app, left_on="application_id", right_index=True)
        l["vis"] = np.maximum(l["seen_at"], l["time"])
        l = l[l["vis"] <= t]
        mine = l[l["application_id"] == me]
        f = {}
        first_seen = l.groupby("value")["vis"].min()
        def sharers(values):
            return set(l[l["value"].isin(values)]["application_id"]) - {me}
        def custs(apps):
            return {c for c in app.loc[list(apps), "customer"] if c != own_c}
        for k in kinds:
            vals = set(mine[mine["kind"] == k]["value"])
            f[f"GRAPH_shared_apps_{k}"] = len(sharers(vals))
            f[f"GRAPH_shared_customers_{k}"] = len(custs(sharers(vals)))
            ages = [(t - first_seen[v]) / DAY for v in vals]
            f[f"GRAPH_identifier_age_days_{k}"] = min(ages) if ages else np.nan
        vals = set(mine["value"])
        f["GRAPH_shared_apps_total"] = len(sharers(vals))
        f["GRAPH_shared_customers_total"] = len(custs(sharers(vals)))
        f["GRAPH_shared_confirmed"] = sum(1 for a in sharers(vals) if a in conf.index and conf[a] <= t)
        f["GRAPH_shared_apps_max_identifier"] = max([len(sharers({v})) for v in vals], default=0)
        f["GRAPH_shared_customers_max_identifier"] = max([len(custs(sharers({v}))) for v in vals], default=0)
        f["GRAPH_identifiers"] = len(vals)
        for d in settings.burst_days:
            s = sharers(vals)
            f[f"GRAPH_burst_apps_{d}d"] = sum(1 for a in s if app.loc[a, "time"] > t - d * DAY)
        # connected component by breadth-first search over visible edges
        edges = l[["application_id", "value"]].drop_duplicates()
        by_app = edges.groupby("application_id")["value"].apply(set).to_dict()
        by_val = edges.groupby("value")["application_id"].apply(set).to_dict()
        apps_c, vals_c, todo = {me}, set(), [me]
        while todo:
            a = todo.pop()
            for v in by_app.get(a, ()):
                if v not in vals_c:
                    vals_c.add(v)
                    for b in by_val[v]:
                        if b not in apps_c:
                            apps_c.add(b)
                            todo.append(b)
        n_links = int(edges["application_id"].isin(apps_c).sum())
        f["GRAPH_group_apps"] = len(apps_c)
        f["GRAPH_group_identifiers"] = len(vals_c)
        f["GRAPH_group_customers"] = len(set(app.loc[list(apps_c), "customer"]))
        f["GRAPH_group_links"] = n_links
        f["GRAPH_group_density"] = n_links / (len(apps_c) * len(vals_c)) if vals_c else np.nan
        f["GRAPH_group_cycles"] = n_links - len(apps_c) - len(vals_c) + 1
        confirmed = sum(1 for a in apps_c - {me} if a in conf.index and conf[a] <= t)
        f["GRAPH_group_confirmed"] = confirmed
        f["GRAPH_group_confirmed_share"] = confirmed / (len(apps_c) - 1) if len(apps_c) > 1 else 0.0
        ages = [(t - first_seen[v]) / DAY for v in vals]
        f["GRAPH_identifier_age_days_min"] = min(ages) if ages else np.nan
        f["GRAPH_identifier_age_days_max"] = max(ages) if ages else np.nan
        out.append(f)
    return pd.DataFrame(out, index=pd.Index(instances["instance_id"].to_numpy(), name="instance_id"))


def test_matches_naive_reference_on_random_graph():
    links, applications, confirmations = random_world(seed=11, n_apps=120, days=40)
    sample = applications.sample(60, random_state=0)
    instances = pd.DataFrame({
        "instance_id": sample["instance_id"].to_numpy(),
        "cutoff": (sample["time"] + pd.to_timedelta(np.arange(60) % 4, unit="D")).to_numpy(),
        "customer": sample["customer"].to_numpy(),
    })
    got = graph_features(links, instances, applications, SETTINGS, confirmations, kinds=KINDS)
    want = _reference(links, instances, applications, confirmations, SETTINGS, KINDS)[got.columns]
    pd.testing.assert_frame_equal(got, want.astype(float), check_exact=False, rtol=1e-12)
    assert got["GRAPH_group_apps"].max() > 3
    assert got["GRAPH_shared_confirmed"].max() >= 1


def test_common_identifier_cap_keeps_exact_per_identifier_counts():
    n = 30
    applications = pd.DataFrame({"instance_id": [f"A{i}" for i in range(n)],
                                 "time": [_day(i) for i in range(n)], "customer": [f"c{i}" for i in range(n)]})
    links = pd.DataFrame({"application_id": applications["instance_id"], "value": "public-ip", "kind": "ip",
                          "seen_at": applications["time"]})
    inst = pd.DataFrame({"instance_id": ["A29"], "cutoff": [_day(29)], "customer": ["c29"]})
    exact = graph_features(links, inst, applications, SETTINGS)
    capped = graph_features(links, inst, applications, SETTINGS, max_neighbours_per_identifier=8)
    for col in ["GRAPH_shared_apps_ip", "GRAPH_shared_apps_total", "GRAPH_shared_apps_max_identifier",
                "GRAPH_burst_apps_1d", "GRAPH_burst_apps_7d", "GRAPH_group_apps"]:
        assert capped.loc["A29", col] == exact.loc["A29", col], col
    assert exact.loc["A29", "GRAPH_shared_apps_ip"] == 29
    assert exact.loc["A29", "GRAPH_burst_apps_7d"] == 6
    assert capped.loc["A29", "GRAPH_shared_customers_ip"] == 8  # a lower bound past the cap


def _load_bench():
    import importlib.util  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    path = Path(__file__).resolve().parents[2] / "bench" / "graph_features.py"
    spec = importlib.util.spec_from_file_location("bench_graph_features", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_performance_smoke():
    """Small and fast here; bench/graph_features.py measures the 50k x 300k case."""
    bench = _load_bench()
    links, instances, applications, confirmations = bench.make_world(n_instances=2_000, n_sightings=12_000)
    f = graph_features(links, instances, applications, bench.SETTINGS, confirmations)
    assert len(f) == 2_000
    assert f.notna().any().all()


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize("table, column", [
    ("links", "seen_at"), ("links", "kind"), ("instances", "cutoff"), ("applications", "time"),
    ("applications", "customer"), ("confirmations", "known_at"),
])
def test_missing_columns_raise_value_error(example, table, column):
    links, applications, confirmations = example
    tables = {"links": links, "instances": _instances(applications, ["R4"]), "applications": applications,
              "confirmations": confirmations}
    tables[table] = tables[table].drop(columns=column)
    with pytest.raises(ValueError, match=rf"'{table}'.*{column}.*found"):
        graph_features(tables["links"], tables["instances"], tables["applications"], SETTINGS,
                       tables["confirmations"])


def test_kinds_fixed_until_a_time(example):
    links, applications, _ = example
    late = pd.DataFrame({"application_id": ["B5"], "value": ["e@x"], "kind": ["email"], "seen_at": [_day(70)]})
    links = pd.concat([links, late], ignore_index=True)
    assert graph_kinds(links, SETTINGS) == ["contact_phone", "device", "email", "phone"]
    kinds = graph_kinds(links, SETTINGS, until=_day(60))
    assert kinds == ["contact_phone", "device", "phone"]
    f = graph_features(links, _instances(applications, ["B5"]), applications, SETTINGS, kinds=kinds)
    assert "GRAPH_shared_apps_email" not in f.columns
    assert f.loc["B5", "GRAPH_identifiers"] == 3


def test_unknown_instance_raises(example):
    links, applications, _ = example
    inst = pd.DataFrame({"instance_id": ["nope"], "cutoff": [_day(3)], "customer": ["x"]})
    with pytest.raises(ValueError, match="not in table 'applications'"):
        graph_features(links, inst, applications, SETTINGS)


def test_ignored_kinds_do_not_join_groups_but_still_count_as_shared(example):
    links, applications, confirmations = example
    inst = _instances(applications, ["B5"])
    joined = graph_features(links, inst, applications, SETTINGS, confirmations)
    split = graph_features(links, inst, applications,
                           SETTINGS.model_copy(update={"group_ignore_kinds": ["contact_phone"]}), confirmations)
    # the broker's number joins the dandelion into one group unless contact phones are ignored for groups
    assert joined["GRAPH_group_apps"].iloc[0] == 5
    assert split["GRAPH_group_apps"].iloc[0] == 1
    assert split["GRAPH_shared_apps_contact_phone"].iloc[0] == joined["GRAPH_shared_apps_contact_phone"].iloc[0] == 4
    # by day 120 B1's confirmation is known: a direct neighbour through the ignored kind still counts
    later = inst.assign(cutoff=_day(120))
    ignored = graph_features(links, later, applications,
                             SETTINGS.model_copy(update={"group_ignore_kinds": ["contact_phone"]}), confirmations)
    assert ignored["GRAPH_group_confirmed"].iloc[0] == 0
    assert ignored["GRAPH_shared_confirmed"].iloc[0] == 1


def test_every_feature_has_a_description(example):
    from creditml.features.graph import describe_graph_feature

    names = graph_feature_names(["device", "contact_phone"], [1, 7], True)
    sentences = [describe_graph_feature(n) for n in names]
    assert all(s.startswith("Graph: ") and s.endswith("as of the cutoff.") for s in sentences)
    assert describe_graph_feature("GRAPH_burst_apps_7d") == \
        "Graph: other applications sharing an identifier with this one in the last 7 days, as of the cutoff."
    assert describe_graph_feature("GRAPH_shared_customers_device") == \
        "Graph: other customers sharing this application's device, as of the cutoff."
    assert len(set(sentences)) == len(sentences)
