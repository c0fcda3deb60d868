import pytest
from cryptography.exceptions import InvalidTag
from mynumber_runtime.crypto import FieldSealer, KeyedHash, derive_key, unwrap_data_key, wrap_data_key
from mynumber_runtime.errors import Unauthenticated
from mynumber_runtime.identity import Caller


def test_sealed_values_open_only_with_their_column_and_key():
    sealer = FieldSealer({1: bytes(32)}, current=1)
    sealed = sealer.seal(b"123456789018", b"numbering.numbers")
    assert b"123456789018" not in sealed
    assert sealer.open(sealed, b"numbering.numbers") == b"123456789018"
    with pytest.raises(InvalidTag):
        sealer.open(sealed, b"another.column")
    assert sealer.seal(b"x", b"a") != sealer.seal(b"x", b"a")  # fresh nonce each time


def test_values_sealed_under_an_old_data_key_stay_readable_after_rotation():
    old = FieldSealer({1: bytes(32)}, current=1)
    sealed = old.seal(b"v", b"c")
    rotated = FieldSealer({1: bytes(32), 2: b"\x01" * 32}, current=2)
    assert rotated.open(sealed, b"c") == b"v"
    assert rotated.seal(b"v", b"c")[0] == 2
    assert [rotated.open(s, b"c") for s in rotated.seal_many([b"a", b"b"], b"c")] == [b"a", b"b"]


def test_data_keys_are_wrapped_by_the_kek():
    kek = derive_key(b"m" * 32, "kek")
    dek = b"\x07" * 32
    wrapped = wrap_data_key(kek, dek)
    assert dek not in wrapped and unwrap_data_key(kek, wrapped) == dek


def test_keyed_hash_is_stable_keyed_and_128_bits():
    h1, h2 = KeyedHash(b"k" * 32), KeyedHash(b"j" * 32)
    assert h1(b"123456789018") == h1(b"123456789018") != h2(b"123456789018")
    assert len(h1(b"x")) == 16
    assert h1.many([b"a", b"b"]) == [h1(b"a"), h1(b"b")]


@pytest.mark.parametrize("text", ["municipality:131016", "urn:mynumber:municipality:131016"])
def test_caller_identity_parses(text):
    assert Caller.parse(text) == Caller("municipality", "131016")


@pytest.mark.parametrize("text", ["", "municipality", "alien:1", "operator:"])
def test_malformed_or_unknown_identities_are_refused(text):
    with pytest.raises(Unauthenticated):
        Caller.parse(text)


def test_sub_keys_are_hkdf_sha256_with_the_purpose_as_info():
    import hashlib
    import hmac

    master = bytes(range(40))
    prk = hmac.new(b"\x00" * 32, master, hashlib.sha256).digest()  # RFC 5869 §2.2, no salt
    t1 = hmac.new(prk, b"mynumber/notice/pii-kek\x01", hashlib.sha256).digest()  # §2.3, first block
    assert derive_key(master, "notice/pii-kek") == t1
    assert derive_key(master, "notice/lookup-hash") != t1
    assert len(derive_key(master, "x", length=16)) == 16
