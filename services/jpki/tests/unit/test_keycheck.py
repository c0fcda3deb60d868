"""The card-key checks of jpki.keycheck on their own: a small prime factor and close primes are refused, naming
the field and the rule; a sound key passes."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jpki.errors import WeakKey
from jpki.keycheck import check_rsa, load_card_key

from .weak_keys import close_primes_key, small_factor_key


def _spki(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _csr(key: rsa.RSAPrivateKey) -> bytes:
    return (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                                                               "card")]))
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


@pytest.fixture(scope="module")
def small() -> rsa.RSAPrivateKey:
    return small_factor_key()


@pytest.fixture(scope="module")
def close() -> rsa.RSAPrivateKey:
    return close_primes_key()


def test_a_modulus_with_a_small_prime_factor_is_refused(small: rsa.RSAPrivateKey) -> None:
    with pytest.raises(WeakKey, match="public_key: RSA modulus has a small prime factor") as e:
        check_rsa(small.public_key(), "public_key")
    assert e.value.reason == "WEAK_KEY"
    with pytest.raises(WeakKey, match="small prime factor"):
        load_card_key(public_key_der=_spki(small), csr_der=b"")
    with pytest.raises(WeakKey, match="csr: RSA modulus has a small prime factor"):
        load_card_key(public_key_der=b"", csr_der=_csr(small))


def test_a_modulus_of_two_close_primes_is_refused(close: rsa.RSAPrivateKey) -> None:
    with pytest.raises(WeakKey, match="public_key: RSA modulus factors by Fermat's method"):
        check_rsa(close.public_key(), "public_key")
    with pytest.raises(WeakKey, match="csr: RSA modulus factors by Fermat's method"):
        load_card_key(public_key_der=b"", csr_der=_csr(close))


def test_a_sound_card_key_passes() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    card = load_card_key(public_key_der=b"", csr_der=_csr(key))
    assert card.from_csr and card.public_key.public_numbers() == key.public_key().public_numbers()
