"""Encryption at rest for sensitive columns, and blind indexes to search them.

AES-256-GCM (``cryptography``) with keys from settings: the first of ``data_keys`` encrypts, all
of them decrypt, so a key can be rotated by putting the new one first and re-encrypting. Each
ciphertext starts with a key id, so old rows stay readable. A keyed HMAC (the blind index) lets
a full ID number be found by equality without decrypting anything.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12


class DecryptionError(ValueError):
    pass


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"liuzhi", info=purpose).derive(secret.encode())


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]


class Vault:
    def __init__(self, data_keys: tuple[str, ...] | list[str], hash_key: str) -> None:
        if not data_keys:
            raise ValueError("at least one data key is required")
        self._keys = [_derive(k, b"data-encryption") for k in data_keys]
        self._by_id = {_key_id(k): k for k in self._keys}
        self._hash_key = _derive(hash_key, b"blind-index")

    def encrypt(self, plaintext: str, context: bytes = b"") -> bytes:
        key = self._keys[0]
        nonce = os.urandom(_NONCE)
        return _key_id(key) + nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), context)

    def decrypt(self, blob: bytes, context: bytes = b"") -> str:
        key = self._by_id.get(bytes(blob[:4]))
        if key is None:
            raise DecryptionError("encrypted with a key this deployment no longer has")
        nonce, body = bytes(blob[4 : 4 + _NONCE]), bytes(blob[4 + _NONCE :])
        try:
            return AESGCM(key).decrypt(nonce, body, context).decode()
        except Exception as exc:  # InvalidTag: tampered, or wrong context
            raise DecryptionError("ciphertext does not verify") from exc

    def needs_rotation(self, blob: bytes) -> bool:
        return bytes(blob[:4]) != _key_id(self._keys[0])

    def blind_index(self, value: str, purpose: str) -> str:
        return hmac.new(self._hash_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
