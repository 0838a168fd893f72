"""Where governance data lives, read from the environment at the edge.

- ``CREDITML_GOVERNANCE_URL``: SQLAlchemy URL of the identities and ledger database;
  default ``sqlite:///mlruns/governance.db`` beside the embedded MLflow store.
- ``CREDITML_LEDGER_KEY``: the Ed25519 private key that signs ledger entries; only the
  governance service holds it. Default ``mlruns/ledger.key`` (created 0600 on first use).
- ``CREDITML_APPROVER_DIFFERS_FROM_REVIEWER``: ``0`` lets an approver approve after their
  own approving review (default ``1``: a second person approves); never the trainer.
- ``CREDITML_LEDGER_PUBLIC_KEY``: the public key(s) verifiers trust, one PEM file;
  default the key path + ``.pub`` (written beside the private key when it is created).
"""

from __future__ import annotations

import os
from pathlib import Path

URL_ENV = "CREDITML_GOVERNANCE_URL"
# "0": the approver may be the author of the last approving review (still never the trainer)
APPROVER_DIFFERS_ENV = "CREDITML_APPROVER_DIFFERS_FROM_REVIEWER"
KEY_ENV = "CREDITML_LEDGER_KEY"
PUBLIC_KEY_ENV = "CREDITML_LEDGER_PUBLIC_KEY"
DEFAULT_ROOT = Path("mlruns")


def database_url(root: Path = DEFAULT_ROOT) -> str:
    url = os.environ.get(URL_ENV)
    if url:
        return url
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(root / 'governance.db').resolve()}"


def key_path(root: Path = DEFAULT_ROOT) -> Path:
    return Path(os.environ.get(KEY_ENV) or root / "ledger.key")


def public_key_path(private: Path | None = None, root: Path = DEFAULT_ROOT) -> Path:
    explicit = os.environ.get(PUBLIC_KEY_ENV)
    if explicit:
        return Path(explicit)
    private = private or key_path(root)
    return private.with_name(private.name + ".pub")


def approver_differs_from_reviewer() -> bool:
    """The four-eyes policy of this governance service: by default two people besides the trainer."""
    value = os.environ.get(APPROVER_DIFFERS_ENV, "1").strip().lower()
    if value not in ("1", "0", "true", "false", "yes", "no"):
        raise ValueError(f"{APPROVER_DIFFERS_ENV}={value!r}: expected 1 or 0 (true/false)")
    return value in ("1", "true", "yes")
