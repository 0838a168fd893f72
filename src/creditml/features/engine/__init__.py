"""The feature engine: featuretools definitions computed vectorised with Polars.

``calculate_feature_matrix(features, entityset, cutoff_time)`` returns what
``featuretools.calculate_feature_matrix`` returns for the same arguments (index,
columns, dtypes, values), computing all instances at once per chunk instead of once
per distinct cutoff time. Features it cannot compute go to featuretools (logged).

Two evaluators run the same plan: Polars over chunks of instances (``_evaluate``, for
training matrices) and numpy instance by instance (``_instance``, for a served request
of at most ``FEW_INSTANCES``), where Polars' fixed cost per operation would dominate.

A primitive the engine computes is one class: a creditml primitive carries its
featuretools function, Polars expression and numpy kernel (:class:`EnginePrimitive`);
stock featuretools primitives are in the engine's tables keyed by class.
"""

from creditml.features.engine._api import calculate_feature_matrix
from creditml.features.engine._arrays import ArrayMatrix, ArrayTable
from creditml.features.engine._frames import CUTOFF
from creditml.features.engine._primitive import EnginePrimitive
from creditml.features.engine._served import (ServedMatrix, align_relationship, sort_like_woodwork,
                                              type_like_woodwork)

__all__ = ["ArrayMatrix", "ArrayTable", "CUTOFF", "EnginePrimitive", "ServedMatrix", "align_relationship", "calculate_feature_matrix",
           "sort_like_woodwork", "type_like_woodwork"]
