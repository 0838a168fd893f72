"""Graph features: every input error names the table or parameter, what was found and what to do;
every column has its entry in docs/graph-features.md."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from creditml.config import GraphSettings
from creditml.features.graph import GraphInputError, graph_feature_names, graph_features

DOCS = Path(__file__).resolve().parents[2] / "docs" / "graph-features.md"
SETTINGS = GraphSettings(
    table="links", instance_column="application_id", value_column="value", kind_column="kind",
    time_column="seen_at", customer_column="customer_id", burst_days=[7],
)
T0 = pd.Timestamp("2024-01-01")


def _tables():
    applications = pd.DataFrame({"instance_id": ["A", "B"], "time": [T0, T0], "customer": ["c1", "c2"]})
    links = pd.DataFrame({"application_id": ["A", "B"], "value": ["v", "v"], "kind": ["phone", "phone"],
                          "seen_at": [T0, T0]})
    instances = pd.DataFrame({"instance_id": ["B"], "cutoff": [T0]})
    return links, instances, applications


def test_the_small_tables_work():
    links, instances, applications = _tables()
    assert graph_features(links, instances, applications, SETTINGS).loc["B", "GRAPH_shared_apps_phone"] == 1


@pytest.mark.parametrize(("change", "match"), [
    (lambda l, i, a: (l.drop(columns="value"), i, a),
     r"table 'links' lacks column\(s\) \['value'\]; found columns .*; the link table's columns are named by "
     r"GraphSettings"),
    (lambda l, i, a: (l, i, a.drop(columns="customer")),
     r"table 'applications' lacks column\(s\) \['customer'\].*with GraphSettings.customer_column, customer"),
    (lambda l, i, a: (l, i.assign(cutoff=1.5), a),
     r"column 'cutoff' of table 'instances' must hold datetimes, found dtype float64; convert it with "
     r"pandas.to_datetime"),
    (lambda l, i, a: (l, i, pd.concat([a, a.iloc[:1]])),
     r"table 'applications' repeats instance_id values, e.g. \['A'\]; give each application one row"),
    (lambda l, i, a: (l, i.assign(instance_id="Z"), a),
     r"1 instance\(s\) of table 'instances' are not in table 'applications' \(e.g. \['Z'\]\); every instance "
     r"must be an application of that table"),
    (lambda l, i, a: (l, i.assign(cutoff=pd.NaT), a),
     r"table 'instances' has 1 missing 'cutoff' value\(s\); every instance needs the time it is scored at"),
    (lambda l, i, a: (l.assign(kind=["a b", "a_b"]), i, a),
     r"identifier kinds \['a b', 'a_b'\] give duplicate column names \['GRAPH_identifier_age_days_a_b', "
     r"'GRAPH_shared_apps_a_b', 'GRAPH_shared_customers_a_b'\]; kinds that differ only in whitespace"),
])
def test_input_errors_say_what_was_found_and_what_to_do(change, match):
    links, instances, applications = change(*_tables())
    with pytest.raises(GraphInputError, match=match):
        graph_features(links, instances, applications, SETTINGS)


def test_parameter_errors():
    links, instances, applications = _tables()
    with pytest.raises(GraphInputError, match=r"max_neighbours_per_identifier must be at least 1; got 0"):
        graph_features(links, instances, applications, SETTINGS, max_neighbours_per_identifier=0)
    no_kinds = SETTINGS.model_copy(update={"kind_column": None})
    with pytest.raises(GraphInputError, match=r"without a kind column the only kind is 'any', got \['phone'\]; "
                                              r"set settings.kind_column or pass kinds=None"):
        graph_features(links, instances, applications, no_kinds, kinds=["phone"])


def test_every_column_is_defined_in_the_docs():
    documented = set(re.findall(r"`(GRAPH_[a-z_{}]+)`", DOCS.read_text(encoding="utf-8")))
    names = graph_feature_names(["{k}"], [7], with_customers=True)  # the docs write {k} and {d}
    names = {n.replace("burst_apps_7d", "burst_apps_{d}d") for n in names}
    assert len(names) == 20 and names - documented == set()
