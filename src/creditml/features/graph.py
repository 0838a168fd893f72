"""Point-in-time graph features over an identifier graph (fraud rings).

The graph
---------
A *link table* holds one row per sighting of an identifier (device, phone, IP, contact
phone, ... hashed) on an application. Applications and identifiers are the two node
sets of a bipartite graph; a sighting is an edge ``application -- identifier``.
Two applications are *linked* when they share an identifier. An identifier node is
its value alone: the kind is an attribute of the sighting, so a number given as the
phone of one application and as the contact phone of another links the two (a classic
ring pattern). A ring is a dense cluster ("ball of yarn"); an honest high-volume broker
is a "dandelion": many counterparties whose only common identifier is, at most, the
broker's own number.

Time (the one rule that must never break)
-----------------------------------------
Each instance is computed as of its ``cutoff`` ``t``:

* an application exists only if its ``time <= t``;
* a sighting exists only if its own time ``<= t`` *and* its application exists, so an
  edge becomes visible at ``max(sighting time, application time)``; a row stamped
  exactly ``t`` is included (featuretools' semantics);
* a confirmation (e.g. confirmed fraud) counts only if ``known_at <= t``.

Nothing dated after ``t`` can change any feature of the instance, including the
approximation for very common identifiers (below), which only looks at data ``<= t``.
Sightings of applications absent from ``applications`` are ignored (an application
the platform does not know never exists); rows with a missing time never exist.

Features (all float; ``k`` is an identifier kind, ``d`` a burst window in days)
--------------------------------------------------------------------------------
``GRAPH_shared_apps_{k}``
    distinct *other* applications that share at least one of the instance's kind-``k``
    identifiers (they may have sighted it under any kind).
``GRAPH_shared_customers_{k}``
    distinct customers among them, other than the instance's own customer (only when
    ``settings.customer_column`` is set).
``GRAPH_identifier_age_days_{k}``
    days from the first sighting (by anyone) of the instance's *youngest* kind-``k``
    identifier to the cutoff; NaN when the instance has no kind-``k`` identifier.
``GRAPH_shared_apps_total`` / ``GRAPH_shared_customers_total``
    the same counts over all kinds (distinct, not a sum over kinds).
``GRAPH_shared_confirmed``
    distinct other applications sharing at least one identifier (any kind) with the
    instance whose confirmation is known at the cutoff (``known_at <= t``): the
    instance's direct neighbours already confirmed positive. Unlike the group counts,
    this includes identifiers of ``group_ignore_kinds``.
``GRAPH_shared_apps_max_identifier`` / ``GRAPH_shared_customers_max_identifier``
    the largest number of other applications (customers) on one single identifier of
    the instance.
``GRAPH_identifiers``
    distinct identifiers of the instance visible at the cutoff.
``GRAPH_burst_apps_{d}d``
    distinct other applications sharing any identifier with the instance whose
    application time lies in ``(t - d days, t]``.
``GRAPH_group_apps`` / ``GRAPH_group_identifiers`` / ``GRAPH_group_customers`` / ``GRAPH_group_links``
    size of the instance's connected group: the connected component of the instance
    in the bipartite graph of visible edges (the instance included; an instance with no
    visible identifier is a group of one application and no identifier).
``GRAPH_group_density``
    ``links / (apps * identifiers)``: the share of all possible application--identifier
    edges of the group that exist. A ring of ``n`` applications all sharing the same
    device and phone has density 1; a dandelion of ``n`` applications that only share a
    broker number (each with its own ``m`` identifiers) has density
    ``n (m + 1) / (n (n m + 1))``, about ``1 / n``. NaN when the group has no identifier.
    A lone application also has density 1, so read it together with the group size,
    or use the next feature.
``GRAPH_group_cycles``
    the cycle rank ``links - apps - identifiers + 1`` of the group: the number of
    independent cycles. Any tree, so every dandelion, has 0; a ring of ``n``
    applications sharing two identifiers has ``n - 1``. It grows with how tangled the
    ball of yarn is and is 0 for a lone application.
``GRAPH_group_confirmed`` / ``GRAPH_group_confirmed_share``
    the group's *other* applications confirmed positive with ``known_at <= t``, as a
    count and as a share of the group's other applications (0 when there are none).
``GRAPH_identifier_age_days_min`` / ``GRAPH_identifier_age_days_max``
    days since the first sighting by anyone of the instance's youngest / oldest
    identifier (NaN without identifiers). Fresh identifiers are a fraud signal.

Very common identifiers
-----------------------
Counting *distinct* applications over several identifiers needs the pairs
(instance, other application). For an identifier shared by more than
``max_neighbours_per_identifier`` applications as of the cutoff, only the most recent
ones (by the time their link became visible) are enumerated, so that one public IP
cannot blow up time and memory. The per-identifier counts
(``*_max_identifier`` for applications) stay exact, the ``shared_apps`` counts are
raised to at least that exact per-identifier count, burst counts stay exact unless
more than that many applications joined inside the window, and customer and
confirmed-neighbour counts are lower bounds. The rule uses only data ``<= t``, so point-in-time safety is intact.

Computation
-----------
Sharing and burst counts are vectorised (sorted arrays + ``searchsorted``, then
distinct counting on integer keys, in chunks of whole instances). Connected groups
come from one pass over a time-ordered event stream (edges becoming visible,
confirmations arriving, instance queries at their cutoff; at equal times edges and
confirmations come before queries) with scipy's incremental union-find
(:class:`scipy.cluster.hierarchy.DisjointSet`) and per-group aggregates kept at the
root; see :mod:`creditml.features._graph_groups`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from creditml.config import GraphSettings
from creditml.errors import CreditmlError
from creditml.features._graph_groups import GroupInputs, group_features

PREFIX = "GRAPH_"
ANY_KIND = "any"
NS_PER_DAY = 86_400 * 1_000_000_000
_MAX_PAIRS_PER_CHUNK = 1_000_000


class GraphInputError(CreditmlError, ValueError):
    """An input table of the graph features lacks a column or holds unusable values."""


# --------------------------------------------------------------------------- names


def _kind_label(kind: object) -> str:
    return re.sub(r"\s+", "_", str(kind).strip())


def graph_feature_names(
    kinds: Sequence[object], burst_days: Sequence[int], with_customers: bool
) -> list[str]:
    """Column names :func:`graph_features` returns, in order, for these kinds."""
    names: list[str] = []
    for kind in kinds:
        k = _kind_label(kind)
        names.append(f"{PREFIX}shared_apps_{k}")
        if with_customers:
            names.append(f"{PREFIX}shared_customers_{k}")
        names.append(f"{PREFIX}identifier_age_days_{k}")
    names.append(f"{PREFIX}shared_apps_total")
    if with_customers:
        names.append(f"{PREFIX}shared_customers_total")
    names.append(f"{PREFIX}shared_confirmed")
    names.append(f"{PREFIX}shared_apps_max_identifier")
    if with_customers:
        names.append(f"{PREFIX}shared_customers_max_identifier")
    names.append(f"{PREFIX}identifiers")
    names += [f"{PREFIX}burst_apps_{int(d)}d" for d in burst_days]
    names += [f"{PREFIX}group_apps", f"{PREFIX}group_identifiers"]
    if with_customers:
        names.append(f"{PREFIX}group_customers")
    names += [
        f"{PREFIX}group_links",
        f"{PREFIX}group_density",
        f"{PREFIX}group_cycles",
        f"{PREFIX}group_confirmed",
        f"{PREFIX}group_confirmed_share",
        f"{PREFIX}identifier_age_days_min",
        f"{PREFIX}identifier_age_days_max",
    ]
    if len(set(names)) != len(names):
        raise GraphInputError(f"graph features: identifier kinds {list(kinds)} give duplicate column names")
    return names


def graph_kinds(links: pd.DataFrame, settings: GraphSettings, until: object | None = None) -> list[object]:
    """The identifier kinds that get their own columns: the sorted distinct kinds of the
    sightings stamped at or before ``until`` (all of them when ``until`` is None).

    Fix the kinds once (e.g. on the training period, like featuretools' interesting
    values) and pass them to :func:`graph_features` as ``kinds=``: the default (every
    kind in ``links``) makes the *column set* depend on rows after a cutoff, e.g. a kind
    first seen later adds a column.
    """
    if not settings.kind_column:
        return [ANY_KIND]
    _require(links, "links", [settings.kind_column, settings.time_column])
    rows = links
    if until is not None:
        rows = links[_to_ns(links[settings.time_column], "links", settings.time_column) <= pd.Timestamp(until).value]
    return sorted(pd.unique(rows[settings.kind_column].dropna()).tolist(), key=str)


# ---------------------------------------------------------------------- validation


def _require(df: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise GraphInputError(f"graph features: table '{table}' must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise GraphInputError(
            f"graph features: table '{table}' lacks column(s) {missing}; found columns {list(df.columns)}"
        )


def _to_ns(series: pd.Series, table: str, column: str) -> np.ndarray:
    """Times as int64 nanoseconds (UTC for aware times); NaT becomes the int64 minimum."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_datetime64_any_dtype(series):
        if len(series) and not series.isna().all():
            raise GraphInputError(
                f"graph features: column '{column}' of table '{table}' must hold datetimes, found dtype {series.dtype}"
            )
    try:
        times = pd.to_datetime(series)
    except (ValueError, TypeError) as exc:
        raise GraphInputError(
            f"graph features: column '{column}' of table '{table}' cannot be read as datetimes ({exc})"
        ) from None
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.to_numpy(dtype="datetime64[ns]").view("int64")


_NAT = np.iinfo(np.int64).min


# ------------------------------------------------------------------------- helpers


def _unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int64 array.

    ``np.unique`` would do, but its hash-based path (numpy 2.3+) is orders of magnitude
    slower than sorting on these arrays.
    """
    keys = np.sort(keys.astype(np.int64, copy=False))
    if len(keys) == 0:
        return keys
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return keys[first]


def _distinct_per_group(group: np.ndarray, item: np.ndarray, n_groups: int) -> np.ndarray:
    """Number of distinct ``item`` per ``group`` (both non-negative int arrays)."""
    if len(group) == 0:
        return np.zeros(n_groups, dtype=np.int64)
    span = int(item.max()) + 1
    return np.bincount(_unique(group.astype(np.int64) * span + item) // span, minlength=n_groups)


def _count_customers(group: np.ndarray, customer: np.ndarray, own: np.ndarray, n_groups: int,
                     span: int) -> np.ndarray:
    """Distinct known customers per group, the group's own customer excluded."""
    ok = (customer >= 0) & (customer != own)
    keys = _unique(group[ok].astype(np.int64) * span + customer[ok])
    return np.bincount(keys // span, minlength=n_groups)


def _group_max(group: np.ndarray, values: np.ndarray, n_groups: int, fill: float) -> np.ndarray:
    out = np.full(n_groups, -np.inf)
    np.maximum.at(out, group, values)
    out[np.isneginf(out)] = fill
    return out


def _group_min(group: np.ndarray, values: np.ndarray, n_groups: int, fill: float) -> np.ndarray:
    out = np.full(n_groups, np.inf)
    np.minimum.at(out, group, values)
    out[np.isposinf(out)] = fill
    return out


# ------------------------------------------------------------------------ features


def graph_features(
    links: pd.DataFrame,
    instances: pd.DataFrame,
    applications: pd.DataFrame,
    settings: GraphSettings,
    confirmations: pd.DataFrame | None = None,
    *,
    kinds: Sequence[object] | None = None,
    max_neighbours_per_identifier: int = 1000,
) -> pd.DataFrame:
    """Point-in-time identifier-graph features of each instance (see the module docs).

    Parameters
    ----------
    links:
        all sightings: ``settings.instance_column`` (application id),
        ``settings.value_column`` (hashed identifier), ``settings.kind_column`` (if set)
        and ``settings.time_column``.
    instances:
        rows to compute, ``instance_id`` and ``cutoff`` (and optionally ``customer``,
        the instance's own customer; taken from ``applications`` otherwise). Every
        ``instance_id`` must be an application of ``applications``.
    applications:
        every application: ``instance_id``, ``time`` and, when
        ``settings.customer_column`` is set, ``customer``.
    confirmations:
        applications confirmed positive: ``instance_id`` and ``known_at``.
    kinds:
        identifier kinds that get their own columns, in order. Default: the sorted
        distinct kinds of ``links`` (or the pseudo-kind ``any`` without a kind column).
        Serving passes the training kinds so that columns match; sightings of other
        kinds still link applications and count in totals.
    max_neighbours_per_identifier:
        cap on the applications enumerated per identifier (see "Very common
        identifiers" in the module docs).

    Returns
    -------
    DataFrame indexed by ``instance_id`` in the order of ``instances``, one float column
    per feature (:func:`graph_feature_names`).
    """
    s = settings
    with_customers = s.customer_column is not None
    link_cols = [s.instance_column, s.value_column, s.time_column] + ([s.kind_column] if s.kind_column else [])
    _require(links, "links", link_cols)
    _require(instances, "instances", ["instance_id", "cutoff"])
    _require(applications, "applications", ["instance_id", "time"] + (["customer"] if with_customers else []))
    if confirmations is not None:
        _require(confirmations, "confirmations", ["instance_id", "known_at"])
    if max_neighbours_per_identifier < 1:
        raise GraphInputError("graph features: max_neighbours_per_identifier must be at least 1")

    # ---- applications -------------------------------------------------------------
    app_index = pd.Index(applications["instance_id"])
    if not app_index.is_unique:
        dup = app_index[app_index.duplicated()].unique()[:5].tolist()
        raise GraphInputError(f"graph features: table 'applications' repeats instance_id values, e.g. {dup}")
    n_apps = len(app_index)
    app_time = _to_ns(applications["time"], "applications", "time")
    if with_customers:
        cust_codes, cust_uniques = pd.factorize(applications["customer"])
        app_cust = cust_codes.astype(np.int64)  # -1 = unknown
    else:
        cust_uniques = pd.Index([])
        app_cust = np.full(n_apps, -1, dtype=np.int64)

    # ---- instances ----------------------------------------------------------------
    n_inst = len(instances)
    inst_app = app_index.get_indexer(instances["instance_id"])
    if (inst_app < 0).any():
        bad = instances["instance_id"][inst_app < 0].unique()[:5].tolist()
        raise GraphInputError(
            f"graph features: {int((inst_app < 0).sum())} instance(s) of table 'instances' are not in table "
            f"'applications' (e.g. {bad})"
        )
    cutoff = _to_ns(instances["cutoff"], "instances", "cutoff")
    if (cutoff == _NAT).any():
        raise GraphInputError(
            f"graph features: table 'instances' has {int((cutoff == _NAT).sum())} missing 'cutoff' value(s)"
        )
    if with_customers and "customer" in instances.columns:
        own = pd.Index(cust_uniques).get_indexer(instances["customer"])  # -1: not a known customer
        inst_cust = np.where(instances["customer"].isna().to_numpy(), -1, own).astype(np.int64)
        # a customer unknown to `applications` is still "own": it matches nobody, so no exclusion needed
    else:
        inst_cust = app_cust[inst_app]

    # ---- sightings -> edges ---------------------------------------------------------
    l_app = app_index.get_indexer(links[s.instance_column])
    l_time = _to_ns(links[s.time_column], "links", s.time_column)
    l_val_codes, _ = pd.factorize(links[s.value_column])
    if kinds is None and s.kinds is not None:
        kinds = list(s.kinds)
    if s.kind_column:
        kind_series = links[s.kind_column]
        if kinds is None:
            kinds = sorted(pd.unique(kind_series.dropna()).tolist(), key=str)
        kinds = list(kinds)
        l_kind = pd.Index(kinds).get_indexer(kind_series).astype(np.int64)  # -1: no own column
    else:
        kinds = [ANY_KIND] if kinds is None else list(kinds)
        if kinds != [ANY_KIND]:
            raise GraphInputError(f"graph features: without a kind column the only kind is '{ANY_KIND}', got {kinds}")
        l_kind = np.zeros(len(links), dtype=np.int64)
    n_kinds = len(kinds)
    names = graph_feature_names(kinds, s.burst_days, with_customers)

    keep = (l_app >= 0) & (l_time != _NAT) & (l_val_codes >= 0)
    keep &= np.where(l_app >= 0, app_time[np.maximum(l_app, 0)] != _NAT, False)
    sl_app = l_app[keep].astype(np.int64)
    sl_val = l_val_codes[keep].astype(np.int64)
    sl_kind = l_kind[keep]
    sl_vis = np.maximum(l_time[keep], app_time[sl_app])  # when the edge becomes visible

    if s.kind_column and s.group_ignore_kinds:
        grouped = ~links[s.kind_column].isin(s.group_ignore_kinds).to_numpy()[keep]
    else:
        grouped = np.ones(len(sl_app), dtype=bool)
    sight = pd.DataFrame({"app": sl_app, "val": sl_val, "kind": sl_kind, "vis": sl_vis, "grouped": grouped})
    # application--identifier edges (any kind): one per pair, visible from its first sighting
    edges = sight.groupby(["val", "app"], sort=False, as_index=False)["vis"].min()
    edges = edges.sort_values(["val", "vis", "app"], kind="stable", ignore_index=True)
    e_val = edges["val"].to_numpy()
    e_app = edges["app"].to_numpy()
    e_vis = edges["vis"].to_numpy()
    n_vals = int(sl_val.max()) + 1 if len(sl_val) else 0
    block_start = np.searchsorted(e_val, np.arange(n_vals), side="left")

    # the instance's own identifiers, per kind (kind -1 keeps the identifier for totals)
    own_edges = sight.groupby(["app", "kind", "val"], sort=False, as_index=False)["vis"].min()
    inst_frame = pd.DataFrame({"row": np.arange(n_inst, dtype=np.int64), "app": inst_app.astype(np.int64),
                               "cutoff": cutoff})
    ie = inst_frame.merge(own_edges, on="app", how="inner")
    ie = ie[ie["vis"].to_numpy() <= ie["cutoff"].to_numpy()]
    ie = ie.sort_values(["row", "kind", "val"], kind="stable", ignore_index=True)
    j_row = ie["row"].to_numpy()
    j_kind = ie["kind"].to_numpy()
    j_val = ie["val"].to_numpy()
    j_t = ie["cutoff"].to_numpy()
    j_app = ie["app"].to_numpy()

    # visible edges of each identifier as of the instance cutoff: block_start .. pos
    j_start = block_start[j_val] if len(j_val) else np.empty(0, dtype=np.int64)
    if len(j_val):
        stamps = np.unique(np.concatenate([e_vis, j_t]))
        span = len(stamps) + 1
        e_key = e_val * span + np.searchsorted(stamps, e_vis)
        j_pos = np.searchsorted(e_key, j_val * span + np.searchsorted(stamps, j_t), side="right")
    else:
        j_pos = np.empty(0, dtype=np.int64)
    j_others = (j_pos - j_start - 1).astype(np.float64)  # exact, the instance's own edge excluded
    j_age = (j_t - e_vis[j_start]) / NS_PER_DAY if len(j_val) else np.empty(0)

    out: dict[str, np.ndarray] = {}
    kinded = j_kind >= 0

    # ---- identifier ages and counts -------------------------------------------------
    for kcode, kind in enumerate(kinds):
        m = j_kind == kcode
        out[f"{PREFIX}identifier_age_days_{_kind_label(kind)}"] = _group_min(j_row[m], j_age[m], n_inst, np.nan)
    out[f"{PREFIX}identifier_age_days_min"] = _group_min(j_row, j_age, n_inst, np.nan)
    out[f"{PREFIX}identifier_age_days_max"] = _group_max(j_row, j_age, n_inst, np.nan)
    out[f"{PREFIX}identifiers"] = _distinct_per_group(j_row, j_val, n_inst).astype(np.float64)
    max_ident_apps = _group_max(j_row, j_others, n_inst, 0.0)
    out[f"{PREFIX}shared_apps_max_identifier"] = max_ident_apps
    kind_max_apps = _group_max(j_row[kinded] * n_kinds + j_kind[kinded], j_others[kinded], n_inst * n_kinds, 0.0)

    # ---- shared, confirmed and burst counts from enumerated pairs ----------------------
    conf_time = np.full(n_apps, np.iinfo(np.int64).max, dtype=np.int64)  # first known_at per application
    if confirmations is not None and len(confirmations):
        c_app = app_index.get_indexer(confirmations["instance_id"])
        c_known = _to_ns(confirmations["known_at"], "confirmations", "known_at")
        ok = (c_app >= 0) & (c_known != _NAT)
        np.minimum.at(conf_time, c_app[ok], c_known[ok])
    shared_total = np.zeros(n_inst, dtype=np.int64)
    shared_kind = np.zeros(n_inst * n_kinds, dtype=np.int64)
    cust_total = np.zeros(n_inst, dtype=np.int64)
    cust_kind = np.zeros(n_inst * n_kinds, dtype=np.int64)
    cust_ident = np.zeros(len(j_row), dtype=np.int64)
    shared_confirmed = np.zeros(n_inst, dtype=np.int64)
    bursts = {int(d): np.zeros(n_inst, dtype=np.int64) for d in s.burst_days}

    j_lo = np.maximum(j_start, j_pos - (max_neighbours_per_identifier + 1))
    j_len = j_pos - j_lo
    span_app = max(n_apps, 1)
    span_cust = max(len(cust_uniques), 1)
    for a, b in _chunks(j_row, j_len, _MAX_PAIRS_PER_CHUNK):
        lens = j_len[a:b]
        total = int(lens.sum())
        if total == 0:
            continue
        # pairs (instance identifier row j, visible edge q of the same identifier)
        pj = np.repeat(np.arange(a, b), lens)
        q = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(j_lo[a:b], lens)
        other = e_app[q]
        mine = other != j_app[pj]
        pj, other = pj[mine], other[mine]

        # distinct (instance, other application): totals, bursts and customers follow from it
        ro = _unique(j_row[pj] * span_app + other)
        r, o = ro // span_app, ro % span_app
        shared_total += np.bincount(r, minlength=n_inst)
        shared_confirmed += np.bincount(r[conf_time[o] <= cutoff[r]], minlength=n_inst)
        for d, acc in bursts.items():
            recent = app_time[o] > cutoff[r] - d * NS_PER_DAY
            acc += np.bincount(r[recent], minlength=n_inst)
        # distinct (instance, kind, other application)
        pk_ok = j_kind[pj] >= 0
        rko = _unique((j_row[pj[pk_ok]] * n_kinds + j_kind[pj[pk_ok]]) * span_app + other[pk_ok])
        rk, ko = rko // span_app, rko % span_app
        shared_kind += np.bincount(rk, minlength=n_inst * n_kinds)
        if with_customers:
            cust_total += _count_customers(r, app_cust[o], inst_cust[r], n_inst, span_cust)
            cust_kind += _count_customers(rk, app_cust[ko], inst_cust[rk // max(n_kinds, 1)], n_inst * n_kinds,
                                          span_cust)
            cust_ident += _count_customers(pj, app_cust[other], inst_cust[j_row[pj]], len(j_row), span_cust)

    # very common identifiers: never report fewer sharers than one identifier has exactly
    shared_kind = np.maximum(shared_kind, kind_max_apps).reshape(n_inst, n_kinds)
    out[f"{PREFIX}shared_apps_total"] = np.maximum(shared_total, max_ident_apps)
    out[f"{PREFIX}shared_confirmed"] = shared_confirmed
    cust_kind = cust_kind.reshape(n_inst, n_kinds)
    for kcode, kind in enumerate(kinds):
        k = _kind_label(kind)
        out[f"{PREFIX}shared_apps_{k}"] = shared_kind[:, kcode]
        if with_customers:
            out[f"{PREFIX}shared_customers_{k}"] = cust_kind[:, kcode]
    if with_customers:
        out[f"{PREFIX}shared_customers_total"] = cust_total
        out[f"{PREFIX}shared_customers_max_identifier"] = _group_max(j_row, cust_ident.astype(float), n_inst, 0.0)
    for d, acc in bursts.items():
        out[f"{PREFIX}burst_apps_{d}d"] = acc

    # ---- connected groups -------------------------------------------------------------
    # connected groups use only the kinds that may join them (settings.group_ignore_kinds)
    g_edges = sight[sight["grouped"]].groupby(["val", "app"], sort=False, as_index=False)["vis"].min()
    g_edges = g_edges.sort_values(["val", "vis", "app"], kind="stable", ignore_index=True)
    groups = group_features(GroupInputs(
        edge_app=g_edges["app"].to_numpy(), edge_val=g_edges["val"].to_numpy(), edge_vis=g_edges["vis"].to_numpy(),
        n_apps=n_apps, app_customer=app_cust,
        confirmed_at=conf_time, query_app=inst_app.astype(np.int64), query_time=cutoff,
        with_customers=with_customers,
    ))
    out[f"{PREFIX}group_apps"] = groups["apps"]
    out[f"{PREFIX}group_identifiers"] = groups["identifiers"]
    if with_customers:
        out[f"{PREFIX}group_customers"] = groups["customers"]
    out[f"{PREFIX}group_links"] = groups["links"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[f"{PREFIX}group_density"] = np.where(
            groups["identifiers"] > 0, groups["links"] / (groups["apps"] * groups["identifiers"]), np.nan
        )
    out[f"{PREFIX}group_cycles"] = groups["links"] - groups["apps"] - groups["identifiers"] + 1
    out[f"{PREFIX}group_confirmed"] = groups["confirmed_others"]
    others = groups["apps"] - 1
    out[f"{PREFIX}group_confirmed_share"] = np.where(
        others > 0, groups["confirmed_others"] / np.maximum(others, 1), 0.0
    )

    frame = pd.DataFrame({name: np.asarray(out[name], dtype=np.float64) for name in names},
                         index=pd.Index(instances["instance_id"].to_numpy(), name="instance_id"))
    return frame


def _chunks(rows: np.ndarray, lengths: np.ndarray, budget: int):
    """Split the (row-sorted) pair ranges into [a, b) chunks of whole rows, ~budget pairs each."""
    n = len(rows)
    if n == 0:
        return
    cum = np.cumsum(lengths)
    a = 0
    while a < n:
        base = cum[a - 1] if a else 0
        b = int(np.searchsorted(cum, base + budget, side="right"))
        b = max(b, a + 1)
        # extend to the end of the current instance row so each row is in one chunk
        if b < n:
            b = int(np.searchsorted(rows, rows[b - 1], side="right"))
        yield a, b
        a = b


_DESCRIPTIONS = {
    "shared_apps_total": "other applications sharing any identifier with this one",
    "shared_customers_total": "other customers sharing any identifier with this application",
    "shared_confirmed": "other applications sharing any identifier with this one, already confirmed as fraud",
    "shared_apps_max_identifier": "most other applications on one single identifier of this application",
    "shared_customers_max_identifier": "most other customers on one single identifier of this application",
    "identifiers": "distinct identifiers of this application",
    "group_apps": "applications in this application's connected identifier group",
    "group_identifiers": "identifiers in this application's connected group",
    "group_customers": "customers in this application's connected group",
    "group_links": "application-identifier links in this application's connected group",
    "group_density": "density of this application's identifier group (links / (applications x identifiers))",
    "group_cycles": "independent cycles in this application's identifier group (0 for a star, high for a ring)",
    "group_confirmed": "other applications of the group already confirmed as fraud",
    "group_confirmed_share": "share of the group's other applications already confirmed as fraud",
    "identifier_age_days_min": "days since the youngest identifier of this application was first seen",
    "identifier_age_days_max": "days since the oldest identifier of this application was first seen",
}


def describe_graph_feature(name: str) -> str:
    """A sentence for a graph feature name, as of the application's cutoff time."""
    key = name[len(PREFIX):] if name.startswith(PREFIX) else name
    if key in _DESCRIPTIONS:
        text = _DESCRIPTIONS[key]
    elif m := re.fullmatch(r"burst_apps_(\d+)d", key):
        text = f"other applications sharing an identifier with this one in the last {m.group(1)} days"
    elif m := re.fullmatch(r"shared_(apps|customers)_(.+)", key):
        text = f"other {'applications' if m.group(1) == 'apps' else 'customers'} sharing this application's {m.group(2)}"
    elif m := re.fullmatch(r"identifier_age_days_(.+)", key):
        text = f"days since this application's {m.group(1)} was first seen by anyone"
    else:
        text = key.replace("_", " ")
    return f"Graph: {text}, as of the cutoff."
