"""PIN lockout as OpenSC's PKCS#11 module sees it, through pcscd and vpcd (its own card and pcscd)."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import pytest
from mynacard.state import CardState, StateFile
from mynumber_cardreader.testing import SAMPLE_PINS, card_on_pcscd

from .test_opensc import PKCS11, run

pytestmark = pytest.mark.integration


def test_pkcs11_pin_lockout_after_three_wrong_pins(personalised_state: CardState, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    StateFile(path).save(copy.deepcopy(personalised_state))
    msg = tmp_path / "in"
    msg.write_bytes(b"x")
    with card_on_pcscd(path):
        def sign(pin: str) -> subprocess.CompletedProcess[str]:
            return run("pkcs11-tool", "--module", PKCS11, "--slot-index", "0", "--login", "--pin", pin, "--sign",
                       "--id", "01", "-m", "SHA256-RSA-PKCS", "-i", str(msg), "-o", str(tmp_path / "sig"),
                       check=False)

        for _ in range(3):
            p = sign("0000")
            assert p.returncode != 0 and "CKR_PIN_INCORRECT" in p.stderr + p.stdout
        p = sign(SAMPLE_PINS.auth)
        # the card answers 69 84 (blocked, as the brief and myna have it); OpenSC 0.23 maps 69 84 to
        # SC_ERROR_REF_DATA_NOT_USABLE -> CKR_GENERAL_ERROR (it reserves CKR_PIN_LOCKED for 69 83)
        assert p.returncode != 0 and "C_Login failed: rv = CKR_GENERAL_ERROR" in p.stderr + p.stdout
        out = run("pkcs15-tool", "-r", "0", "-D").stdout
        assert re.search(r"User Authentication PIN.*?Tries left\s*:\s*0", out, re.S)
    assert StateFile(path).load().pins["D392F000260100000001/0018"].tries_left == 0
