"""`mynacard new` makes a blank card that only the named issuer can personalise, and never overwrites a card."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mynacard.cli import main
from mynacard.state import StateFile


def test_new_writes_a_blank_card_with_the_issuer_key_and_refuses_to_overwrite(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "issuer.pem"
    pem.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    state = tmp_path / "card.json"
    assert main(["new", "--state", str(state), "--issuer-public-key", str(pem), "--serial", "MN99999999999"]) == 0
    card = StateFile(state).load()
    assert card.serial == "MN99999999999" and not card.locked and not card.keys and not card.pins
    assert card.issuer_public_key == key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    before = state.read_bytes()
    assert main(["new", "--state", str(state), "--issuer-public-key", str(pem)]) == 2
    assert state.read_bytes() == before
