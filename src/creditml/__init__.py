"""creditml: a model factory for relational credit-risk data."""

__version__ = "0.1.0"
