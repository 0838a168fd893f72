"""Point-in-time graph features over an identifier graph (fraud rings).

Applications and the identifiers sighted on them (device, phone, IP, ... hashed) form a
bipartite graph; each instance is described as of its cutoff, and nothing dated after
the cutoff can change any of its features. ``docs/graph-features.md`` defines the
graph, the time rule and every feature; :func:`describe_graph_feature` gives each
feature's sentence at runtime.

One private module per feature family: ``_identifiers`` (the instance's own identifiers
and their ages), ``_sharing`` (applications and customers sharing them), ``_bursts``
(recent sharers), ``_confirmed`` (confirmed positives around the instance), ``_groups``
(connected groups); ``_inputs``, ``_kinds``, ``_edges`` and ``_pairs`` prepare what
they share, and ``_compute`` runs them in order. ``graph_features`` reads pandas tables;
``coded_graph_features`` takes inputs already coded as arrays (the served scorer codes a
request's rows itself, see ``creditml.model.graph_records``).
"""

from creditml.features.graph._compute import coded_graph_features, graph_features
from creditml.features.graph._edges import Sightings, coded_sightings
from creditml.features.graph._inputs import NAT, NEVER, NS_PER_DAY, Applications, GraphInputError, Instances
from creditml.features.graph._kinds import graph_kinds
from creditml.features.graph._names import ANY_KIND, PREFIX, describe_graph_feature, graph_feature_names

__all__ = [
    "ANY_KIND",
    "NAT",
    "NEVER",
    "NS_PER_DAY",
    "Applications",
    "Instances",
    "Sightings",
    "coded_graph_features",
    "coded_sightings",
    "PREFIX",
    "GraphInputError",
    "describe_graph_feature",
    "graph_feature_names",
    "graph_features",
    "graph_kinds",
]
