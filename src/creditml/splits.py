"""Train / validation / test splits: out-of-time by cutoff, or by a hash of the instance key.

A split by time is the default and the one that answers "will it hold next quarter". Data
with no time between instances (every client scored at one date) cannot be split that way;
it declares ``split: {method: key_hash}``, which is not out-of-time, and says so.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from creditml.config import SplitSettings
from creditml.errors import ConfigError

SPLITS = ("train", "validation", "test")


def time_split(times: pd.Series, settings: SplitSettings) -> pd.Series:
    """``train`` / ``validation`` / ``test`` per instance (``times``: cutoff times indexed by key).

    ``method: time`` splits by cutoff time (``order: key`` by key order instead);
    ``method: key_hash`` by :func:`key_hash_split`.
    """
    if settings.method == "key_hash":
        return key_hash_split(times.index, settings)
    if settings.order == "key":
        return _share_split(pd.Series(times.index, index=times.index), settings)
    return _time_split(times, settings)


def key_fractions(keys: pd.Index, seed: int) -> np.ndarray:
    """A number in [0, 1) per key from a seeded hash of its text: the same key, the same number."""
    out = np.empty(len(keys))
    for i, key in enumerate(keys):
        digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
        out[i] = int.from_bytes(digest, "big") / 2.0 ** 64
    return out


def key_hash_split(keys: pd.Index, settings: SplitSettings) -> pd.Series:
    """Split by a seeded hash of each instance's key: about ``test_share`` test and
    ``validation_share`` validation; an instance's split never depends on the other instances.

    Not an out-of-time split: train and test come from the same period. ``fold`` k shifts
    every fraction by k x ``test_share`` (mod 1): the folds of one seed test disjoint instances.
    """
    u = key_fractions(keys, settings.seed)
    if settings.fold:
        u = (u + settings.fold * settings.test_share) % 1.0
    t_cut, v_cut = settings.test_share, settings.test_share + settings.validation_share
    out = pd.Series(np.where(u < t_cut, "test", np.where(u < v_cut, "validation", "train")), index=keys,
                    name="split")
    empty = [s for s in SPLITS if not (out == s).any()]
    if empty:
        raise ConfigError(
            f"split: with method key_hash the {', '.join(empty)} split(s) of the {len(keys)} instance(s) are "
            f"empty (validation_share {settings.validation_share}, test_share {settings.test_share}); "
            "use more instances or larger shares")
    return out


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
    if len(t) and t.nunique() == 1:
        raise ConfigError(
            f"split: all {len(t)} instances have the same cutoff time ({t.iloc[0]}), so a split by cutoff time "
            "cannot put any of them after the others; data with no time between instances splits by key: "
            "set split.method: key_hash (a seeded hash of the instance key; not an out-of-time test)")
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


def forward_chaining_folds(times: pd.Series, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` folds in time order over ``times``: (training positions, validation positions) each.

    The instances are cut into ``k + 1`` blocks of about equal size at cutoff times, so
    instances sharing a cutoff time always land in the same block; fold ``i`` trains on
    blocks ``0..i`` and validates on block ``i + 1``. Positions index ``times`` as given
    (it need not be sorted).
    """
    if k < 2:
        raise ConfigError(f"tuning.cv_folds: forward-chaining cross-validation needs at least 2 folds, got {k}")
    t = pd.to_datetime(times).to_numpy()
    ordered = np.sort(t)
    edges = ordered[[len(ordered) * j // (k + 1) for j in range(1, k + 1)]]
    block = np.searchsorted(edges, t, side="right")  # number of edges at or before each cutoff
    sizes = np.bincount(block, minlength=k + 1)
    if (sizes == 0).any():
        raise ConfigError(
            f"tuning.cv_folds={k}: the {len(t)} training instances have {len(np.unique(t))} distinct cutoff "
            f"time(s), too few to cut into {k + 1} time blocks without splitting a cutoff time; "
            "lower tuning.cv_folds (or 0 to tune on the validation split)"
        )
    return [(np.flatnonzero(block <= i), np.flatnonzero(block == i + 1)) for i in range(k)]


def key_folds(keys: pd.Index, k: int, seed: int, labels: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` folds by a seeded hash of each key (for ``split.method: key_hash`` data, with no time between
    instances): fold ``i`` validates on block ``i`` and trains on the others.

    With ``labels`` the folds are stratified: within each class the instances are ordered by
    their hash and dealt to the blocks in turn, so every block holds its share of the few
    positives of a small portfolio (a plain hash left 7 and 14 of 42 in two blocks).
    """
    if k < 2:
        raise ConfigError(f"tuning.cv_folds: cross-validation needs at least 2 folds, got {k}")
    u = key_fractions(keys, seed + 1)
    block = np.empty(len(u), dtype=int)
    classes = np.zeros(len(u), dtype=int) if labels is None else np.asarray(labels)
    for value in np.unique(classes):
        members = np.flatnonzero(classes == value)
        block[members[np.argsort(u[members], kind="stable")]] = np.arange(len(members)) % k
    return [(np.flatnonzero(block != i), np.flatnonzero(block == i)) for i in range(k)]


def describe_folds(times: pd.Series, labels: pd.Series,
                   folds: list[tuple[np.ndarray, np.ndarray]]) -> list[dict]:
    """One row per fold: what it trains on and the time block it validates on (for the run's record)."""
    t = pd.to_datetime(times).to_numpy()
    y = np.asarray(labels)
    rows = []
    for i, (train, valid) in enumerate(folds):
        rows.append({"fold": i, "train_instances": len(train), "train_positives": int(y[train].sum()),
                     "train_until": str(pd.Timestamp(t[train].max())),
                     "validation_from": str(pd.Timestamp(t[valid].min())),
                     "validation_until": str(pd.Timestamp(t[valid].max())),
                     "validation_instances": len(valid), "validation_positives": int(y[valid].sum())})
    return rows
