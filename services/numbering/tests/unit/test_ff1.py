import random

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from numbering import ff1

K128 = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
K192 = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F")
K256 = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94")
T10 = bytes.fromhex("39383736353433323130")
T11 = bytes.fromhex("3737373770717273373737")
ALPHA = "0123456789abcdefghi"

# NIST SP 800-38G FF1 sample vectors 1-9 (AES-128, -192, -256; radix 10 and 36).
NIST = [
    (K128, b"", "0123456789", 10, "2433477484"),
    (K128, T10, "0123456789", 10, "6124200773"),
    (K128, T11, ALPHA, 36, "a9tv40mll9kdu509eum"),
    (K192, b"", "0123456789", 10, "2830668132"),
    (K192, T10, "0123456789", 10, "2496655549"),
    (K192, T11, ALPHA, 36, "xbj3kv35jrawxv32ysr"),
    (K256, b"", "0123456789", 10, "6657667009"),
    (K256, T10, "0123456789", 10, "1001623463"),
    (K256, T11, ALPHA, 36, "xs8a0azh2avyalyzuwd"),
]


@pytest.mark.parametrize(("key", "tweak", "pt", "radix", "ct"), NIST)
def test_nist_sample_vectors(key, tweak, pt, radix, ct):
    assert ff1.encrypt(key, tweak, pt, radix) == ct
    assert ff1.decrypt(key, tweak, ct, radix) == pt


@pytest.mark.parametrize(("key", "tweak", "pt", "radix", "ct"), [v for v in NIST if v[3] == 10])
def test_batched_ff1_matches_the_nist_radix_10_vectors(key, tweak, pt, radix, ct):
    assert ff1.BatchFF1(key, 10, tweak).encrypt(np.array([int(pt)], dtype=np.uint64)).tolist() == [int(ct)]


def test_batched_ff1_equals_the_scalar_algorithm_on_11_digit_numerals():
    rng = random.Random(11)
    key = bytes(rng.randrange(256) for _ in range(32))
    xs = [rng.randrange(10**11) for _ in range(1500)] + [0, 10**11 - 1]
    batched = ff1.BatchFF1(key, 11).encrypt(np.array(xs, dtype=np.uint64)).tolist()
    assert batched == [int(ff1.encrypt(key, b"", f"{x:011d}")) for x in xs]


def test_distinct_inputs_give_distinct_outputs_on_a_large_sample():
    key = bytes(range(32))
    xs = np.arange(1_000_000, dtype=np.uint64) * np.uint64(99_991)  # spread over the domain
    ys = ff1.BatchFF1(key, 11).encrypt(xs)
    assert len(np.unique(ys)) == len(xs)
    assert int(ys.max()) < 10**11


def test_decrypt_inverts_encrypt():
    key = bytes(range(16))
    for x in ["00000000000", "99999999999", "31415926535"]:
        assert ff1.decrypt(key, b"", ff1.encrypt(key, b"", x)) == x


def test_too_short_numerals_and_bad_keys_are_refused():
    with pytest.raises(ValueError, match="too short"):
        ff1.encrypt(K128, b"", "12345")
    with pytest.raises(ValueError, match="AES"):
        ff1.encrypt(b"short", b"", "0123456789")


def test_the_shortest_numerals_the_standard_allows_are_accepted():
    # SP 800-38G: radix^n >= 1,000,000. 10^6 and 2^20 are just enough; 2^19 is not.
    key = bytes(range(16))
    for radix, x in ((10, "314159"), (2, "10110011100011110000")):
        assert ff1.decrypt(key, b"", ff1.encrypt(key, b"", x, radix), radix) == x
    with pytest.raises(ValueError, match="too short"):
        ff1.encrypt(key, b"", "1011001110001111000", 2)


def test_a_radix_outside_2_to_36_is_refused():
    for radix in (1, 37):
        with pytest.raises(ValueError, match="radix"):
            ff1.encrypt(K128, b"", "0" * 40, radix)


def test_a_key_of_no_aes_size_is_refused_by_ff1_itself():
    # 64 bytes is a size the AES primitive takes (for XTS), not one FF1 may use.
    for key in (bytes(15), bytes(17), bytes(64)):
        with pytest.raises(ValueError, match="FF1 key must be"):
            ff1.encrypt(key, b"", "0123456789")


@pytest.mark.parametrize("n", range(6, 19))
def test_batched_ff1_equals_the_scalar_algorithm_at_every_length(n):
    rng = random.Random(n)
    key = bytes(rng.randrange(256) for _ in range(16))
    xs = [rng.randrange(10**n) for _ in range(30)] + [0, 10**n - 1]
    for tweak in (b"", T10):
        batched = ff1.BatchFF1(key, n, tweak).encrypt(np.array(xs, dtype=np.uint64)).tolist()
        assert batched == [int(ff1.encrypt(key, tweak, f"{x:0{n}d}")) for x in xs]


@pytest.mark.parametrize("t", range(34))
def test_batched_ff1_equals_the_scalar_algorithm_for_every_tweak_length(t):
    # The batched CBC-MAC precomputes the blocks before the round's: whole tweak blocks and, when the tweak ends
    # 1-4 bytes short of a block, part of its zero padding. n = 6, 11, 18 give b = 2, 3, 4.
    rng = random.Random(1000 + t)
    key = bytes(rng.randrange(256) for _ in range(16))
    tweak = bytes(rng.randrange(256) for _ in range(t))
    for n in (6, 11, 18):
        xs = [rng.randrange(10**n) for _ in range(8)]
        batched = ff1.BatchFF1(key, n, tweak).encrypt(np.array(xs, dtype=np.uint64)).tolist()
        assert batched == [int(ff1.encrypt(key, tweak, f"{x:0{n}d}")) for x in xs]


def test_batched_ff1_refuses_more_than_18_digits():
    with pytest.raises(ValueError, match="at most 18 digits"):
        ff1.BatchFF1(K128, 19)


def _reference_ff1(key: bytes, tweak: bytes, x: str, radix: int) -> str:
    """SP 800-38G Algorithm 7 written out step by step (a PRF block by block, exact integer sizes), as an oracle for
    the lengths, radixes and tweaks the NIST samples do not reach (b > 8, d > 16, u >= 256, long tweaks)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"

    def ciph(block: bytes) -> bytes:
        e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        return e.update(block) + e.finalize()

    def prf(data: bytes) -> bytes:
        y = bytes(16)
        for j in range(len(data) // 16):
            y = ciph(bytes(a ^ c for a, c in zip(y, data[16 * j: 16 * j + 16], strict=True)))
        return y

    def num(s: str) -> int:
        value = 0
        for ch in s:
            value = value * radix + digits.index(ch)
        return value

    def text(value: int, m: int) -> str:
        out = ""
        for _ in range(m):
            out = digits[value % radix] + out
            value //= radix
        return out

    n, t = len(x), len(tweak)
    u = n // 2
    v = n - u
    a, b_str = x[:u], x[u:]
    bits = 0
    while 2**bits < radix**v:  # ceil(v * log2(radix)), exactly
        bits += 1
    b = -(-bits // 8)
    d = 4 * -(-b // 4) + 4
    p = bytes([1, 2, 1]) + radix.to_bytes(3, "big") + bytes([10, u % 256]) + n.to_bytes(4, "big") + t.to_bytes(4, "big")
    for i in range(10):
        q = tweak + bytes((-t - b - 1) % 16) + bytes([i]) + num(b_str).to_bytes(b, "big")
        r = prf(p + q)
        s = r + b"".join(ciph(bytes(c ^ k for c, k in zip(r, j.to_bytes(16, "big"), strict=True)))
                         for j in range(1, -(-d // 16)))
        y = int.from_bytes(s[:d], "big")
        m = u if i % 2 == 0 else v
        c = (num(a) + y) % radix**m
        a, b_str = b_str, text(c, m)
    return a + b_str


def test_the_reference_is_the_standard():
    for key, tweak, pt, radix, ct in NIST:
        assert _reference_ff1(key, tweak, pt, radix) == ct


@pytest.mark.parametrize(("radix", "n"), [(10, 19), (10, 24), (10, 57), (10, 60), (10, 520), (36, 37), (36, 40),
                                          (2, 20), (2, 200), (16, 64)])
def test_ff1_equals_the_reference_beyond_the_nist_samples(radix, n):
    rng = random.Random(radix * 1000 + n)
    for tweak in (b"", bytes(range(20)), bytes(range(40))):
        key = bytes(rng.randrange(256) for _ in range(rng.choice((16, 24, 32))))
        x = "".join(ff1.ALPHABET[rng.randrange(radix)] for _ in range(n))
        ct = ff1.encrypt(key, tweak, x, radix)
        assert ct == _reference_ff1(key, tweak, x, radix)
        assert ff1.decrypt(key, tweak, ct, radix) == x
