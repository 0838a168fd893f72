"""A primitive is one class: featuretools' function, the Polars expression and the numpy
kernel are found from it, so a primitive cannot reach serving without all three."""

from __future__ import annotations

import inspect
import logging

import featuretools as ft
import pytest
import pandas as pd
from featuretools.primitives import AggregationPrimitive
from featuretools.primitives.base import PrimitiveBase
from featuretools.primitives.utils import get_aggregation_primitives, get_transform_primitives

from creditml.config import FeatureSettings
from creditml.features import primitives
from creditml.features.dfs import _transforms
from creditml.features.engine import EnginePrimitive, _aggregations, _kernels, _transforms as polars_transforms
from creditml.features.engine._primitive import PARTS, missing_parts
from tests.features.engine._world import engine_matrices, make_world


def _creditml_primitives() -> list[type]:
    return [cls for _, cls in inspect.getmembers(primitives, inspect.isclass)
            if issubclass(cls, PrimitiveBase) and cls.__module__ == primitives.__name__
            and not cls.__dict__.get("engine_abstract")]


def test_every_creditml_primitive_carries_all_three_implementations():
    classes = _creditml_primitives()
    assert {c.__name__ for c in classes} >= {"CountInLastDays", "ShareOnTime", "ShareDaysPastDueOver",
                                             "PartialPaymentRatio", "Utilisation", "DaysSinceLastDelinquency",
                                             "Roundness", "DaysBetween"}
    for cls in classes:
        assert issubclass(cls, EnginePrimitive), f"{cls.__name__} is not an EnginePrimitive"
        assert missing_parts(cls) == [], f"{cls.__name__} lacks {missing_parts(cls)}"
        primitive = cls()
        lookup = (_aggregations.builder, _kernels.aggregation) if issubclass(cls, AggregationPrimitive) else \
            (polars_transforms.builder, _kernels.transform)
        assert [find(primitive) for find in lookup] == [cls.polars_expr, cls.numpy_kernel]


@pytest.mark.parametrize("left_out", PARTS)
def test_a_primitive_missing_one_implementation_cannot_be_defined(left_out):
    body = {"name": "half_done", "input_types": [primitives.NUMERIC], "return_type": primitives.DOUBLE,
            "get_function": lambda self: sum, "polars_expr": lambda self, c, ctx: None,
            "numpy_kernel": lambda self, x, cutoff: None}
    del body[left_out]
    with pytest.raises(TypeError, match=rf"primitive HalfDone: expected get_function, polars_expr, numpy_kernel, "
                                        rf"found no {left_out}; define them on the class"):
        type("HalfDone", (EnginePrimitive, AggregationPrimitive), body)


def test_an_engine_primitive_must_be_a_featuretools_primitive():
    with pytest.raises(TypeError, match="NotAPrimitive: expected a featuretools AggregationPrimitive or "
                                        "TransformPrimitive subclass"):
        type("NotAPrimitive", (EnginePrimitive,), {})


def test_stock_primitives_have_both_engine_implementations():
    """For featuretools' own primitives the engine's tables are the registry: the same classes in each."""
    assert set(_aggregations.AGGREGATIONS) == set(_kernels.KERNELS)
    assert set(polars_transforms.TRANSFORMS) == set(_kernels.TRANSFORMS)
    assert not any(issubclass(k, EnginePrimitive) for k in [*_kernels.KERNELS, *_kernels.TRANSFORMS])


def test_default_settings_use_only_primitives_the_engine_computes():
    settings = FeatureSettings()
    aggs, trans = get_aggregation_primitives(), get_transform_primitives()
    for name in {*settings.agg_primitives, *settings.where_primitives}:
        assert aggs[name] in _aggregations.AGGREGATIONS, name
    for primitive in _transforms(settings):
        cls = trans[primitive] if isinstance(primitive, str) else type(primitive)
        assert cls in polars_transforms.TRANSFORMS or issubclass(cls, EnginePrimitive), cls


def test_credit_and_date_primitives_never_fall_back_to_featuretools(caplog):
    es = make_world(5, 10, 30, 100, jitter=True, credit=True)
    features = ft.dfs(entityset=es, target_dataframe_name="loans", features_only=True, max_depth=2,
                      agg_primitives=primitives.credit_primitives([7, 30]) + ["mean", "trend"],
                      trans_primitives=[primitives.DaysBetween(), ft.primitives.TimeSince(unit="days")])
    features.append(ft.Feature(ft.IdentityFeature(es["loans"].ww["amount"]), primitive=primitives.Roundness))

    def kinds(feature) -> set[type]:
        return {type(feature.primitive), *(k for b in feature.base_features for k in kinds(b))}

    assert set(_creditml_primitives()) <= {k for f in features for k in kinds(f)}
    loans = es["loans"]
    ct = pd.DataFrame({"loan_id": loans["loan_id"].to_numpy(),
                       "time": loans["disbursed_at"].to_numpy() + pd.Timedelta(days=5)})
    with caplog.at_level(logging.WARNING, logger="creditml.features.engine"):
        engine_matrices(features, es, ct)
    assert not [r for r in caplog.records if "computed by featuretools" in r.getMessage()]
