"""Field encryption at rest and keyed hashes for look-ups (envelope encryption).

A service's key-encryption key (KEK) comes from a secret file. Data keys (DEKs) are random, wrapped with the KEK
(AES key wrap, RFC 3394) and stored beside the data, so the KEK can be rotated by re-wrapping a few rows and the
data never leaves the database in clear. Each sealed value starts with the 1-byte id of its data key.
Look-ups never use the plain value: a keyed hash (keyed BLAKE2b, a PRF, 16 bytes) is indexed instead.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

NONCE_BYTES = 12
HASH_BYTES = 16


def derive_key(master: bytes, purpose: str, length: int = 32) -> bytes:
    """A sub-key for one purpose, so one secret file can feed several independent keys (HKDF-SHA256, RFC 5869,
    the purpose as its info)."""
    return HKDF(algorithm=SHA256(), length=length, salt=None, info=b"mynumber/" + purpose.encode()).derive(master)


def wrap_data_key(kek: bytes, dek: bytes) -> bytes:
    return aes_key_wrap(kek, dek)


def unwrap_data_key(kek: bytes, wrapped: bytes) -> bytes:
    return aes_key_unwrap(kek, wrapped)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


class FieldSealer:
    """AES-256-GCM for fields; the associated data binds a ciphertext to its column so values cannot be swapped."""

    def __init__(self, keys: dict[int, bytes], current: int) -> None:
        if current not in keys:
            raise ValueError("the current data key id has no key")
        self._aead = {kid: AESGCM(k) for kid, k in keys.items()}
        self._current = current

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return bytes([self._current]) + nonce + self._aead[self._current].encrypt(nonce, plaintext, aad)

    def seal_many(self, plaintexts: Sequence[bytes], aad: bytes) -> list[bytes]:
        """Bulk path: one urandom call for all nonces."""
        aead = self._aead[self._current].encrypt
        kid = bytes([self._current])
        nonces = os.urandom(NONCE_BYTES * len(plaintexts))
        out = []
        for i, p in enumerate(plaintexts):
            nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
            out.append(kid + nonce + aead(nonce, p, aad))
        return out

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        aead = self._aead.get(sealed[0])
        if aead is None:
            raise ValueError("sealed value names an unknown data key")
        return aead.decrypt(sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], aad)


class SubjectSealer:
    """Seals event payloads under the platform event key with the event's subject as associated data, so a
    payload cannot be replayed under another event type. Producers and consumers hold the same key."""

    def __init__(self, key: bytes) -> None:
        self._sealer = FieldSealer({1: key}, current=1)

    def seal(self, subject: str, plaintext: bytes) -> bytes:
        return self._sealer.seal(plaintext, subject.encode())

    def seal_many(self, subject: str, plaintexts: Sequence[bytes]) -> list[bytes]:
        return self._sealer.seal_many(plaintexts, subject.encode())

    def open(self, subject: str, sealed: bytes) -> bytes:
        return self._sealer.open(sealed, subject.encode())


class KeyedHash:
    """Keyed BLAKE2b (RFC 7693 keyed mode, a PRF) with a 128-bit output: the look-up key of a personal value.
    One C call per value, which matters on bulk paths (HMAC-SHA-256 costs about three times as much here)."""

    def __init__(self, key: bytes) -> None:
        if not 16 <= len(key) <= 64:
            raise ValueError("keyed hash key must be 16-64 bytes")
        self._key = key

    def __call__(self, value: bytes) -> bytes:
        return hashlib.blake2b(value, key=self._key, digest_size=HASH_BYTES).digest()

    def many(self, values: Sequence[bytes]) -> list[bytes]:
        b2, key = hashlib.blake2b, self._key
        return [b2(v, key=key, digest_size=HASH_BYTES).digest() for v in values]
