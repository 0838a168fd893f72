"""Column names of the graph features and the sentence that describes each one.

The full catalogue, with the definitions behind these sentences, is
``docs/graph-features.md``; the sentences live here because reports and reason codes
need them at runtime.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from creditml.features.graph._inputs import GraphInputError

PREFIX = "GRAPH_"
ANY_KIND = "any"  # the only kind when the link table has no kind column


def kind_label(kind: object) -> str:
    """A kind as it appears in column names: whitespace runs become ``_``."""
    return re.sub(r"\s+", "_", str(kind).strip())


def graph_feature_names(
    kinds: Sequence[object], burst_days: Sequence[int], with_customers: bool
) -> list[str]:
    """Column names :func:`graph_features` returns, in order, for these kinds."""
    names: list[str] = []
    for kind in kinds:
        k = kind_label(kind)
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
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise GraphInputError(
            f"graph features: identifier kinds {list(kinds)} give duplicate column names {repeated[:5]}; "
            "kinds that differ only in whitespace share a column label: rename them in the link table"
        )
    return names


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
