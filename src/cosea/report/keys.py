"""The installation's keys: an Ed25519 signing key for evidence packages, and the
secret behind pseudonyms in case reports.

Both are made once, on first use, under ``COSEA_HOME/keys/``; the private files are
written with mode 0600 before any secret byte goes into them. The public key is
exported into every package so a recipient can check it, and its fingerprint (the
SHA-256 of the raw 32-byte key) is what a sender publishes so recipients can pin it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cosea import settings
from cosea.errors import InputError

SIGNING_KEY_FILE = "report-signing-ed25519.pem"
PUBLIC_KEY_FILE = "report-signing-ed25519.pub.pem"
PSEUDONYM_KEY_FILE = "report-pseudonyms.key"


def keys_dir() -> Path:
    path = settings.home() / "keys"
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _write_private(path: Path, data: bytes) -> None:
    """Create the file 0600 and exclusively: a second process racing us loses, not overwrites."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def fingerprint(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(slots=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)


def signing_key() -> SigningKey:
    """The installation's signing key, generated on first use."""
    folder = keys_dir()
    path = folder / SIGNING_KEY_FILE
    if not path.exists():
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            _write_private(path, pem)
            (folder / PUBLIC_KEY_FILE).write_bytes(public_pem(private_key.public_key()))
        except FileExistsError:
            pass  # another process made it first; use theirs
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise InputError(path, f"not a readable Ed25519 private key ({error})") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise InputError(path, "the signing key is not an Ed25519 key")
    return SigningKey(loaded, path)


def load_public_key(data: bytes, source: str | Path) -> Ed25519PublicKey:
    """A public key from PEM (what packages and ``keys/`` hold) or raw base64/hex."""
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
        else:
            raw = bytes.fromhex(text.decode()) if len(text) == 64 else base64.b64decode(text)
            key = Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise InputError(source, f"not a readable Ed25519 public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(source, "the public key is not an Ed25519 key")
    return key


def signature_valid(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def pseudonym_secret() -> bytes:
    """The secret for pseudonyms in reports made from triage cases (alerts use the service's)."""
    path = keys_dir() / PSEUDONYM_KEY_FILE
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            _write_private(path, secrets.token_hex(32).encode("ascii"))
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:
        raise InputError(path, "not a hex-encoded pseudonym key") from None
