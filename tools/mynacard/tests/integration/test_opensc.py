"""OpenSC 0.23 (Debian's) reads and uses the virtual card through pcscd and vpcd with its own JPKI driver."""

from __future__ import annotations

import copy
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from mynacard.state import CardState, StateFile
from mynumber_cardreader.testing import SAMPLE_PINS, card_on_pcscd

pytestmark = pytest.mark.integration
PKCS11 = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"{args[0]} failed ({p.returncode}): {p.stdout}\n{p.stderr}")
    return p


@pytest.fixture(scope="module")
def opensc_card(personalised_state: CardState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("opensc") / "card.json"
    StateFile(path).save(copy.deepcopy(personalised_state))
    with card_on_pcscd(path):
        yield path


def cert_of(personalised_state: CardState, fid: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(personalised_state.files[f"D392F000260100000001/{fid}"])


def test_opensc_tool_matches_the_jpki_driver_and_selects_the_jpki_ap(opensc_card: Path) -> None:
    # the default driver list: every earlier driver's probe must be refused for jpki to be reached
    assert run("opensc-tool", "-r", "0", "-n").stdout.strip() == "jpki"
    out = run("opensc-tool", "-r", "0", "-s", "00A4040C0AD392F000260100000001").stdout
    assert "SW1=0x90, SW2=0x00" in out


def test_pkcs15_tool_lists_pins_keys_and_the_four_certificates(
    opensc_card: Path, personalised_state: CardState
) -> None:
    out = run("pkcs15-tool", "-r", "0", "-D").stdout
    assert "PKCS#15 Card [JPKI]" in out
    assert re.search(r"User Authentication PIN.*?Tries left\s*:\s*3", out, re.S)
    assert re.search(r"Digital Signature PIN.*?Tries left\s*:\s*5", out, re.S)
    for label in ("User Authentication Certificate", "Digital Signature Certificate",
                  "User Authentication Certificate CA", "Digital Signature Certificate CA"):
        assert f"X.509 Certificate [{label}]" in out
    pem = run("pkcs15-tool", "-r", "0", "--read-certificate", "01").stdout
    assert x509.load_pem_x509_certificate(pem.encode()) == cert_of(personalised_state, "000A")


def test_pkcs11_tool_signs_with_the_authentication_key_after_the_pin(
    opensc_card: Path, personalised_state: CardState, tmp_path: Path
) -> None:
    objs = run("pkcs11-tool", "--module", PKCS11, "--list-objects").stdout
    assert "User Authentication Certificate" in objs
    msg = tmp_path / "in"
    msg.write_bytes(b"a convenience-store kiosk challenge")
    sig = tmp_path / "sig"
    run("pkcs11-tool", "--module", PKCS11, "--slot-index", "0", "--login", "--pin", SAMPLE_PINS.auth, "--sign",
        "--id", "01", "-m", "SHA256-RSA-PKCS", "-i", str(msg), "-o", str(sig))
    cert = cert_of(personalised_state, "000A")
    cert.public_key().verify(sig.read_bytes(), msg.read_bytes(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    # and openssl agrees
    pub = tmp_path / "pub.pem"
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    pub.write_bytes(cert.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    verified = run("openssl", "dgst", "-sha256", "-verify", str(pub), "-signature", str(sig), str(msg))
    assert "Verified OK" in verified.stdout


def test_pkcs11_tool_signs_with_the_signing_key_after_the_password(
    opensc_card: Path, personalised_state: CardState, tmp_path: Path
) -> None:
    msg = tmp_path / "in"
    msg.write_bytes(b"an e-Tax return")
    sig = tmp_path / "sig"
    run("pkcs11-tool", "--module", PKCS11, "--slot-index", "1", "--login", "--pin", SAMPLE_PINS.sign, "--sign",
        "--id", "02", "-m", "SHA256-RSA-PKCS", "-i", str(msg), "-o", str(sig))
    cert_of(personalised_state, "0001").public_key().verify(  # type: ignore[union-attr, call-arg]
        sig.read_bytes(), msg.read_bytes(), padding.PKCS1v15(), hashes.SHA256()
    )
