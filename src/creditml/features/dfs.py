"""Candidate feature definitions: featuretools DFS driven by :class:`FeatureSettings`."""

from __future__ import annotations

import itertools
import warnings

import featuretools as ft
import pandas as pd
from featuretools.primitives import TimeSince
from woodwork.logical_types import Datetime

from creditml.config import FeatureSettings
from creditml.errors import ConfigError
from creditml.features.entityset import LABEL_DATE, LABEL_KNOWN_AT
from creditml.features.primitives import DaysBetween, Roundness, credit_primitives

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")
# DFS warns when a primitive found no column to apply to; with a candidate cap that is expected
warnings.filterwarnings("ignore", message="Some specified primitives were not used")


def add_interesting_values(es: ft.EntitySet, target: str, max_values: int, until: pd.Timestamp | None) -> None:
    """Most frequent categories of each table, counted on rows known by ``until``.

    Interesting values become where-clauses (``COUNT(actions WHERE outcome = refused)``).
    Counting only rows dated up to the last training cutoff keeps future data out of the
    definitions themselves.
    """
    if max_values <= 0:
        return
    for df in es.dataframes:
        frame = df
        if until is not None and df.ww.time_index:
            frame = df[df[df.ww.time_index] <= until]
        values = {}
        for col in df.ww.select("category", return_schema=True).columns:
            if col == df.ww.index or "foreign_key" in df.ww.semantic_tags.get(col, set()):
                continue
            counts = frame[col].value_counts(dropna=True)
            counts = counts[counts > 0]
            top = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:max_values]
            if top:
                values[col] = [v for v, _ in top]
        if values:
            es.add_interesting_values(dataframe_name=df.ww.name, values=values)


def key_columns(es: ft.EntitySet) -> dict[str, list[str]]:
    """Foreign keys per table: they link tables, they are never features (ids are not numbers).

    Indexes cannot be ignored (COUNT counts them); transforms of them are dropped instead.
    """
    out = {}
    for df in es.dataframes:
        keys = [c for c, tags in df.ww.semantic_tags.items() if "foreign_key" in tags]
        if keys:
            out[df.ww.name] = keys
    return out


def down_paths(es: ft.EntitySet, start: str, max_hops: int) -> list[tuple[str, ...]]:
    """Shortest paths from ``start`` down to its descendants (``max_hops`` deep).

    featuretools builds each table's features on its first visit only, so a table also
    reachable the long way round (customers -> applications -> loans) must be reached by
    its shortest path (customers -> loans), where it still has depth left for its own
    children (``customers.MEAN(loans.MAX(installments.days_late))``).
    """
    children: dict[str, list[str]] = {}
    for rel in es.relationships:
        children.setdefault(rel._parent_dataframe_name, []).append(rel._child_dataframe_name)
    distance, frontier = {start: 0}, [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in children.get(node, []):
                if child not in distance:
                    distance[child] = distance[node] + 1
                    nxt.append(child)
        frontier = nxt
    out: list[tuple[str, ...]] = []

    def walk(path: tuple[str, ...]) -> None:
        out.append(path)
        if len(path) <= max_hops:
            for child in children.get(path[-1], []):
                if distance.get(child) == len(path) and child not in path:
                    walk(path + (child,))

    walk((start,))
    return out


def _ignored(es: ft.EntitySet, target: str) -> dict[str, list[str]]:
    """Keys everywhere, and the target's own labels (hidden until after its cutoff, so always empty)."""
    out = key_columns(es)
    labels = [c for c, tags in es[target].ww.semantic_tags.items() if "label" in tags]
    if labels:
        out[target] = out.get(target, []) + labels
    return out


def _on_an_index(feature) -> bool:
    """A transform of a table's index (``IS_NULL(customer_id)``) says nothing."""
    if isinstance(feature, ft.TransformFeature):
        for base in feature.base_features:
            if isinstance(base, ft.IdentityFeature) and "index" in base.column_schema.semantic_tags:
                return True
    return any(_on_an_index(b) for b in feature.base_features)


# transform names whose creditml meaning differs from featuretools' default: dates in days
def _transforms(settings: FeatureSettings) -> list:
    unit = settings.days_between_unit
    made = {"time_since": lambda: TimeSince(unit="days"), "days_between": lambda: DaysBetween(unit=unit)}
    out = [made[name]() if name in made else name for name in settings.trans_primitives]
    if "days_between" in settings.trans_primitives:  # one more per role declared on a pair
        roles = sorted({p[2] for p in settings.date_pairs or [] if len(p) > 2})
        out += [DaysBetween(role=role, unit=unit) for role in roles]
    return out


def _datetime_columns(df) -> list[str]:
    """A table's datetime columns: its time index first, then in column order."""
    dates = [c for c, ltype in df.ww.logical_types.items() if isinstance(ltype, Datetime)]
    first = [df.ww.time_index] if df.ww.time_index in dates else []
    return first + [c for c in dates if c not in first]


def date_pairs(es: ft.EntitySet, settings: FeatureSettings) -> set[tuple[str, str, str, str | None]]:
    """``(table, first, second, role)`` of each ``DAYS_BETWEEN(first, second)`` DFS may build.

    Declared pairs (``features.date_pairs``) when given; else every pair of each table
    with at most ``date_pairs_max_columns`` datetime columns, so a table with many dates
    does not multiply candidates (declare its pairs instead), without a label's known-at
    date and the dates learned with it when ``pair_label_dates`` is false.
    """
    if settings.date_pairs is None:
        out = set()
        for df in es.dataframes:
            dates = _datetime_columns(df)
            if len(dates) <= settings.date_pairs_max_columns:
                pairable = dates if settings.pair_label_dates else \
                    [c for c in dates if not {LABEL_KNOWN_AT, LABEL_DATE} & df.ww.semantic_tags[c]]
                out |= {(df.ww.name, a, b, None) for a, b in itertools.combinations(pairable, 2)}
        return out
    if settings.date_pairs and "days_between" not in settings.trans_primitives:
        raise ConfigError(f"features.date_pairs: expected 'days_between' in features.trans_primitives to use the "
                          f"pairs, found {settings.trans_primitives}; add it, or remove date_pairs")
    out = set()
    for first, second, *role in settings.date_pairs:
        (ta, ca), (tb, cb) = first.partition(".")[::2], second.partition(".")[::2]
        if ta != tb or ca == cb:
            found = f"tables {ta!r} and {tb!r}" if ta != tb else "the same column twice"
            raise ConfigError(f"features.date_pairs: [{first}, {second}]: expected two different datetime columns "
                              f"of one table as table.column, found {found}; pair dates of the same row (dates "
                              "of related rows are compared by aggregations over them)")
        for table, column in ((ta, ca), (tb, cb)):
            dates = _datetime_columns(es[table]) if table in es.dataframe_dict else []
            if column not in dates:
                raise ConfigError(f"features.date_pairs: {table}.{column} is not a datetime column of the "
                                  f"entityset (datetime columns of {table!r}: {', '.join(dates) or 'none'}; "
                                  f"tables: {', '.join(df.ww.name for df in es.dataframes)}); write table.column")
        out.add((ta, ca, cb, role[0] if role else None))
    return out


def _pairs_allowed(feature, allowed: set[tuple[str, str, str, str | None]]) -> bool:
    """DFS pairs datetime columns both ways and with each role; keep the allowed orientation and role."""
    if isinstance(feature, ft.TransformFeature) and isinstance(feature.primitive, DaysBetween):
        a, b = feature.base_features
        if type(a) is not ft.IdentityFeature or type(b) is not ft.IdentityFeature:
            return False
        if (a.dataframe_name, a.column_name, b.column_name, feature.primitive.role) not in allowed:
            return False
    return all(_pairs_allowed(b, allowed) for b in feature.base_features)


def _is_date_feature(feature) -> bool:
    return isinstance(feature, ft.TransformFeature) and isinstance(feature.primitive, (TimeSince, DaysBetween))


def _redundant_date_feature(feature) -> bool:
    """Date features aggregated where they add candidates rather than information.

    An aggregation of the age of child rows' own time index
    (``MEAN(loans.TIME_SINCE(disbursed_at))``): ``TIME_SINCE_FIRST``, ``TIME_SINCE_LAST``
    and ``AVG_TIME_BETWEEN`` already describe those times. A where-clause on a date
    feature (``MEAN(actions.DAYS_BETWEEN(...) WHERE channel = sms)``): one per interesting
    value would double the date candidates.
    """
    if isinstance(feature, ft.AggregationFeature):
        if feature.where is not None and any(_is_date_feature(b) for b in feature.base_features):
            return True
        for base in feature.base_features:
            if (isinstance(base, ft.TransformFeature) and isinstance(base.primitive, TimeSince)
                    and type(base.base_features[0]) is ft.IdentityFeature
                    and "time_index" in base.base_features[0].column_schema.semantic_tags):
                return True
    return any(_redundant_date_feature(b) for b in feature.base_features)


def _dfs_down(es: ft.EntitySet, target: str, depth: int, settings: FeatureSettings) -> list:
    """DFS features of ``target`` from its own columns and its descendants only.

    Own columns in table order, then simplest first and by name: featuretools' order of
    the rest depends on Python's string hashing, which would change the candidates a cap
    keeps from one process to the next.
    """
    pairs = date_pairs(es, settings)
    features = [f for f in _dfs_down_all(es, target, depth, settings)
                if not _on_an_index(f) and not _redundant_date_feature(f) and _pairs_allowed(f, pairs)]
    return sorted(features, key=lambda f: (f.get_depth(), f.unique_name() if f.get_depth() else ""))


def _dfs_down_all(es: ft.EntitySet, target: str, depth: int, settings: FeatureSettings) -> list:
    agg = list(settings.agg_primitives)
    if settings.credit_primitives:
        agg += credit_primitives(settings.recent_windows_days)
    return ft.dfs(
        entityset=es, target_dataframe_name=target, features_only=True,
        agg_primitives=agg if depth > 0 else [], where_primitives=settings.where_primitives if depth > 0 else [],
        trans_primitives=_transforms(settings) if depth > 0 else [],
        max_depth=max(depth, 1), allowed_paths=down_paths(es, target, max(depth, 1)),
        ignore_columns=_ignored(es, target),
    ) if depth > 0 else [f for f in ft.dfs(entityset=es, target_dataframe_name=target, features_only=True,
                                            agg_primitives=[], trans_primitives=[], max_depth=1,
                                            allowed_paths=[(target,)], ignore_columns=_ignored(es, target))
                         if isinstance(f, ft.IdentityFeature)]


def _candidate_groups(es: ft.EntitySet, target: str, depth: int, settings: FeatureSettings,
                      seen: frozenset, hops_up: int) -> list[list]:
    """Feature groups: the target's own DFS, then each parent's candidates as direct features.

    featuretools' DFS builds each table's features once, on its first visit, so a parent
    first reached down-then-up (applications -> loans -> customers) gets no depth left and
    ``customers.MEAN(installments.days_late)`` is never generated. Building each parent's
    features on their own, with the depth that remains, and looking them up through the
    relationship gives every path its full depth.

    ``max_depth`` counts stacked aggregations (and transforms); a lookup on a parent is
    free, up to ``max_depth`` hops: an application's customer's history is the
    application's history, so ``customers.MEAN(loans.MAX(installments.days_late))`` is a
    depth-2 feature here (featuretools would call it depth 3).
    """
    groups = [_dfs_down(es, target, depth, settings)]
    if depth < 1 or hops_up < 1:
        return groups
    for rel in es.relationships:
        parent = rel._parent_dataframe_name
        if rel._child_dataframe_name != target or parent in seen:
            continue
        for group in _candidate_groups(es, parent, depth, settings, seen | {target}, hops_up - 1):
            groups.append([ft.DirectFeature(f, target, relationship=rel) for f in group])
    return groups


def _round_robin(groups: list[list], cap: int) -> list:
    """At most ``cap`` features, taken in turn from each group so no path is starved."""
    out, seen = [], set()
    iters = [iter(g) for g in groups]
    while iters and len(out) < cap:
        alive = []
        for it in iters:
            f = next(it, None)
            if f is None:
                continue
            alive.append(it)
            if f.unique_name() not in seen:
                seen.add(f.unique_name())
                out.append(f)
                if len(out) >= cap:
                    break
        iters = alive
    return out


def lookup_feature(es: ft.EntitySet, target: str, dotted: str, max_hops: int = 3):
    """The feature of ``table.column`` seen from ``target``: its own column or a parent's, looked up."""
    table, _, column = dotted.partition(".")
    if table not in es.dataframe_dict or column not in es[table].columns:
        raise ConfigError(f"features.ratios: {dotted!r} is neither a candidate feature nor a column of the "
                          f"entityset (tables: {', '.join(df.ww.name for df in es.dataframes)}); write a column "
                          "as table.column or a feature by its full name")

    def reach(here: str, hops: int):
        if here == table:
            return ft.IdentityFeature(es[table].ww[column])
        if hops == 0:
            return None
        for rel in es.relationships:
            if rel._child_dataframe_name == here:
                found = reach(rel._parent_dataframe_name, hops - 1)
                if found is not None:
                    return ft.DirectFeature(found, here, relationship=rel)
        return None

    feature = reach(target, max_hops)
    if feature is None:
        raise ConfigError(f"features.ratios: {dotted!r} cannot be looked up from {target!r}: use a column of "
                          f"{target!r} or of a table it points to")
    return feature


def ratio_features(es: ft.EntitySet, target: str, ratios: list[tuple[str, str]],
                   candidates: dict[str, object] | None = None) -> list:
    """``a / b`` for each pair; an operand is a candidate's name or a ``table.column``."""
    def operand(name: str):
        return (candidates or {}).get(name) or lookup_feature(es, target, name)

    return [ft.Feature([operand(a), operand(b)], primitive=ft.primitives.DivideNumeric) for a, b in ratios]


def roundness_features(es: ft.EntitySet, target: str) -> list:
    """Roundness of the target's own amounts (identity numeric columns)."""
    numeric = es[target].ww.select("numeric", return_schema=True).columns
    keys = set(_ignored(es, target).get(target, []))
    return [ft.Feature(ft.IdentityFeature(es[target].ww[c]), primitive=Roundness) for c in numeric if c not in keys]


def build_candidates(es: ft.EntitySet, target: str, settings: FeatureSettings,
                     interesting_until: pd.Timestamp | None = None) -> list:
    """DFS feature definitions for ``target``; ``max_depth: 0`` gives its own columns only."""
    add_interesting_values(es, target, settings.max_interesting_values, interesting_until)
    groups = _candidate_groups(es, target, settings.max_depth, settings, frozenset(), settings.max_depth)
    if settings.max_depth > 0:
        # domain features first in line: they are few and a cap must not starve them
        named = {f.get_name(): f for group in groups for f in group}
        domain = ratio_features(es, target, settings.ratios, named)
        domain += roundness_features(es, target) if settings.round_amounts else []
        groups.insert(0, domain)
    return _round_robin(groups, settings.max_candidates)


def describe(features: list) -> dict[str, str]:
    """Plain-language sentence for each feature (``ft.describe_feature``)."""
    return {f.get_name(): ft.describe_feature(f) for f in features}
