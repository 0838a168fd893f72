"""The Ed25519 key that signs ledger entries, and the public keys verifiers trust.

Only the governance service holds the private key (a PEM file, mode 0600, created on
first use). Verifiers (loaders, ``audit --verify``) need only the public key: it is
written beside the private key as ``<key>.pub``, and the key of every signer is also
recorded in the database so an auditor can see which key signed an entry. A key found
in the database is never trusted for that reason alone: anyone able to write the table
could add their own.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from creditml.governance import settings
from creditml.governance.errors import LedgerKeyError


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public: Ed25519PublicKey) -> str:
    """A short stable name of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


@dataclass(frozen=True)
class VerifyingKey:
    key_id: str
    public: Ed25519PublicKey

    @classmethod
    def of(cls, public: Ed25519PublicKey) -> "VerifyingKey":
        return cls(key_id_of(public), public)

    @classmethod
    def from_hex(cls, raw_hex: str) -> "VerifyingKey":
        return cls.of(Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw_hex)))

    @property
    def raw_hex(self) -> str:
        return _raw(self.public).hex()

    def verify(self, signature_hex: str, digest_hex: str) -> bool:
        try:
            self.public.verify(bytes.fromhex(signature_hex), bytes.fromhex(digest_hex))
        except (InvalidSignature, ValueError):
            return False
        return True


class SigningKey:
    """The private key of the governance service. Its repr never shows key material."""

    def __init__(self, private: Ed25519PrivateKey, path: Path | None = None):
        self._private = private
        self.path = path
        self.verifying = VerifyingKey.of(private.public_key())

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r}, path={str(self.path)!r})"

    @property
    def key_id(self) -> str:
        return self.verifying.key_id

    def sign(self, digest_hex: str) -> str:
        return self._private.sign(bytes.fromhex(digest_hex)).hex()

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: str | Path | None = None) -> "SigningKey":
        """Load the key at ``path`` (default ``settings.key_path()``), creating it 0600 if absent."""
        path = Path(path) if path else settings.key_path()
        if not path.exists():
            return cls._create(path)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise LedgerKeyError(
                f"ledger signing key {str(path)!r} is readable by others (mode {mode:04o}), expected mode 0600; "
                f"only the governance service may read it: chmod 600 {path}")
        try:
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise LedgerKeyError(
                f"ledger signing key {str(path)!r} is not an unencrypted PEM private key ({exc}); "
                f"restore the service's key file or point {settings.KEY_ENV} at it") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise LedgerKeyError(
                f"ledger signing key {str(path)!r} holds a {type(private).__name__}, expected an Ed25519 key")
        return cls(private, path)

    @classmethod
    def _create(cls, path: Path) -> "SigningKey":
        path.parent.mkdir(parents=True, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        # written whole to a private temporary file, then linked into place: two processes
        # starting at once must neither both install a key nor read a half-written one
        partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        try:
            os.link(partial, path)
        except FileExistsError:
            return cls.load_or_create(path)
        finally:
            partial.unlink()
        key = cls(private, path)
        write_public_key(key.verifying, path.with_name(path.name + ".pub"))
        return key


def write_public_key(key: VerifyingKey, path: Path) -> None:
    pem = key.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path.write_bytes(pem)


def load_public_keys(path: str | Path) -> list[VerifyingKey]:
    """Every Ed25519 public key in a PEM file (several keys: rotation)."""
    path = Path(path)
    if not path.exists():
        raise LedgerKeyError(
            f"ledger public key file {str(path)!r} does not exist; copy the governance service's "
            f"<key>.pub there or set {settings.PUBLIC_KEY_ENV}")
    keys, block = [], []
    for line in path.read_text().splitlines():
        block.append(line)
        if line.startswith("-----END"):
            public = serialization.load_pem_public_key("\n".join(block).encode())
            if not isinstance(public, Ed25519PublicKey):
                raise LedgerKeyError(f"ledger public key file {str(path)!r} holds a non-Ed25519 key")
            keys.append(VerifyingKey.of(public))
            block = []
    if not keys:
        raise LedgerKeyError(f"ledger public key file {str(path)!r} holds no PEM public key")
    return keys


def trusted_keys_from_settings(root: Path = settings.DEFAULT_ROOT) -> list[VerifyingKey]:
    """The keys a verifier trusts: the public key file, else the private key's own public half."""
    public = settings.public_key_path(root=root)
    if public.exists():
        return load_public_keys(public)
    private = settings.key_path(root)
    if private.exists():
        return [SigningKey.load_or_create(private).verifying]
    raise LedgerKeyError(
        f"no trusted ledger key: neither {str(public)!r} nor {str(private)!r} exists; copy the governance "
        f"service's public key to {public} or set {settings.PUBLIC_KEY_ENV}")
