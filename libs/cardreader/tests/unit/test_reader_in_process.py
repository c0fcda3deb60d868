"""The reader library against the in-process card: typed errors, data formats, personalisation."""

from __future__ import annotations

import copy
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from mynacard.card import InProcessTransport, VirtualCard
from mynacard.state import CardState
from mynumber_cardreader import (
    AID_JPKI,
    AID_KENHOJO,
    FileNotFoundOnCardError,
    JpkiKey,
    MyNumberCard,
    PinBlockedError,
    SecurityStatusError,
    WrongPinError,
    apdu,
    kenhojo,
)
from mynumber_cardreader.errors import CardStatusError
from mynumber_cardreader.personalise import IssuerSession
from mynumber_cardreader.testing import SAMPLE_CONTENTS, SAMPLE_PINS, TestIssuer

from ..conftest import SERIAL


@pytest.fixture
def card(personalised: tuple[CardState, dict]) -> MyNumberCard:
    return MyNumberCard(InProcessTransport(VirtualCard(copy.deepcopy(personalised[0]))))


def test_apdu_builders_give_the_bytes_of_domain_md() -> None:
    assert apdu.select_aid(AID_JPKI).hex().upper() == "00A4040C0AD392F000260100000001"
    assert apdu.select_ef(0x0018).hex().upper() == "00A4020C020018"
    assert apdu.verify(b"1234").hex().upper() == "002000800431323334"
    assert apdu.verify().hex().upper() == "00200080"
    assert apdu.read_binary(0x0100, 256).hex().upper() == "00B0010000"
    assert apdu.read_record(1, 1).hex().upper() == "00B2010C00"
    assert apdu.compute_signature(b"\x01" * 0x33)[:5].hex().upper() == "802A008033"
    assert apdu.extended(0x00, 0xB0, 0x00, 0x00, le=0).hex().upper() == "00B00000000000"


def test_number_and_facts_are_read_with_the_pin_and_the_jlis_signature_checks(
    card: MyNumberCard, issuer: TestIssuer
) -> None:
    number, facts = card.read_number_and_facts(SAMPLE_PINS.kenhojo, issuer.jlis_key.public_key())
    assert number == "123456789018"
    assert facts == SAMPLE_CONTENTS.facts
    assert "山田" not in repr(facts)  # personal data stays out of reprs and logs


def test_wrong_pin_reports_tries_left_then_blocked(card: MyNumberCard) -> None:
    with pytest.raises(WrongPinError) as e:
        card.read_number_and_facts("0000")
    assert e.value.tries_left == 2 and "0000" not in str(e.value)
    for left in (1, 0):
        with pytest.raises(WrongPinError) as e:
            card.verify_pin(AID_KENHOJO, 0x0011, "0000")
        assert e.value.tries_left == left
    with pytest.raises(PinBlockedError):
        card.read_number_and_facts(SAMPLE_PINS.kenhojo)
    assert card.pin_tries_left(AID_KENHOJO, 0x0011) == 0


def test_protected_file_without_pin_and_missing_file_are_typed(card: MyNumberCard) -> None:
    with pytest.raises(SecurityStatusError):
        card.read_ef(AID_KENHOJO, 0x0002)
    with pytest.raises(FileNotFoundOnCardError):
        card.read_ef(AID_JPKI, 0x0099)
    with pytest.raises(FileNotFoundOnCardError):
        card.select_ap(bytes.fromhex("A000000003"))


def test_both_keys_sign_after_their_pin_and_verify_with_their_certificate(card: MyNumberCard) -> None:
    for which, pin in ((JpkiKey.AUTH, SAMPLE_PINS.auth), (JpkiKey.SIGN, SAMPLE_PINS.sign)):
        cert = card.read_certificate(which, password=SAMPLE_PINS.sign)
        sig = card.sign_digest(which, pin, hashlib.sha256(b"m").digest())
        cert.public_key().verify(sig, b"m", padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    # a DigestInfo the card does not know is still padded and signed (raw PKCS#1 v1.5 type 1)
    sig = card.sign_digest_info(JpkiKey.AUTH, SAMPLE_PINS.auth, b"not a digest info")
    pub = card.read_certificate(JpkiKey.AUTH).public_key()
    recovered = pow(int.from_bytes(sig, "big"), 65537, pub.public_numbers().n).to_bytes(256, "big")  # type: ignore[union-attr]
    assert recovered.startswith(b"\x00\x01\xff") and recovered.endswith(b"\x00not a digest info")


def test_change_pin_then_old_pin_is_wrong(card: MyNumberCard) -> None:
    card.change_pin(AID_JPKI, 0x0018, SAMPLE_PINS.auth, "8642")
    with pytest.raises(WrongPinError):
        card.verify_pin(AID_JPKI, 0x0018, SAMPLE_PINS.auth)
    card.verify_pin(AID_JPKI, 0x0018, "8642")


def test_manufacture_number_from_the_juki_record(card: MyNumberCard) -> None:
    assert card.read_manufacture_number() == SERIAL


def test_tampered_facts_fail_the_jlis_signature(issuer: TestIssuer) -> None:
    n = kenhojo.encode_my_number("123456789018")
    f = kenhojo.encode_basic_four(SAMPLE_CONTENTS.facts)
    sig = kenhojo.sign_facts(n, f, issuer.jlis_key)
    kenhojo.verify_facts(n, f, sig, issuer.jlis_key.public_key())
    other = kenhojo.encode_basic_four(kenhojo.BasicFour("山田　花子", "東京都千代田区", "19801231", "2"))
    with pytest.raises(kenhojo.FormatError):
        kenhojo.verify_facts(n, other, sig, issuer.jlis_key.public_key())
    assert kenhojo.decode_basic_four(f) == SAMPLE_CONTENTS.facts
    assert f[:3] == b"\xff\x20\x82" and f[5:8] == b"\xdf\x21\x08"
    assert int.from_bytes(f[8:10], "big") == 16 and f[16:18] == b"\xdf\x22"  # offsets are absolute


def test_wrong_issuer_key_cannot_personalise(issuer: TestIssuer) -> None:
    blank = VirtualCard(CardState.manufacture(issuer.issuer_public_der(), SERIAL))
    intruder = IssuerSession(InProcessTransport(blank), TestIssuer.create().issuer_key)
    with pytest.raises(CardStatusError) as e:
        intruder.authenticate(SERIAL)
    assert e.value.sw == 0x6300
    with pytest.raises(SecurityStatusError):
        intruder.write_file(AID_JPKI, 0x0006, b"x")


def test_full_width_digits_are_refused_and_no_error_quotes_the_value(card: MyNumberCard) -> None:
    with pytest.raises(ValueError) as number_error:
        kenhojo.encode_my_number("１２３４５６７８９０１８")  # isdigit() alone would let these through
    assert "１" not in str(number_error.value)
    with pytest.raises(ValueError) as pin_error:
        card.verify_pin(AID_JPKI, 0x0018, "１２３４")
    assert "１" not in str(pin_error.value) and "\\uff11" not in str(pin_error.value)
    assert pin_error.value.__context__ is None  # no codec error carrying the PIN
    assert card.pin_tries_left(AID_JPKI, 0x0018) == 3  # nothing was sent, nothing counted
    broken = kenhojo.encode_basic_four(SAMPLE_CONTENTS.facts).replace("山".encode(), b"\xe5\xff\xff")
    with pytest.raises(kenhojo.FormatError) as facts_error:
        kenhojo.decode_basic_four(broken)
    assert str(facts_error.value) == "basic four EF: name is not UTF-8" and facts_error.value.__context__ is None
