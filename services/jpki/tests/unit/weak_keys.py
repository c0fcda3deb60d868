"""RSA keys a broken card generator could produce, made on purpose: a modulus with a small prime factor, and one
whose two primes are close (Fermat's method factors it at once). Both are real key pairs, so a CSR can carry them."""

from __future__ import annotations

import random

from cryptography.hazmat.primitives.asymmetric import rsa

E = 65537


_SMALL = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]


def _probably_prime(n: int, rounds: int = 24) -> bool:
    if n < 2 or n % 2 == 0:
        return n == 2
    if any(n % p == 0 for p in _SMALL):
        return n in _SMALL
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    rnd = random.Random(n)
    for _ in range(rounds):
        x = pow(rnd.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime_from(start: int) -> int:
    """The first prime >= start whose p - 1 is coprime to E (so E is a valid exponent)."""
    p = start | 1
    while not (_probably_prime(p) and (p - 1) % E):
        p += 2
    return p


def _private(p: int, q: int) -> rsa.RSAPrivateKey:
    n, phi = p * q, (p - 1) * (q - 1)
    d = pow(E, -1, phi)
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                 rsa.RSAPublicNumbers(E, n)).private_key(unsafe_skip_rsa_key_validation=True)


# The first prime from (2**2047 // 19997 + 12345) up, found once by `_prime_from` (a search takes seconds).
Q_2034 = int(
    "1a37e4a7b48516b9314cd994d911c19a7b13e1a243abc36bdb2e82667dff1a96ef449473792b909f902994a4a1f84b1209b4"
    "2fe1121042290aff3187d7575267ed0d9bc2ce8bd2942b5f76c36f222b175d0ea1f1bd18dfc70e9b63c3eef2a5c8ed1770b8"
    "8d6f847cb0d1f39506f391bff6fcc96659f24030570d9534d561e572e5b12a7038bcf4d2eca8032cc4b04edc1dc06cf84e59"
    "06492671b4e76852a631ccaa0f8aa1ca6941e43846f94df9fbac4683527508ffef9d11172f2cd1cc412ff802f854e6ff7313"
    "92fa95b4a5dc9702ee7ff1408f61aa752337d444c59c45e603191ac4d114b9ef621354b5d6a65920810b19696c7f0bd77ea6"
    "3ee89ff8b", 16)


def small_factor_key() -> rsa.RSAPrivateKey:
    """A 2048-bit modulus 19 997 * Q_2034 (19 997 is the largest prime below the CA's 20 000 bound)."""
    assert _probably_prime(Q_2034)
    key = _private(19_997, Q_2034)
    assert key.key_size == 2048
    return key


def close_primes_key() -> rsa.RSAPrivateKey:
    """A 2048-bit modulus whose primes differ by a few thousand: sqrt(n) lands next to both."""
    p = _prime_from(rsa.generate_private_key(public_exponent=E, key_size=2048).private_numbers().p)
    q = _prime_from(p + 2)
    key = _private(p, q)
    assert key.key_size == 2048
    return key
