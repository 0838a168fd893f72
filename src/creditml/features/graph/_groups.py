"""Connected groups of the identifier graph as of each instance's cutoff.

The group of an instance is its connected component in the bipartite graph of visible
application--identifier edges (identifiers of ``settings.group_ignore_kinds`` left
out); an instance with no visible identifier is a group of one application. Columns
``group_apps``, ``group_identifiers``, ``group_customers``, ``group_links``,
``group_density`` (``links / (apps * identifiers)``, NaN without identifiers) and
``group_cycles`` (the cycle rank ``links - apps - identifiers + 1``: 0 for any tree,
so for every dandelion).

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

from creditml.features.graph._names import PREFIX

_EDGE, _CONFIRM, _QUERY = 0, 1, 2
SIZES = ("apps", "identifiers", "links", "customers", "confirmed_others")


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


def group_sizes(inp: GroupInputs) -> dict[str, np.ndarray]:
    """Per query, the float arrays named in :data:`SIZES`."""
    n_q = len(inp.query_app)
    res = {k: np.zeros(n_q, dtype=np.float64) for k in SIZES}
    if n_q == 0:
        return res
    types, payload = _event_stream(inp)
    forest = _GroupForest(inp.n_apps, inp.app_customer.tolist(), inp.with_customers)
    e_app, e_val, q_app = inp.edge_app.tolist(), inp.edge_val.tolist(), inp.query_app.tolist()
    n_apps = inp.n_apps
    for typ, p in zip(types, payload):
        if typ == _EDGE:
            forest.add_edge(e_app[p], n_apps + e_val[p])  # identifier nodes live after application nodes
        elif typ == _CONFIRM:
            forest.confirm(p)
        else:
            for key, value in zip(SIZES, forest.sizes(q_app[p])):
                res[key][p] = value
    return res


def _event_stream(inp: GroupInputs) -> tuple[list[int], list[int]]:
    """Event types and payloads (edge index, application code, query index) in time order."""
    horizon = int(inp.query_time.max())
    e_ok = inp.edge_vis <= horizon
    conf_apps = np.flatnonzero(inp.confirmed_at <= horizon)
    n_q = len(inp.query_app)
    times = np.concatenate([inp.edge_vis[e_ok], inp.confirmed_at[conf_apps], inp.query_time])
    types = np.concatenate([np.full(int(e_ok.sum()), _EDGE), np.full(len(conf_apps), _CONFIRM),
                            np.full(n_q, _QUERY)])
    payload = np.concatenate([np.flatnonzero(e_ok), conf_apps, np.arange(n_q)])
    order = np.lexsort((types, times))
    return types[order].tolist(), payload[order].tolist()


class _GroupForest:
    """Union-find over application and identifier nodes, with each group's sizes at its root."""

    def __init__(self, n_apps: int, app_customer: list[int], with_customers: bool):
        self.ds = DisjointSet()
        self.customer, self.with_customers = app_customer, with_customers
        self.confirmed = bytearray(n_apps)
        self.n_apps: dict[int, int] = {}
        self.n_ids: dict[int, int] = {}
        self.n_links: dict[int, int] = {}
        self.n_confirmed: dict[int, int] = {}
        self.customers: dict[int, set] = {}

    def _add_node(self, node: int, is_app: bool) -> None:
        self.ds.add(node)
        self.n_apps[node] = int(is_app)
        self.n_ids[node] = int(not is_app)
        self.n_links[node] = 0
        self.n_confirmed[node] = self.confirmed[node] if is_app else 0
        if self.with_customers:
            c = self.customer[node] if is_app else -1
            self.customers[node] = {c} if c >= 0 else set()

    def add_edge(self, app: int, ident: int) -> None:
        if app not in self.ds:
            self._add_node(app, is_app=True)
        if ident not in self.ds:
            self._add_node(ident, is_app=False)
        ra, rv = self.ds[app], self.ds[ident]
        root = self._merge(ra, rv) if ra != rv else ra
        self.n_links[root] += 1

    def _merge(self, ra: int, rv: int) -> int:
        self.ds.merge(ra, rv)
        root = self.ds[ra]
        child = rv if root == ra else ra
        for sizes in (self.n_apps, self.n_ids, self.n_links, self.n_confirmed):
            sizes[root] += sizes.pop(child)
        if self.with_customers:
            small, large = self.customers.pop(child), self.customers[root]
            if len(small) > len(large):
                small, large = large, small
                self.customers[root] = large
            large |= small
        return root

    def confirm(self, app: int) -> None:
        if not self.confirmed[app]:
            self.confirmed[app] = 1
            if app in self.ds:
                self.n_confirmed[self.ds[app]] += 1

    def sizes(self, app: int) -> tuple[int, int, int, int, int]:
        """apps, identifiers, links, customers, confirmed others of ``app``'s group."""
        if app not in self.ds:  # no visible identifier: a group of one application
            return 1, 0, 0, (1 if self.with_customers and self.customer[app] >= 0 else 0), 0
        root = self.ds[app]
        customers = len(self.customers[root]) if self.with_customers else 0
        return (self.n_apps[root], self.n_ids[root], self.n_links[root], customers,
                self.n_confirmed[root] - self.confirmed[app])


def group_columns(groups: dict[str, np.ndarray], with_customers: bool) -> dict[str, np.ndarray]:
    """Group size, density and cycle rank from :func:`group_sizes`."""
    apps, ids, links = groups["apps"], groups["identifiers"], groups["links"]
    out = {f"{PREFIX}group_apps": apps, f"{PREFIX}group_identifiers": ids}
    if with_customers:
        out[f"{PREFIX}group_customers"] = groups["customers"]
    out[f"{PREFIX}group_links"] = links
    with np.errstate(divide="ignore", invalid="ignore"):
        out[f"{PREFIX}group_density"] = np.where(ids > 0, links / (apps * ids), np.nan)
    out[f"{PREFIX}group_cycles"] = links - apps - ids + 1
    return out
