"""Sightings to edges, and each instance's own identifiers as of its cutoff.

A sighting exists when its own time, its application and its application's time are
known; its edge ``application -- identifier`` becomes visible at
``max(sighting time, application time)``. An identifier is coded by its value alone,
so two kinds sharing a value share the node. Edges are kept sorted by (identifier,
visible time, application), so the edges of one identifier visible at a time ``t`` are
one contiguous block: ``block_start[value] .. searchsorted(t)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditml.config import GraphSettings
from creditml.features.graph._inputs import NAT, NS_PER_DAY, Applications, Instances, to_ns
from creditml.features.graph._kinds import sighting_kinds


@dataclass(frozen=True)
class Sightings:
    """Usable sightings as parallel arrays (``app``, ``val`` and ``kind`` codes, ``vis``
    time, ``grouped``), the kinds with their own columns and the number of identifier codes."""

    app: np.ndarray
    val: np.ndarray
    kind: np.ndarray
    vis: np.ndarray
    grouped: np.ndarray
    kinds: list[object]
    n_vals: int


def read_sightings(links: pd.DataFrame, settings: GraphSettings, apps: Applications,
                   kinds: Sequence[object] | None) -> Sightings:
    s = settings
    l_app = apps.index.get_indexer(links[s.instance_column])
    l_time = to_ns(links[s.time_column], "links", s.time_column)
    l_val_codes, _ = pd.factorize(links[s.value_column])
    kinds, l_kind = sighting_kinds(links, s, kinds)
    ignored = links[s.kind_column].isin(s.group_ignore_kinds).to_numpy() \
        if s.kind_column and s.group_ignore_kinds else None
    return coded_sightings(l_app, l_time, l_val_codes, l_kind, ignored, apps, kinds)


def coded_sightings(l_app: np.ndarray, l_time: np.ndarray, l_val: np.ndarray, l_kind: np.ndarray,
                    ignored: np.ndarray | None, apps: Applications, kinds: list[object]) -> Sightings:
    """The usable sightings of the link rows, given per row its application code (-1 unknown),
    time (int64 ns, :data:`NAT`), identifier code (-1 missing, codes by first appearance), kind
    code (-1 without its own column) and whether its kind is left out of groups."""
    keep = (l_app >= 0) & (l_time != NAT) & (l_val >= 0)
    keep &= np.where(l_app >= 0, apps.time[np.maximum(l_app, 0)] != NAT, False)
    app = l_app[keep].astype(np.int64)
    vis = np.maximum(l_time[keep], apps.time[app])  # when the edge becomes visible
    grouped = np.ones(len(app), dtype=bool) if ignored is None else ~ignored[keep]
    val = l_val[keep].astype(np.int64)
    return Sightings(app, val, l_kind[keep], vis, grouped, kinds, int(val.max()) + 1 if len(val) else 0)


def _first_of_groups(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort order by ``keys`` (first key most significant) and the start of each run of equal keys."""
    order = np.lexsort(keys[::-1])
    new = np.zeros(len(order), dtype=bool)
    if len(order):
        new[0] = True
        for key in keys:
            k = key[order]
            new[1:] |= k[1:] != k[:-1]
    return order, np.flatnonzero(new)


def first_visible_edges(val: np.ndarray, app: np.ndarray, vis: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One edge per (identifier, application), visible from its first sighting, as arrays
    ``(val, app, vis)`` sorted by identifier, visible time and application."""
    if not len(val):
        return val.astype(np.int64), app.astype(np.int64), vis.astype(np.int64)
    order, starts = _first_of_groups(val, app)
    first = np.minimum.reduceat(vis[order], starts)
    val, app = val[order][starts], app[order][starts]
    order = np.lexsort((app, first, val))
    return val[order], app[order], first[order]


@dataclass(frozen=True)
class Edges:
    """All application--identifier edges (any kind), sorted as :func:`first_visible_edges`."""

    val: np.ndarray
    app: np.ndarray
    vis: np.ndarray
    block_start: np.ndarray  # per identifier code, its first edge


def edges_of(sightings: Sightings) -> Edges:
    val, app, vis = first_visible_edges(sightings.val, sightings.app, sightings.vis)
    return Edges(val, app, vis, np.searchsorted(val, np.arange(sightings.n_vals), side="left"))


@dataclass(frozen=True)
class OwnIdentifiers:
    """One row per (instance, kind, identifier) visible at the instance's cutoff, sorted
    by instance row, kind and identifier; kind -1 keeps an identifier for the totals."""

    row: np.ndarray  # instance row
    kind: np.ndarray  # kind code, -1 without its own column
    val: np.ndarray  # identifier code
    cutoff: np.ndarray  # the instance's cutoff, int64 ns
    app: np.ndarray  # the instance's application code
    start: np.ndarray  # the identifier's first edge in ``Edges``
    stop: np.ndarray  # one past its last edge visible at the cutoff
    others: np.ndarray  # exact number of other applications on the identifier (float)
    age_days: np.ndarray  # days from the identifier's first sighting by anyone to the cutoff

    def __len__(self) -> int:
        return len(self.row)


def own_identifiers(sightings: Sightings, instances: Instances, edges: Edges) -> OwnIdentifiers:
    # each application's (kind, identifier) edges, visible from their first sighting, by application
    s = sightings
    order, starts = _first_of_groups(s.app, s.kind, s.val)
    e_app, e_kind, e_val = s.app[order][starts], s.kind[order][starts], s.val[order][starts]
    e_vis = np.minimum.reduceat(s.vis[order], starts) if len(starts) else s.vis[:0]
    # every instance row with its application's edges, rows in order, then (kind, identifier)
    inst_app = instances.app.astype(np.int64)
    lo, hi = np.searchsorted(e_app, inst_app, side="left"), np.searchsorted(e_app, inst_app, side="right")
    per_row = hi - lo
    row = np.repeat(np.arange(instances.n, dtype=np.int64), per_row)
    edge = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(per_row) - per_row - lo, per_row)
    cutoff = instances.cutoff[row]
    seen = e_vis[edge] <= cutoff
    row, edge, cutoff = row[seen], edge[seen], cutoff[seen]
    val = e_val[edge]
    start, stop = _visible_block(edges, val, cutoff)
    others = (stop - start - 1).astype(np.float64)  # exact, the instance's own edge excluded
    age_days = (cutoff - edges.vis[start]) / NS_PER_DAY if len(val) else np.empty(0)
    return OwnIdentifiers(row, e_kind[edge], val, cutoff, e_app[edge], start, stop, others, age_days)


def _visible_block(edges: Edges, val: np.ndarray, cutoff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per (identifier, cutoff): the edges of the identifier visible at the cutoff, [start, stop)."""
    if not len(val):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    # rank times among all stamps so (identifier, time) packs into one sortable int64 key
    stamps = np.unique(np.concatenate([edges.vis, cutoff]))
    span = len(stamps) + 1
    edge_key = edges.val * span + np.searchsorted(stamps, edges.vis)
    stop = np.searchsorted(edge_key, val * span + np.searchsorted(stamps, cutoff), side="right")
    return edges.block_start[val], stop
