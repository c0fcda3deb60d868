"""FF1 format-preserving encryption (NIST SP 800-38G, AES), scalar and batched.

番号法 第8条2項: the number must be obtained by transforming the 住民票コード, differ from every other number, and
show no regularity that would let anyone restore the 住民票コード. A keyed pseudorandom permutation over 11-digit
strings gives all three: FF1 under a national key.

`encrypt`/`decrypt` follow the standard's algorithm for any radix and tweak (checked against the NIST samples).
`BatchFF1` computes the same function over many numerals at once: each Feistel round is one AES-ECB call over the
whole batch, and the arithmetic is done on numpy arrays, so bulk numbering runs at the database's speed.
"""

from __future__ import annotations

import math
import string

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from numpy.typing import NDArray

ALPHABET = string.digits + string.ascii_lowercase
ROUNDS = 10


def _ecb(key: bytes) -> Cipher[modes.ECB]:
    if len(key) not in (16, 24, 32):
        raise ValueError("FF1 key must be an AES-128, -192 or -256 key")
    return Cipher(algorithms.AES(key), modes.ECB())


def _params(radix: int, n: int) -> tuple[int, int, int, int]:
    if not 2 <= radix <= len(ALPHABET):
        raise ValueError("radix out of range")
    # SP 800-38G §5.2: radix^minlen >= 1,000,000 and minlen >= 2.
    if n < 2 or radix**n < 1_000_000:
        raise ValueError("numeral string too short for FF1 (radix^n must be at least 1,000,000)")
    u = n // 2
    v = n - u
    b = math.ceil((radix**v - 1).bit_length() / 8)  # ceil(ceil(v*log2(radix))/8), exactly
    d = 4 * math.ceil(b / 4) + 4
    return u, v, b, d


def _p_block(radix: int, u: int, n: int, t: int) -> bytes:
    head = bytes([1, 2, 1]) + radix.to_bytes(3, "big") + bytes([10, u % 256])
    return head + n.to_bytes(4, "big") + t.to_bytes(4, "big")


def _num(x: str, radix: int) -> int:
    return int(x, radix) if radix <= 36 else sum(ALPHABET.index(c) * radix**i for i, c in enumerate(reversed(x)))


def _str(x: int, radix: int, m: int) -> str:
    out = []
    for _ in range(m):
        x, r = divmod(x, radix)
        out.append(ALPHABET[r])
    return "".join(reversed(out))


def _round_value(enc: Cipher[modes.ECB], p: bytes, tweak: bytes, i: int, b_num: int, b: int, d: int) -> int:
    t = len(tweak)
    q = tweak + bytes((-t - b - 1) % 16) + bytes([i]) + b_num.to_bytes(b, "big")
    e = enc.encryptor()
    r = bytes(16)
    data = p + q
    for k in range(0, len(data), 16):  # PRF: CBC-MAC with a zero IV
        r = e.update(bytes(x ^ y for x, y in zip(r, data[k : k + 16], strict=True)))
    s = r
    for j in range(1, math.ceil(d / 16)):
        s += e.update(bytes(x ^ y for x, y in zip(r, j.to_bytes(16, "big"), strict=True)))
    return int.from_bytes(s[:d], "big")


def encrypt(key: bytes, tweak: bytes, x: str, radix: int = 10) -> str:
    n = len(x)
    u, v, b, d = _params(radix, n)
    enc = _ecb(key)
    p = _p_block(radix, u, n, len(tweak))
    a, bb = x[:u], x[u:]
    for i in range(ROUNDS):
        m = u if i % 2 == 0 else v
        y = _round_value(enc, p, tweak, i, _num(bb, radix), b, d)
        c = (_num(a, radix) + y) % radix**m
        a, bb = bb, _str(c, radix, m)
    return a + bb


def decrypt(key: bytes, tweak: bytes, x: str, radix: int = 10) -> str:
    n = len(x)
    u, v, b, d = _params(radix, n)
    enc = _ecb(key)
    p = _p_block(radix, u, n, len(tweak))
    a, bb = x[:u], x[u:]
    for i in reversed(range(ROUNDS)):
        m = u if i % 2 == 0 else v
        y = _round_value(enc, p, tweak, i, _num(a, radix), b, d)
        c = (_num(bb, radix) - y) % radix**m
        a, bb = _str(c, radix, m), a
    return a + bb


class BatchFF1:
    """FF1 over many decimal numerals of one length, as integer arrays.

    Restricted to radix 10 and lengths whose halves fit in 4 bytes (n <= 18), so the round function needs one
    AES block of output (d = 8). The tweak is fixed per instance; the constant part of the CBC-MAC (P and any
    full tweak blocks) is computed once.
    """

    def __init__(self, key: bytes, n: int, tweak: bytes = b"") -> None:
        u, v, b, d = _params(10, n)
        if b > 4 or d != 8:
            raise ValueError("BatchFF1 supports radix 10 numerals of at most 18 digits")
        self.n, self.u, self.v, self.b = n, u, v, b
        self._cipher = _ecb(key)
        q_len = len(tweak) + (-len(tweak) - b - 1) % 16 + 1 + b
        q_const = tweak + bytes((-len(tweak) - b - 1) % 16)
        prefix = _p_block(10, u, n, len(tweak)) + q_const[: q_len - 16]
        # CBC-MAC state after every block that does not depend on the round or the data.
        e = self._cipher.encryptor()
        state = bytes(16)
        for k in range(0, len(prefix), 16):
            state = e.update(bytes(x ^ y for x, y in zip(state, prefix[k : k + 16], strict=True)))
        last_const = q_const[q_len - 16 :]  # the constant head of Q's last block
        self._base = np.frombuffer(state, dtype=np.uint8) ^ np.frombuffer(
            last_const + bytes(16 - len(last_const)), dtype=np.uint8
        )
        self._pos = 16 - 1 - b  # where the round number goes in the last block

    def _y(self, i: int, num_b: NDArray[np.uint64]) -> NDArray[np.uint64]:
        count = num_b.shape[0]
        block = np.empty((count, 16), dtype=np.uint8)
        block[:] = self._base
        block[:, self._pos] ^= np.uint8(i)
        for k in range(self.b):
            shift = np.uint64(8 * (self.b - 1 - k))
            block[:, self._pos + 1 + k] ^= ((num_b >> shift) & np.uint64(0xFF)).astype(np.uint8)
        out = bytearray(16 * count + 15)  # update_into wants one block of slack
        e = self._cipher.encryptor()
        e.update_into(block.tobytes(), out)
        return np.frombuffer(out, dtype=">u8", count=2 * count).reshape(count, 2)[:, 0].astype(np.uint64)

    def encrypt(self, x: NDArray[np.uint64]) -> NDArray[np.uint64]:
        """x: integers in [0, 10^n), each the numeral as a number (leading zeros implied)."""
        x = np.asarray(x, dtype=np.uint64)
        split = np.uint64(10**self.v)
        a, b = x // split, x % split
        for i in range(ROUNDS):
            m = np.uint64(10 ** (self.u if i % 2 == 0 else self.v))
            c = (a + self._y(i, b) % m) % m
            a, b = b, c
        return a * split + b
