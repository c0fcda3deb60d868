import random

import numpy as np
import pytest
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
