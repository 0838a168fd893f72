"""``graph_features``: the input tables in, one float column per graph feature out.

The steps, in order: check and code the tables (:mod:`._inputs`), sightings to edges
and each instance's own identifiers at its cutoff (:mod:`._edges`), then the feature
families: identifier ages and counts (:mod:`._identifiers`), sharing counts, bursts and
confirmed neighbours from one enumeration of neighbour pairs (:mod:`._pairs`,
:mod:`._sharing`, :mod:`._bursts`, :mod:`._confirmed`) and connected groups
(:mod:`._groups`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from creditml.config import GraphSettings
from creditml.features.graph._bursts import BurstCounts
from creditml.features.graph._confirmed import ConfirmedNeighbours, confirmed_at, group_confirmed_columns
from creditml.features.graph._edges import Sightings, edges_of, first_visible_edges, own_identifiers, read_sightings
from creditml.features.graph._groups import GroupInputs, group_columns, group_sizes
from creditml.features.graph._identifiers import identifier_columns
from creditml.features.graph._inputs import Applications, Instances, check_tables, read_applications, read_instances
from creditml.features.graph._names import graph_feature_names
from creditml.features.graph._pairs import neighbour_pairs
from creditml.features.graph._sharing import SharingCounts


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
    """Point-in-time identifier-graph features of each instance (see ``docs/graph-features.md``).

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
        identifiers" in ``docs/graph-features.md``).

    Returns
    -------
    DataFrame indexed by ``instance_id`` in the order of ``instances``, one float column
    per feature (:func:`graph_feature_names`).
    """
    check_tables(links, instances, applications, confirmations, settings, max_neighbours_per_identifier)
    with_customers = settings.customer_column is not None
    apps = read_applications(applications, with_customers)
    inst = read_instances(instances, apps, with_customers)
    sightings = read_sightings(links, settings, apps, kinds)
    first_confirmed = confirmed_at(confirmations, apps)
    out = coded_graph_features(sightings, apps, inst, first_confirmed, settings, max_neighbours_per_identifier)
    return pd.DataFrame(out, index=pd.Index(instances["instance_id"].to_numpy(), name="instance_id"))


def coded_graph_features(sightings: Sightings, apps: Applications, inst: Instances, first_confirmed: np.ndarray,
                         settings: GraphSettings, max_neighbours_per_identifier: int = 1000) -> dict[str, np.ndarray]:
    """:func:`graph_features` of inputs already coded (``read_*`` or a served record's own
    coder): one float64 array per feature, in :func:`graph_feature_names` order."""
    with_customers = settings.customer_column is not None
    names = graph_feature_names(sightings.kinds, settings.burst_days, with_customers)
    out = _neighbour_columns(sightings, apps, inst, settings, first_confirmed, max_neighbours_per_identifier)
    groups = _groups_at_cutoffs(sightings, apps, inst, first_confirmed, with_customers)
    out |= group_columns(groups, with_customers) | group_confirmed_columns(groups)
    return {name: np.asarray(out[name], dtype=np.float64) for name in names}


def _neighbour_columns(sightings: Sightings, apps: Applications, inst: Instances, settings: GraphSettings,
                       first_confirmed: np.ndarray, cap: int) -> dict[str, np.ndarray]:
    """Every feature of the instance's own identifiers and its direct neighbours."""
    edges = edges_of(sightings)
    own = own_identifiers(sightings, inst, edges)
    sharing = SharingCounts(own, apps, inst, len(sightings.kinds), settings.customer_column is not None)
    bursts = BurstCounts(settings.burst_days, apps, inst)
    confirmed = ConfirmedNeighbours(first_confirmed, inst)
    for pairs in neighbour_pairs(own, edges, apps.n, cap):
        sharing.add(pairs)
        bursts.add(pairs)
        confirmed.add(pairs)
    return (identifier_columns(own, sightings.kinds, inst.n) | sharing.columns(sightings.kinds)
            | bursts.columns() | confirmed.columns())


def _groups_at_cutoffs(sightings: Sightings, apps: Applications, inst: Instances, first_confirmed: np.ndarray,
                       with_customers: bool) -> dict[str, np.ndarray]:
    """Connected-group sizes per instance, over the kinds that may join groups."""
    keep = sightings.grouped
    edge_val, edge_app, edge_vis = first_visible_edges(sightings.val[keep], sightings.app[keep], sightings.vis[keep])
    return group_sizes(GroupInputs(
        edge_app=edge_app, edge_val=edge_val, edge_vis=edge_vis,
        n_apps=apps.n, app_customer=apps.customer, confirmed_at=first_confirmed,
        query_app=inst.app.astype(np.int64), query_time=inst.cutoff, with_customers=with_customers,
    ))
