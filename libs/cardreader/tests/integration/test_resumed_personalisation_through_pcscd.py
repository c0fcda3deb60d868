"""A personalisation line that stops part-way (after the 利用者証明用 certificate, before the 署名用 one) is run again
on the same card through pcscd: the keys generated on the card the first time are certified again, never
replaced. And a holder under 15 gets no 署名用 key or certificate (domain.md §4.4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from mynacard.state import CardState, StateFile
from mynumber_cardreader import JpkiKey, PcscTransport
from mynumber_cardreader.testing import SAMPLE_CONTENTS, SAMPLE_PINS, TestIssuer, card_on_pcscd

pytestmark = pytest.mark.integration

KEY_EF = {JpkiKey.AUTH: "D392F000260100000001/0017", JpkiKey.SIGN: "D392F000260100000001/001A"}


class LineStopped(Exception):
    pass


def test_a_stopped_personalisation_rerun_certifies_the_same_card_keys(issuer: TestIssuer, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    StateFile(path).save(CardState.manufacture(issuer.issuer_public_der(), "MN00000000901"))
    asked: list[tuple[JpkiKey, int]] = []

    def stops_before_sign(which: JpkiKey, pub: rsa.RSAPublicKey) -> tuple[x509.Certificate, x509.Certificate]:
        asked.append((which, pub.public_numbers().n))
        if which is JpkiKey.SIGN:
            raise LineStopped
        return issuer.ca.certify(which, pub)

    def certify(which: JpkiKey, pub: rsa.RSAPublicKey) -> tuple[x509.Certificate, x509.Certificate]:
        asked.append((which, pub.public_numbers().n))
        return issuer.ca.certify(which, pub)

    with card_on_pcscd(path):
        t = PcscTransport.wait_for_card("Virtual PCD 00 00", timeout=15)
        with pytest.raises(LineStopped):
            issuer.personalise(t, "MN00000000901", SAMPLE_CONTENTS, SAMPLE_PINS, certify=stops_before_sign)
        first = dict(asked)
        asked.clear()
        certs = issuer.personalise(t, "MN00000000901", SAMPLE_CONTENTS, SAMPLE_PINS, certify=certify)
        t.close()
    again = dict(asked)
    # The same card keys were asked to be certified both times: none was generated anew.
    assert again == first and set(again) == {JpkiKey.AUTH, JpkiKey.SIGN}
    for which, cert in certs.items():
        pub = cert.public_key()
        assert isinstance(pub, rsa.RSAPublicKey) and pub.public_numbers().n == first[which]
    state = StateFile(path).load()
    assert state.locked and set(state.keys) == set(KEY_EF.values())


def test_a_holder_under_15_gets_no_signing_key_or_certificate(issuer: TestIssuer, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    StateFile(path).save(CardState.manufacture(issuer.issuer_public_der(), "MN00000000902"))
    with card_on_pcscd(path):
        t = PcscTransport.wait_for_card("Virtual PCD 00 00", timeout=15)
        certs = issuer.personalise(t, "MN00000000902", SAMPLE_CONTENTS, SAMPLE_PINS, sign_certificate=False)
        t.close()
    assert set(certs) == {JpkiKey.AUTH}
    state = StateFile(path).load()
    assert set(state.keys) == {KEY_EF[JpkiKey.AUTH]}
