"""The issuance counter personalises a blank card through pcscd, then the kiosk reads it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from mynacard.state import CardState, StateFile
from mynumber_cardreader import JpkiKey, MyNumberCard, PcscTransport
from mynumber_cardreader.testing import SAMPLE_CONTENTS, SAMPLE_PINS, TestIssuer, card_on_pcscd

pytestmark = pytest.mark.integration


def test_blank_card_is_personalised_over_pcsc_and_then_readable(issuer: TestIssuer, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    StateFile(path).save(CardState.manufacture(issuer.issuer_public_der(), "MN00000000777"))
    with card_on_pcscd(path):
        t = PcscTransport.wait_for_card("Virtual PCD 00 00", timeout=15)
        certs = issuer.personalise(t, "MN00000000777", SAMPLE_CONTENTS, SAMPLE_PINS)
        card = MyNumberCard(t)
        assert card.read_number_and_facts(SAMPLE_PINS.kenhojo, issuer.jlis_key.public_key())[0] == "123456789018"
        sig = card.sign_digest(JpkiKey.AUTH, SAMPLE_PINS.auth, hashlib.sha256(b"kiosk").digest())
        certs[JpkiKey.AUTH].public_key().verify(sig, b"kiosk", padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
        t.close()
    state = StateFile(path).load()
    assert state.locked and set(state.keys) == {"D392F000260100000001/0017", "D392F000260100000001/001A"}
