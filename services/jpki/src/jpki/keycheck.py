"""Card key hygiene before a certificate is signed (Boulder's goodkey; anchors.md §2.1).

A card generates its key pair on the chip; the CA sees only the public half (as a SubjectPublicKeyInfo, or
inside a PKCS#10 request whose signature proves the card holds the private half). Refused: non-RSA keys, moduli
below 2048 bits (or above 4096), exponents other than 65537, moduli with a small prime factor, moduli whose two
factors are close enough for Fermat's method, and (checked by the caller against the database) a modulus seen
before: two cards sharing a key means a broken generator (cf. the 2017 ROCA incident in Estonia).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jpki.errors import InvalidArgument, WeakKey

MIN_BITS = 2048
MAX_BITS = 4096
EXPONENT = 65537
FERMAT_ROUNDS = 100


def _primes_below(limit: int) -> list[int]:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for i in range(2, math.isqrt(limit) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(sieve[i * i :: i]))
    return [i for i in range(limit) if sieve[i]]


_SMALL_PRIMES_PRODUCT = math.prod(_primes_below(20_000))


@dataclass(frozen=True)
class CardKey:
    public_key: rsa.RSAPublicKey
    # SHA-256 of the big-endian modulus: the repeated-modulus guard (unique in the database).
    modulus_hash: bytes
    from_csr: bool


def load_card_key(*, public_key_der: bytes, csr_der: bytes) -> CardKey:
    """Exactly one of the two is given; returns the checked key or refuses naming the field and the rule."""
    if bool(public_key_der) == bool(csr_der):
        raise InvalidArgument("public_key", "give exactly one of public_key (DER SubjectPublicKeyInfo) or csr")
    if csr_der:
        try:
            csr = x509.load_der_x509_csr(csr_der)
            key = csr.public_key()
        except (ValueError, UnsupportedAlgorithm) as e:
            raise InvalidArgument("csr", "must be a DER-encoded PKCS#10 certification request") from e
        if not isinstance(key, rsa.RSAPublicKey):
            raise WeakKey("csr", "the card key must be RSA")
        check_rsa(key, "csr")
        try:
            valid = csr.is_signature_valid
        except (ValueError, UnsupportedAlgorithm):
            valid = False
        if not valid:
            raise InvalidArgument("csr", "the request's signature does not verify (proof of possession)")
        return CardKey(key, modulus_hash(key), True)
    try:
        loaded = serialization.load_der_public_key(public_key_der)
    except (ValueError, UnsupportedAlgorithm) as e:
        raise InvalidArgument("public_key", "must be a DER-encoded SubjectPublicKeyInfo") from e
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise WeakKey("public_key", "the card key must be RSA")
    check_rsa(loaded, "public_key")
    return CardKey(loaded, modulus_hash(loaded), False)


def modulus_hash(key: rsa.RSAPublicKey) -> bytes:
    n = key.public_numbers().n
    return hashlib.sha256(n.to_bytes((n.bit_length() + 7) // 8, "big")).digest()


def check_rsa(key: rsa.RSAPublicKey, field: str) -> None:
    numbers = key.public_numbers()
    n, e = numbers.n, numbers.e
    if key.key_size < MIN_BITS:
        raise WeakKey(field, f"RSA modulus must be at least {MIN_BITS} bits")
    if key.key_size > MAX_BITS:
        raise WeakKey(field, f"RSA modulus must be at most {MAX_BITS} bits")
    if e != EXPONENT:
        raise WeakKey(field, f"RSA public exponent must be {EXPONENT}")
    if n % 2 == 0 or math.gcd(n, _SMALL_PRIMES_PRODUCT) != 1:
        raise WeakKey(field, "RSA modulus has a small prime factor")
    a = math.isqrt(n)
    if a * a < n:
        a += 1
    for _ in range(FERMAT_ROUNDS):
        b2 = a * a - n
        b = math.isqrt(b2)
        if b * b == b2:
            raise WeakKey(field, "RSA modulus factors by Fermat's method (its primes are too close)")
        a += 1
