"""The contract of a primitive the engine computes: one class, three implementations.

A creditml primitive is a featuretools ``AggregationPrimitive`` or ``TransformPrimitive``
that also mixes in :class:`EnginePrimitive`, so the class itself carries the same value
written three times: featuretools' ``get_function`` (the reference), ``polars_expr``
(the Polars evaluator, many instances) and ``numpy_kernel`` (the numpy evaluator, a
served request). The engine finds both engine implementations from the class; a class
that leaves one out cannot be defined, so nothing silently falls back to featuretools.
Stock featuretools primitives have no such methods: the engine keeps them in tables
keyed by class (``_aggregations``, ``_transforms``, ``_kernels``), checked by a test.
"""

from __future__ import annotations

from featuretools.primitives import AggregationPrimitive, TransformPrimitive
from featuretools.primitives.base import PrimitiveBase

PARTS = ("get_function", "polars_expr", "numpy_kernel")


class EnginePrimitive:
    """Mixin for a featuretools primitive the engine computes from its own methods.

    Aggregation (inside one ``group_by(...).agg``, rows in entityset order):

    - ``polars_expr(self, columns: list[str], ctx) -> pl.Expr``: ``columns`` are the input
      column names, ``ctx`` an ``_aggregations.Ctx`` (``ctx.helper`` adds row-level
      scratch columns); ``pl.col(CUTOFF)`` is the instance cutoff on every row.
    - ``numpy_kernel(self, values: list[np.ndarray], cutoff: np.datetime64)``: the group's
      input arrays (float64 with NaN, int64, datetime64[ns] with NaT) to a scalar, ``None``
      when missing.

    Transform (row-wise over the rows of one path):

    - ``polars_expr(self, inputs: list[pl.Expr], metas) -> pl.Expr``; ``pl.col(CUTOFF)``
      is each row's instance cutoff.
    - ``numpy_kernel(self, values: list[np.ndarray], metas, cutoff) -> np.ndarray``: float64
      with NaN for missing.

    Optional: ``engine_supports(self, metas) -> bool`` (the input kinds it handles; the
    others go to featuretools) and ``engine_kind`` (``"float"`` or ``"int"``: the output
    before featuretools' typing). Set ``engine_abstract = True`` on a base class that only
    shares code with its subclasses.
    """

    engine_kind = "float"
    engine_abstract = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("engine_abstract"):
            return
        if not issubclass(cls, (AggregationPrimitive, TransformPrimitive)):
            raise TypeError(f"{cls.__name__}: expected a featuretools AggregationPrimitive or TransformPrimitive "
                            f"subclass, found bases {[b.__name__ for b in cls.__bases__]}; derive from one of them "
                            "as well as EnginePrimitive")
        missing = missing_parts(cls)
        if missing:
            raise TypeError(f"primitive {cls.__name__}: expected {', '.join(PARTS)}, found no {', '.join(missing)}; "
                            "define them on the class (see creditml.features.engine.EnginePrimitive) so that "
                            "training and serving never fall back to featuretools")

    def engine_supports(self, metas) -> bool:
        return True

    def polars_expr(self, *args):
        raise NotImplementedError

    def numpy_kernel(self, *args):
        raise NotImplementedError


def missing_parts(cls: type) -> list[str]:
    """Which of featuretools' function, the Polars expression and the numpy kernel ``cls`` lacks."""
    stubs = {"get_function": PrimitiveBase.get_function, "polars_expr": EnginePrimitive.polars_expr,
             "numpy_kernel": EnginePrimitive.numpy_kernel}
    return [name for name, stub in stubs.items() if getattr(cls, name, stub) is stub]
