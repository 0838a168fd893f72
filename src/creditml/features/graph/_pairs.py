"""Pairs (instance, other application sharing one of its identifiers), in chunks.

Counting *distinct* other applications over several identifiers needs the pairs
themselves. For an identifier shared by more applications than the cap as of the
cutoff, only the most recent ``cap`` ones (by the time their edge became visible) are
enumerated, so one public IP cannot blow up time and memory; the rule looks only at
data at or before the cutoff. Chunks hold whole instances, so a count summed over
chunks is a count of distinct pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from creditml.features.graph._arrays import chunks, unique
from creditml.features.graph._edges import Edges, OwnIdentifiers

MAX_PAIRS_PER_CHUNK = 1_000_000


@dataclass(frozen=True)
class PairChunk:
    """Pairs of a chunk of whole instances.

    ``ident``/``other``: per (own identifier row, other application on it), the
    instance's own application excluded. ``row``/``app``: the distinct
    (instance row, other application) among them, sorted.
    """

    ident: np.ndarray
    other: np.ndarray
    row: np.ndarray
    app: np.ndarray


def neighbour_pairs(own: OwnIdentifiers, edges: Edges, n_apps: int, cap: int) -> Iterator[PairChunk]:
    lo = np.maximum(own.start, own.stop - (cap + 1))  # the cap others, plus possibly the instance itself
    length = own.stop - lo
    span_app = max(n_apps, 1)
    for a, b in chunks(own.row, length, MAX_PAIRS_PER_CHUNK):
        lens = length[a:b]
        total = int(lens.sum())
        if total == 0:
            continue
        ident = np.repeat(np.arange(a, b), lens)
        # edge index of each pair: the identifier's window start plus the pair's offset in it
        q = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(lo[a:b], lens)
        other = edges.app[q]
        mine = other != own.app[ident]
        ident, other = ident[mine], other[mine]
        ro = unique(own.row[ident] * span_app + other)
        yield PairChunk(ident, other, ro // span_app, ro % span_app)
