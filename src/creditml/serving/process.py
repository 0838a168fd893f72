"""Run `creditml serve` as a child process on loopback (the demo, benchmarks and tests)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict | None = None, cwd: Path | None = None, poll_seconds: float = 0,
                 link_store: str = "none") -> subprocess.Popen:
    args = [sys.executable, "-m", "creditml.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--poll-seconds", str(poll_seconds), "--link-store", link_store]
    return subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def wait_http(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read()[-2000:] if proc.stderr else ""
            raise RuntimeError(f"{' '.join(proc.args)} exited with {proc.returncode}: {err}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {seconds}s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


TOKEN_ENV = "CREDITML_SERVING_TOKEN"


@contextmanager
def client_token(explicit: str | None = None, role: str = "service", label: str = "bench") -> Iterator[str]:
    """A bearer token for a scoring client on loopback (benchmarks).

    ``explicit``, else ``$CREDITML_SERVING_TOKEN``; else a new token of user ``bench-<role>``
    (created with that role if missing) in the governance store beside the configured
    tracking store, revoked on exit. Never printed.
    """
    token = explicit or os.environ.get(TOKEN_ENV, "").strip()
    if token:
        yield token
        return
    from creditml.governance import IdentityError, add_role, create_user, issue_token, revoke_token
    from creditml.registry import open_registry
    from creditml.registry.governed import open_store

    store = open_store(open_registry())
    name = f"bench-{role}"
    try:
        create_user(store, name, (role,))
    except IdentityError:
        add_role(store, name, role)  # created by an earlier run
    issued = issue_token(store, name, label)
    try:
        yield issued.token
    finally:
        revoke_token(store, issued.token_id)
