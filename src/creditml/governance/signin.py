"""Who is signed in: a token in ``CREDITML_TOKEN``, else the token ``creditml login`` saved.

The login file lives in the config dir (``$CREDITML_HOME``, else ``~/.config/creditml``)
as ``token``, mode 0600; a file readable by others is refused, like the ledger key.
The token is checked against the governance database every time: a revoked token or a
disabled user stops working at once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from creditml.governance.errors import AuthError
from creditml.governance.identities import authenticate_token
from creditml.governance.records import Identity
from creditml.governance.store import GovernanceStore

TOKEN_ENV = "CREDITML_TOKEN"
HOME_ENV = "CREDITML_HOME"


def config_dir() -> Path:
    explicit = os.environ.get(HOME_ENV)
    return Path(explicit) if explicit else Path.home() / ".config" / "creditml"


def token_file() -> Path:
    return config_dir() / "token"


def save_token(token: str) -> Path:
    """Write the login token to the config dir, readable by its owner only; return the path."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    os.replace(partial, path)
    return path


def forget_token() -> bool:
    path = token_file()
    if path.exists():
        path.unlink()
        return True
    return False


def _saved_token() -> str | None:
    path = token_file()
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AuthError(f"login token file {str(path)!r} is readable by others (mode {mode:04o}), expected 0600; "
                        f"fix: chmod 600 {path}, or delete it and run 'creditml login' again")
    return path.read_text().strip() or None


def current_token() -> tuple[str, str] | None:
    """(token, where it came from), or None when nobody is signed in. The environment wins."""
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return env, f"${TOKEN_ENV}"
    saved = _saved_token()
    return (saved, str(token_file())) if saved else None


def signed_in(store: GovernanceStore, doing: str = "do this") -> Identity:
    """The signed-in identity, or an AuthError naming both ways to sign in."""
    found = current_token()
    if found is None:
        raise AuthError(
            f"nobody is signed in, and only a signed-in identity may {doing}; fix: run 'creditml login NAME' "
            f"(saves a token to {token_file()}) or export {TOKEN_ENV}=<token from 'creditml users token NAME'>")
    token, source = found
    try:
        return authenticate_token(store, token)
    except AuthError as exc:
        raise AuthError(f"the token in {source} was refused: {exc}") from None


def signed_in_or_none(store: GovernanceStore) -> Identity | None:
    """The signed-in identity when there is a token; None when there is none (a bad token still fails)."""
    return None if current_token() is None else signed_in(store)
