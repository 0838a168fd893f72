"""Identifier kinds: which kinds get their own columns, and the kind code of each sighting."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from creditml.config import GraphSettings
from creditml.features.graph._inputs import GraphInputError, require, to_ns
from creditml.features.graph._names import ANY_KIND


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
    require(links, "links", [settings.kind_column, settings.time_column])
    rows = links
    if until is not None:
        rows = links[to_ns(links[settings.time_column], "links", settings.time_column) <= pd.Timestamp(until).value]
    return sorted(pd.unique(rows[settings.kind_column].dropna()).tolist(), key=str)


def sighting_kinds(links: pd.DataFrame, settings: GraphSettings,
                   kinds: Sequence[object] | None) -> tuple[list[object], np.ndarray]:
    """The kinds with their own columns, and per sighting its position among them.

    ``kinds`` falls back to ``settings.kinds``, then to every kind in ``links``. A
    sighting of a kind without its own column gets code -1: it still links applications
    and counts in the totals.
    """
    if kinds is None and settings.kinds is not None:
        kinds = list(settings.kinds)
    if settings.kind_column:
        kind_series = links[settings.kind_column]
        if kinds is None:
            kinds = sorted(pd.unique(kind_series.dropna()).tolist(), key=str)
        kinds = list(kinds)
        return kinds, pd.Index(kinds).get_indexer(kind_series).astype(np.int64)
    kinds = [ANY_KIND] if kinds is None else list(kinds)
    if kinds != [ANY_KIND]:
        raise GraphInputError(
            f"graph features: without a kind column the only kind is '{ANY_KIND}', got {kinds}; "
            "set settings.kind_column or pass kinds=None"
        )
    return kinds, np.zeros(len(links), dtype=np.int64)
