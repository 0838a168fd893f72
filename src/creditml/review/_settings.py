"""Where the workbench finds its secret and its tools, read once at the edge.

The session secret lives in the governance config directory (beside the ledger key,
``review-session.secret``), created with mode 0600 on first use; a secret readable by
group or others is refused, like the ledger key.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from creditml.errors import CreditmlError
from creditml.governance import settings as governance_settings

SECRET_NAME = "review-session.secret"
CHROMIUM_ENV = "CREDITML_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


class ReviewError(CreditmlError):
    """The workbench cannot start or cannot do what was asked; the message says how to fix it."""


def default_secret_path() -> Path:
    return governance_settings.key_path().parent / SECRET_NAME


def load_or_create_secret(path: Path) -> bytes:
    """The server's session-signing secret (32 random bytes), created 0600 if absent."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_secret(path)  # another server created it meanwhile
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ReviewError(f"review session secret {str(path)!r} is readable by others (mode {mode:04o}), expected "
                          f"mode 0600: whoever reads it can forge sign-ins; chmod 600 {path}")
    value = path.read_text().strip()
    if len(value) < 64:
        raise ReviewError(f"review session secret {str(path)!r} holds {len(value)} characters, expected 64 hex "
                          f"digits; delete it and restart the server to create a new one (everyone signs in again)")
    return value.encode()


@dataclass(frozen=True)
class ReviewSettings:
    """How one workbench server runs. ``None`` paths/URLs fall back to the governance settings."""

    governance_url: str | None = None
    registry_uri: str | None = None
    secret_path: Path | None = None
    chromium: str = field(default_factory=lambda: os.environ.get(CHROMIUM_ENV, DEFAULT_CHROMIUM))
    secure_cookies: bool = False  # set behind TLS: the cookie is then sent over https only
    session_idle_minutes: int = 30
    session_max_hours: int = 8
    warm_reports: bool = True  # build the queue's reports in the background at start

    def __post_init__(self):
        if self.session_idle_minutes < 1 or self.session_max_hours < 1:
            raise ReviewError(f"session_idle_minutes={self.session_idle_minutes}, session_max_hours="
                              f"{self.session_max_hours}: expected at least 1 each")
