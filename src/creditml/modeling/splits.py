"""Out-of-time splits: by cutoff time only, never at random."""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.config import SplitSettings
from creditml.errors import ConfigError

SPLITS = ("train", "validation", "test")


def time_split(times: pd.Series, settings: SplitSettings) -> pd.Series:
    """Split by cutoff time (``order: time``) or by instance key (``order: key``)."""
    if settings.order == "key":
        return _share_split(pd.Series(times.index, index=times.index), settings)
    return _time_split(times, settings)


def _share_split(order: pd.Series, settings: SplitSettings) -> pd.Series:
    ranks = order.rank(method="first").to_numpy() / len(order)
    v_cut = 1 - settings.test_share - settings.validation_share
    t_cut = 1 - settings.test_share
    return pd.Series(np.where(ranks <= v_cut, "train", np.where(ranks <= t_cut, "validation", "test")),
                     index=order.index, name="split")


def _time_split(times: pd.Series, settings: SplitSettings) -> pd.Series:
    """Label each instance ``train`` / ``validation`` / ``test`` by its cutoff time.

    With shares, the boundaries are cutoff times (quantiles), so instances sharing a
    cutoff time always land in the same split: no instance ever trains on a time that
    is later than one it is tested on.
    """
    t = pd.to_datetime(times)
    if settings.validation_start or settings.test_start:
        if not (settings.validation_start and settings.test_start):
            raise ConfigError("split: give both validation_start and test_start, or neither (to use shares)")
        v_start, t_start = pd.Timestamp(settings.validation_start), pd.Timestamp(settings.test_start)
        if v_start >= t_start:
            raise ConfigError(f"split: validation_start {v_start.date()} must be before test_start {t_start.date()}")
    else:
        ordered = np.sort(t.to_numpy())
        n = len(ordered)
        v_start = pd.Timestamp(ordered[int(n * (1 - settings.test_share - settings.validation_share))])
        t_start = pd.Timestamp(ordered[int(n * (1 - settings.test_share))])
    out = pd.Series(np.where(t < v_start, "train", np.where(t < t_start, "validation", "test")),
                    index=times.index, name="split")
    empty = [s for s in SPLITS if not (out == s).any()]
    if empty:
        raise ConfigError(
            f"split: the {', '.join(empty)} split(s) would be empty (cutoffs run from {t.min().date()} to "
            f"{t.max().date()}, validation from {v_start.date()}, test from {t_start.date()}); adjust split settings"
        )
    return out
