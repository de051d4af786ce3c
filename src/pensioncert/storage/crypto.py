"""Protection at rest: AES-GCM for media, templates and ID numbers; keyed hashes for lookup.

ID numbers are never stored in clear: a keyed HMAC finds a retiree by number,
the AES-GCM ciphertext lets authorised staff see it, and a masked form is kept
for lists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_VERSION = b"\x01"


class DecryptionFailed(ValueError):
    """Ciphertext was tampered with or made with another key."""


def _key_bytes(key: str) -> bytes:
    raw = base64.urlsafe_b64decode(key.encode())
    if len(raw) not in (16, 24, 32):
        # Derive a proper AES key from a passphrase-like setting rather than refusing to start.
        raw = hashlib.sha256(raw).digest()
    return raw


@dataclass(frozen=True)
class Protector:
    """Encrypts, decrypts and hashes with the keys from settings."""

    data_key: str
    lookup_key: str

    def encrypt(self, plaintext: bytes, context: bytes = b"") -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + AESGCM(_key_bytes(self.data_key)).encrypt(nonce, plaintext, context)

    def decrypt(self, ciphertext: bytes, context: bytes = b"") -> bytes:
        if not ciphertext.startswith(_VERSION) or len(ciphertext) < 1 + _NONCE_BYTES + 16:
            raise DecryptionFailed("not a pensioncert ciphertext")
        nonce, body = ciphertext[1 : 1 + _NONCE_BYTES], ciphertext[1 + _NONCE_BYTES :]
        try:
            return AESGCM(_key_bytes(self.data_key)).decrypt(nonce, body, context)
        except Exception as failure:  # cryptography raises InvalidTag
            raise DecryptionFailed("ciphertext does not authenticate") from failure

    def encrypt_text(self, text: str, context: str = "") -> bytes:
        return self.encrypt(text.encode("utf-8"), context.encode())

    def decrypt_text(self, ciphertext: bytes, context: str = "") -> str:
        return self.decrypt(ciphertext, context.encode()).decode("utf-8")

    def lookup_hash(self, value: str) -> str:
        """Keyed hash used as the searchable stand-in for an ID number."""
        return hmac.new(self.lookup_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def protector_from_settings() -> Protector:
    from pensioncert.settings import get_settings

    security = get_settings().security
    return Protector(security.data_key, security.lookup_key)
