"""Encryption of sensitive columns at rest: AES-256-GCM, each value tagged with its key id.

Values look like `v1.<kid>.<base64url(nonce || ciphertext+tag)>`. Several keys can be held for
reading; new values use the first. `taskwell keys rotate` re-encrypts everything to it.
The column name and row id go in as associated data, so a ciphertext copied into another row
or column does not decrypt.
"""

from __future__ import annotations

import base64
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from taskwell.settings import Settings

_VERSION = "v1"
DERIVED_KID = "derived"


class UndecryptableValue(Exception):
    """A stored value whose key is not configured, or that was tampered with."""


def new_key() -> str:
    """A fresh 256-bit key, as the base64 that TASKWELL_ENCRYPTION_KEYS takes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _derive(secret: str) -> bytes:
    # Zero-configuration default: a key derived from TASKWELL_SECRET_KEY. Production should
    # set TASKWELL_ENCRYPTION_KEYS so the two secrets can rotate independently.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"taskwell at-rest v1")
    return hkdf.derive(secret.encode())


class Encryptor:
    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError("the current key id must be one of the keys")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current = current

    @classmethod
    def from_settings(cls, settings: Settings) -> Encryptor:
        keys: dict[str, bytes] = {}
        current = ""
        for entry in settings.encryption_keys.get_secret_value().split(","):
            kid, sep, material = entry.strip().partition(":")
            if not sep:
                continue
            key = base64.urlsafe_b64decode(material.strip() + "=" * (-len(material.strip()) % 4))
            if len(key) != 32:
                raise ValueError(f"encryption key {kid!r} must be 32 bytes (base64 of 256 bits)")
            keys[kid.strip()] = key
            current = current or kid.strip()
        # The derived key stays readable, so values written before keys were configured
        # still decrypt and `keys rotate` can move them to a configured key.
        keys.setdefault(DERIVED_KID, _derive(settings.secret_key.get_secret_value()))
        return cls(keys, current or DERIVED_KID)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.current].encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_VERSION}.{self.current}.{body}"

    def decrypt(self, stored: str, context: str) -> str:
        try:
            version, kid, body = stored.split(".", 2)
            if version != _VERSION:
                raise ValueError(version)
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            aead = self._keys[kid]
            return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (ValueError, KeyError, InvalidTag) as exc:
            raise UndecryptableValue("cannot decrypt a stored value") from exc

    def key_id_of(self, stored: str) -> str:
        return stored.split(".", 2)[1] if stored.count(".") >= 2 else ""
