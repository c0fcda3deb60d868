"""The chip at the APDU level, with the exact bytes real readers send (domain.md §3.3, opensc-jpki.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from mynacard.card import VirtualCard
from mynacard.state import CardState, StateFile
from mynumber_cardreader.testing import SAMPLE_PINS

from ..conftest import tx

JPKI = "00A4040C0AD392F000260100000001"
KENHOJO = "00A4040C0AD3921000310001010408"
JUKI = "00A4040C0AD3921000310001010100"


def test_select_each_application_by_aid_answers_9000_without_data(card: VirtualCard) -> None:
    for aid in ("D392F000260100000001", "D3921000310001010408", "D3921000310001010402", "D3921000310001010100"):
        assert tx(card, "00A4040C0A" + aid) == "9000"


def test_unknown_aid_and_foreign_driver_probes_answer_6a82(card: VirtualCard) -> None:
    assert tx(card, "00A4040006A00000000101") == "6A82"  # muscle: 9000 would make muscle claim the card
    assert tx(card, "00A404000CF276A288BCFBA69D34F31001") == "6A82"  # isoApplet
    assert tx(card, "00CADF3005") == "6D00"  # setcos GET DATA
    assert tx(card, "00CB3FFF035C017E00") == "6D00"  # PIV discovery


def test_ef_select_needs_an_application_and_an_existing_fid(card: VirtualCard) -> None:
    assert tx(card, "00A4020C020018") == "6A82"  # no DF selected yet
    assert tx(card, JPKI) == "9000"
    assert tx(card, "00A4020C020018") == "9000"
    assert tx(card, "00A4020C020099") == "6A82"


def test_empty_verify_reports_tries_left_even_after_a_correct_pin(card: VirtualCard) -> None:
    tx(card, JPKI)
    tx(card, "00A4020C020018")
    assert tx(card, "00200080") == "63C3"
    assert tx(card, "0020008004" + b"1234".hex()) == "9000"
    assert tx(card, "00200080") == "63C3"  # OpenSC needs 63Cx here, never 9000
    tx(card, "00A4020C02001B")
    assert tx(card, "00200080") == "63C5"


def test_auth_pin_blocks_after_three_failures_and_a_correct_entry_resets_the_counter(card: VirtualCard) -> None:
    tx(card, JPKI)
    tx(card, "00A4020C020018")
    assert tx(card, "0020008004" + b"0000".hex()) == "63C2"
    assert tx(card, "0020008004" + b"0000".hex()) == "63C1"
    assert tx(card, "0020008004" + b"1234".hex()) == "9000"
    assert tx(card, "00200080") == "63C3"
    for left in (2, 1, 0):
        assert tx(card, "0020008004" + b"9999".hex()) == f"63C{left}"
    assert tx(card, "0020008004" + b"1234".hex()) == "6984"  # blocked: even the right PIN is refused
    assert tx(card, "00200080") == "63C0"


def test_sign_password_has_five_tries_and_only_accepts_6_to_16_uppercase_alphanumerics(card: VirtualCard) -> None:
    tx(card, JPKI)
    tx(card, "00A4020C02001B")
    assert tx(card, "0020008005" + b"ABC12".hex()) == "6A80"  # too short: not a password, not counted
    assert tx(card, "0020008006" + b"abc123".hex()) == "6A80"  # lower case is not in the alphabet
    assert tx(card, "00200080") == "63C5"
    for left in (4, 3, 2, 1, 0):
        assert tx(card, "0020008006" + b"ZZZ999".hex()) == f"63C{left}"
    assert tx(card, "0020008006" + SAMPLE_PINS.sign.encode().hex()) == "6984"


def test_verify_by_short_ef_identifier_in_p2(card: VirtualCard) -> None:
    tx(card, JPKI)
    assert tx(card, "0020009804" + b"1234".hex()) == "9000"  # 80|18: auth PIN without SELECT
    assert tx(card, "0020009B") == "63C5"
    assert tx(card, "00200081") == "6A88"  # EF 0001 is a certificate, not a PIN
    assert tx(card, "0020009E") == "6A82"  # no EF 001E


def test_protected_file_needs_its_pin_and_keys_and_pins_cannot_be_read(card: VirtualCard) -> None:
    tx(card, KENHOJO)
    tx(card, "00A4020C020001")
    assert tx(card, "00B0000011") == "6982"
    tx(card, JPKI)
    tx(card, "00A4020C020017")
    assert tx(card, "00B0000000") == "6981"
    tx(card, "00A4020C020018")
    assert tx(card, "00B0000000") == "6981"
    tx(card, "00A4020C020001")
    assert tx(card, "00B0000004") == "6982"  # the signing certificate needs the signing password


def test_read_my_number_trace_from_domain_md(card: VirtualCard) -> None:
    assert tx(card, KENHOJO) == "9000"
    assert tx(card, "00A4020C020011") == "9000"
    assert tx(card, "0020008004" + b"9012".hex()) == "9000"
    assert tx(card, "00A4020C020001") == "9000"
    r = tx(card, "00B0000011")
    assert r.endswith("9000")
    assert bytes.fromhex(r[:-4])[3:15] == b"123456789018"


def test_certificate_size_read_then_chunks_as_opensc_does(card: VirtualCard) -> None:
    tx(card, JPKI)
    tx(card, "00A4020C02000A")
    head = bytes.fromhex(tx(card, "00B0000004")[:-4])
    assert head[:2] == b"\x30\x82"
    size = int.from_bytes(head[2:4], "big") + 4
    der, off = b"", 0
    while off < size:
        n = min(256, size - off)
        r = bytes.fromhex(tx(card, f"00B0{off >> 8:02X}{off & 0xFF:02X}{n & 0xFF:02X}"))
        assert r[-2:] == b"\x90\x00" and len(r) - 2 == n  # never more than Le
        der += r[:-2]
        off += n
    x509.load_der_x509_certificate(der)
    # past the end: 6B00; Le larger than what is left: the rest with 62 82; extended Le: all of it
    assert tx(card, f"00B0{size >> 8:02X}{size & 0xFF:02X}10") == "6B00"
    assert tx(card, f"00B0{(size - 2) >> 8:02X}{(size - 2) & 0xFF:02X}10").endswith("6282")
    full = bytes.fromhex(tx(card, "00B0000000" + "0000"))
    assert full[:-2] == der and full[-2:] == b"\x90\x00"


def test_read_record_of_the_juki_ap_gives_the_manufacture_number(card: VirtualCard) -> None:
    tx(card, JUKI)
    r = bytes.fromhex(tx(card, "00B2010C00"))
    assert r[-2:] == b"\x90\x00" and r[3:-2][2:15] == b"MN12345678901"
    assert tx(card, "00B2020C00") == "6A83"


def test_signature_with_the_auth_key_after_the_pin_verifies_with_the_certificate(card: VirtualCard) -> None:
    digest = hashlib.sha256(b"challenge from the kiosk").digest()
    di = "3031300D060960864801650304020105000420" + digest.hex()
    tx(card, JPKI)
    tx(card, "00A4020C020017")
    assert tx(card, "802A008033" + di + "00") == "6982"  # not verified yet
    tx(card, "00A4020C020018")
    tx(card, "0020008004" + b"1234".hex())
    tx(card, "00A4020C02000A")
    cert = x509.load_der_x509_certificate(bytes.fromhex(tx(card, "00B0000000" + "0000")[:-4]))
    tx(card, "00A4020C020017")
    r = bytes.fromhex(tx(card, "802A008033" + di + "00"))
    assert r[-2:] == b"\x90\x00" and len(r) == 258
    cert.public_key().verify(r[:-2], b"challenge from the kiosk", padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    # the signing key still needs the signing password
    tx(card, "00A4020C02001A")
    assert tx(card, "802A008033" + di + "00") == "6982"


def test_selecting_another_application_drops_the_verified_pins(card: VirtualCard) -> None:
    tx(card, JPKI)
    tx(card, "0020009804" + b"1234".hex())
    tx(card, JPKI)  # the same AP again: still verified (OpenSC re-selects at every bind)
    tx(card, "00A4020C020017")
    di = "3031300D060960864801650304020105000420" + "00" * 32
    assert tx(card, "802A008033" + di + "00").endswith("9000")
    tx(card, KENHOJO)
    tx(card, JPKI)
    tx(card, "00A4020C020017")
    assert tx(card, "802A008033" + di + "00") == "6982"


def test_reset_clears_the_security_state(card: VirtualCard) -> None:
    tx(card, KENHOJO)
    tx(card, "0020009104" + b"9012".hex())
    tx(card, "00A4020C020001")
    assert tx(card, "00B0000011").endswith("9000")
    card.reset()
    tx(card, KENHOJO)
    tx(card, "00A4020C020001")
    assert tx(card, "00B0000011") == "6982"


def test_change_reference_data_after_verify(card: VirtualCard) -> None:
    tx(card, JPKI)
    tx(card, "00A4020C020018")
    assert tx(card, "0024018004" + b"4321".hex()) == "6982"
    tx(card, "0020008004" + b"1234".hex())
    assert tx(card, "0024018003" + b"432".hex()) == "6A80"
    assert tx(card, "0024018004" + b"4321".hex()) == "9000"
    assert tx(card, "0020008004" + b"1234".hex()) == "63C2"
    assert tx(card, "0020008004" + b"4321".hex()) == "9000"


def test_malformed_apdus_get_iso_status_words(card: VirtualCard) -> None:
    assert tx(card, "00A4") == "6700"
    assert tx(card, "00A4040C0AD392") == "6700"  # Lc says 10, 3 bytes follow
    assert tx(card, "00A4040C00") == "6A82"  # case 2 SELECT with no AID
    assert tx(card, "00000000") == "6D00"
    assert tx(card, "A0A4040C0AD392F000260100000001") == "6E00"
    assert tx(card, "10A4040C0AD392F000260100000001") == "6884"  # chaining
    assert tx(card, "0CA4040C0AD392F000260100000001") == "6882"  # secure messaging
    assert tx(card, "00B0000000000000") == "6700"


def test_personalisation_commands_need_the_issuer_and_are_closed_after_lock(
    card: VirtualCard, blank_card: VirtualCard, issuer
) -> None:
    tx(blank_card, JPKI)
    tx(blank_card, "00A4020C020006")
    assert tx(blank_card, "80D6000003414243") == "6982"  # no issuer session
    assert tx(blank_card, "008200010400000000") == "6985"  # no challenge asked
    ch = bytes.fromhex(tx(blank_card, "0084000010")[:-4])
    assert len(ch) == 16
    bad = issuer.issuer_key.sign(b"wrong message")
    assert tx(blank_card, "0082000140" + bad.hex()) == "6300"
    ch = bytes.fromhex(tx(blank_card, "0084000010")[:-4])
    sig = issuer.issuer_key.sign(b"mynacard issuer-auth v1\x00" + b"MN12345678901" + ch)
    assert tx(blank_card, "0082000140" + sig.hex()) == "9000"
    tx(blank_card, "00A4020C020006")
    assert tx(blank_card, "80D6000003414243") == "9000"
    assert tx(blank_card, "00B0000000") == "4142439000"
    tx(blank_card, "00A4020C020018")
    assert tx(blank_card, "80DA000004" + b"12a4".hex()) == "6A80"
    assert tx(blank_card, "80DA000004" + b"1234".hex()) == "9000"
    assert tx(blank_card, "80E60000") == "9000"
    assert tx(blank_card, "80D6000003414243") in ("6985", "6982")
    # the personalised card is locked: a fresh issuer session cannot write, but can reset a PIN
    ch = bytes.fromhex(tx(card, "0084000010")[:-4])
    tx(card, "0082000140" + issuer.issuer_key.sign(b"mynacard issuer-auth v1\x00MN12345678901" + ch).hex())
    tx(card, JPKI)
    tx(card, "00A4020C02000A")
    assert tx(card, "80D6000003414243") == "6985"
    tx(card, "00A4020C020017")
    assert tx(card, "8047000000") == "6985"  # no new key after lock
    assert len(tx(card, "8047010000")) == 2 * 258  # public key readable
    tx(card, "00A4020C020018")
    for _ in range(3):
        tx(card, "0020008004" + b"0000".hex())
    assert tx(card, "0020008004" + b"1234".hex()) == "6984"
    assert tx(card, "802C000004" + b"2468".hex()) == "9000"  # counter unblock
    assert tx(card, "0020008004" + b"2468".hex()) == "9000"


def test_state_file_keeps_pin_counters_and_data_across_processes(card: VirtualCard, tmp_path: Path) -> None:
    store = StateFile(tmp_path / "card.json")
    store.save(card.state)
    c1 = VirtualCard(store.load(), persist=store.save)
    tx(c1, JPKI)
    tx(c1, "00A4020C020018")
    assert tx(c1, "0020008004" + b"0000".hex()) == "63C2"
    c2 = VirtualCard(store.load(), persist=store.save)  # "the card taken out of the wallet again"
    tx(c2, JPKI)
    tx(c2, "00A4020C020018")
    assert tx(c2, "00200080") == "63C2"
    doc = json.loads((tmp_path / "card.json").read_text())
    assert doc["locked"] is True
    assert CardState.from_json(doc).files == card.state.files
    assert (tmp_path / "card.json").stat().st_mode & 0o777 == 0o600


def test_an_ec_p256_issuer_key_can_personalise_too(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    card = VirtualCard(CardState.manufacture(der, "MN12345678901"))
    ch = bytes.fromhex(tx(card, "0084000010")[:-4])
    sig = key.sign(b"mynacard issuer-auth v1\x00MN12345678901" + ch, ec.ECDSA(hashes.SHA256()))
    assert tx(card, f"00820001{len(sig):02X}" + sig.hex()) == "9000"
