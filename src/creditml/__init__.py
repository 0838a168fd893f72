"""creditml: a model factory for relational credit-risk data."""

__version__ = "0.1.0"


def load_entityset(dataset_yaml, ignore=None):
    """The validated featuretools EntitySet of a declared dataset."""
    from creditml.features.entityset import load_entityset as _load

    return _load(dataset_yaml, ignore)


__all__ = ["__version__", "load_entityset"]
