"""The reader library against a card process through the real pcscd and vpcd (loopback only)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from mynacard.state import StateFile
from mynumber_cardreader import (
    JpkiKey,
    MyNumberCard,
    PcscTransport,
    PinBlockedError,
    SecurityStatusError,
    WrongPinError,
    list_readers,
)
from mynumber_cardreader.testing import SAMPLE_CONTENTS, SAMPLE_PINS, TestIssuer, card_on_pcscd

pytestmark = pytest.mark.integration


def test_kiosk_reads_number_facts_certificates_and_verifies_a_card_signature(
    state_file: Path, issuer: TestIssuer
) -> None:
    with card_on_pcscd(state_file):
        assert "Virtual PCD 00 00" in list_readers()
        t = PcscTransport.wait_for_card("Virtual PCD 00 00", timeout=15)
        assert t.atr == bytes.fromhex("3BE000FF8131FE4514")
        card = MyNumberCard(t)
        number, facts = card.read_number_and_facts(SAMPLE_PINS.kenhojo, issuer.jlis_key.public_key())
        assert number == SAMPLE_CONTENTS.number
        assert facts == SAMPLE_CONTENTS.facts
        assert card.read_manufacture_number() == "MN00000000042"
        auth = card.read_certificate(JpkiKey.AUTH)
        sign = card.read_certificate(JpkiKey.SIGN, password=SAMPLE_PINS.sign)
        assert auth.issuer == card.read_certificate(JpkiKey.AUTH, ca=True).subject
        for which, cert, pin in ((JpkiKey.AUTH, auth, SAMPLE_PINS.auth), (JpkiKey.SIGN, sign, SAMPLE_PINS.sign)):
            msg = f"store kiosk challenge for {which.name}".encode()
            sig = card.sign_digest(which, pin, hashlib.sha256(msg).digest())
            cert.public_key().verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
        t.close()


def test_pin_lockout_through_the_real_stack_survives_the_card_process(state_file: Path) -> None:
    with card_on_pcscd(state_file):
        t = PcscTransport.wait_for_card(timeout=15)
        card = MyNumberCard(t)
        with pytest.raises(SecurityStatusError):
            card.read_ef(bytes.fromhex("D3921000310001010408"), 0x0001)
        tries = []
        for _ in range(3):
            with pytest.raises(WrongPinError) as e:
                card.verify_pin(bytes.fromhex("D392F000260100000001"), 0x0018, "0000")
            tries.append(e.value.tries_left)
        assert tries == [2, 1, 0]
        with pytest.raises(PinBlockedError) as blocked:
            card.verify_pin(bytes.fromhex("D392F000260100000001"), 0x0018, SAMPLE_PINS.auth)
        assert blocked.value.sw == 0x6984
        assert card.pin_tries_left(bytes.fromhex("D392F000260100000001"), 0x0018) == 0
        # the signing password is independent: 5 tries, wrong once, right resets
        with pytest.raises(WrongPinError) as e:
            card.verify_pin(bytes.fromhex("D392F000260100000001"), 0x001B, "WRONG1")
        assert e.value.tries_left == 4
        card.verify_pin(bytes.fromhex("D392F000260100000001"), 0x001B, SAMPLE_PINS.sign.lower())  # readers upper-case
        assert card.pin_tries_left(bytes.fromhex("D392F000260100000001"), 0x001B) == 5
        t.close()
    state = StateFile(state_file).load()  # the process is gone; the card in the wallet keeps the block
    assert state.pins["D392F000260100000001/0018"].tries_left == 0
