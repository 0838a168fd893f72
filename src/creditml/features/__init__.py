"""Features: entityset from a dataset, DFS candidates, credit primitives, graph features, selection.

The feature engine (``creditml.features.engine``) computes the same definitions as
featuretools, much faster.
"""
