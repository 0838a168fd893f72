"""A dataset's fingerprint: which bytes a model was trained on."""

from __future__ import annotations

import hashlib

from creditml.config import DatasetConfig


def data_fingerprint(cfg: DatasetConfig) -> str:
    """SHA-256 over every declared table file (name and bytes)."""
    digest = hashlib.sha256()
    for name in sorted(cfg.tables):
        digest.update(name.encode())
        with open(cfg.path_of(name), "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]
