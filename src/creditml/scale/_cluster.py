"""Connecting to a Dask scheduler: one place that knows where the cluster is."""

from __future__ import annotations

import os

from creditml.errors import ConfigError, CreditmlError

ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"


def scheduler_address(explicit: str | None, setting: str) -> str:
    """The scheduler to use: the setting when given, else ``DASK_SCHEDULER_ADDRESS``."""
    address = explicit or os.environ.get(ADDRESS_ENV)
    if not address:
        raise ConfigError(
            f"{setting}: no Dask scheduler address; set it (e.g. --set {setting}=tcp://HOST:8786) or export "
            f"{ADDRESS_ENV}=tcp://HOST:8786 (start one with: dask scheduler; dask worker tcp://HOST:8786)"
        )
    return address


def connect(address: str, timeout: float = 20):
    """A client of a running scheduler; never starts a local cluster behind the user's back."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - depends on the environment
        raise CreditmlError('Dask is not installed; install it with: pip install "dask[distributed]"') from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except OSError as exc:
        raise CreditmlError(f"cannot reach the Dask scheduler at {address!r} within {timeout:.0f}s ({exc}); "
                            "start it (dask scheduler) or fix the address") from None
