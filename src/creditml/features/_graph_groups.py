"""Connected groups of the identifier graph as of each query time (helper of ``graph``).

One pass over a time-ordered event stream:

* ``edge``: an application--identifier edge becomes visible (time = max of sighting and
  application time, the first time that pair is seen);
* ``confirm``: an application becomes a known positive (its first ``known_at``);
* ``query``: an instance asks for its group as of its cutoff.

At equal times edges and confirmations come before queries, so a row stamped exactly
at the cutoff is included. Connectivity is kept by scipy's incremental union-find
(:class:`scipy.cluster.hierarchy.DisjointSet`); per-group aggregates (applications,
identifiers, edges, confirmed applications, customer set) live in dicts keyed by the
group root and are combined when two groups merge (customer sets small into large).
Events after the last query are never processed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import DisjointSet

_EDGE, _CONFIRM, _QUERY = 0, 1, 2


@dataclass(frozen=True)
class GroupInputs:
    edge_app: np.ndarray  # application code per edge (distinct (app, value) pairs)
    edge_val: np.ndarray  # identifier code per edge
    edge_vis: np.ndarray  # int64 ns at which the edge becomes visible
    n_apps: int
    app_customer: np.ndarray  # customer code per application, -1 unknown
    confirmed_at: np.ndarray  # int64 ns of the first known_at per application, int64 max if never
    query_app: np.ndarray  # application code per query
    query_time: np.ndarray  # int64 ns cutoff per query
    with_customers: bool


def group_features(inp: GroupInputs) -> dict[str, np.ndarray]:
    """Per query: ``apps``, ``identifiers``, ``links``, ``customers``, ``confirmed_others``."""
    n_q = len(inp.query_app)
    res = {k: np.zeros(n_q, dtype=np.float64) for k in ("apps", "identifiers", "links", "customers",
                                                         "confirmed_others")}
    if n_q == 0:
        return res
    horizon = int(inp.query_time.max())

    e_ok = inp.edge_vis <= horizon
    conf_apps = np.flatnonzero(inp.confirmed_at <= horizon)
    times = np.concatenate([inp.edge_vis[e_ok], inp.confirmed_at[conf_apps], inp.query_time])
    types = np.concatenate([np.full(int(e_ok.sum()), _EDGE), np.full(len(conf_apps), _CONFIRM),
                            np.full(n_q, _QUERY)])
    # payload: edge index, application code, query index
    payload = np.concatenate([np.flatnonzero(e_ok), conf_apps, np.arange(n_q)])
    order = np.lexsort((types, times))
    types_l = types[order].tolist()
    payload_l = payload[order].tolist()

    n_apps = inp.n_apps
    e_app = inp.edge_app.tolist()
    e_val = inp.edge_val.tolist()
    cust = inp.app_customer.tolist()
    q_app = inp.query_app.tolist()
    with_c = inp.with_customers

    ds = DisjointSet()
    n_app_of: dict[int, int] = {}
    n_id_of: dict[int, int] = {}
    n_link_of: dict[int, int] = {}
    n_conf_of: dict[int, int] = {}
    custs_of: dict[int, set] = {}
    confirmed = bytearray(n_apps)

    out_apps = res["apps"]
    out_ids = res["identifiers"]
    out_links = res["links"]
    out_custs = res["customers"]
    out_conf = res["confirmed_others"]

    def new_app(a: int) -> None:
        ds.add(a)
        n_app_of[a] = 1
        n_id_of[a] = 0
        n_link_of[a] = 0
        n_conf_of[a] = confirmed[a]
        if with_c:
            custs_of[a] = {cust[a]} if cust[a] >= 0 else set()

    for typ, p in zip(types_l, payload_l):
        if typ == _EDGE:
            a = e_app[p]
            v = n_apps + e_val[p]  # identifier nodes live after application nodes
            if a not in ds:
                new_app(a)
            if v not in ds:
                ds.add(v)
                n_app_of[v] = 0
                n_id_of[v] = 1
                n_link_of[v] = 0
                n_conf_of[v] = 0
                if with_c:
                    custs_of[v] = set()
            ra, rv = ds[a], ds[v]
            if ra != rv:
                ds.merge(ra, rv)
                root = ds[ra]
                child = rv if root == ra else ra
                n_app_of[root] += n_app_of.pop(child)
                n_id_of[root] += n_id_of.pop(child)
                n_link_of[root] += n_link_of.pop(child)
                n_conf_of[root] += n_conf_of.pop(child)
                if with_c:
                    small, large = custs_of.pop(child), custs_of[root]
                    if len(small) > len(large):
                        small, large = large, small
                        custs_of[root] = large
                    large |= small
            else:
                root = ra
            n_link_of[root] += 1
        elif typ == _CONFIRM:
            if not confirmed[p]:
                confirmed[p] = 1
                if p in ds:
                    n_conf_of[ds[p]] += 1
        else:
            a = q_app[p]
            if a in ds:
                root = ds[a]
                out_apps[p] = n_app_of[root]
                out_ids[p] = n_id_of[root]
                out_links[p] = n_link_of[root]
                out_conf[p] = n_conf_of[root] - confirmed[a]
                if with_c:
                    out_custs[p] = len(custs_of[root])
            else:  # no visible identifier: a group of one application
                out_apps[p] = 1
                if with_c:
                    out_custs[p] = 1 if cust[a] >= 0 else 0
    return res
