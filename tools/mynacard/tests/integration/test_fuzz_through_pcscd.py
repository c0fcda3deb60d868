"""A sample of the fuzz corpus through pcscd and vpcd: every answer is an ISO status word, the card survives."""

from __future__ import annotations

import copy
import random
from collections import Counter
from pathlib import Path

import pytest
from mynacard.state import CardState, StateFile
from mynumber_cardreader import CardReaderError, PcscTransport
from mynumber_cardreader.testing import card_on_pcscd

from ..fuzzing import check_answer, next_apdu

pytestmark = pytest.mark.integration
N = 10_000


def test_fuzz_sample_through_the_real_stack(personalised_state: CardState, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    StateFile(path).save(copy.deepcopy(personalised_state))
    rng = random.Random(4)
    sws: Counter[int] = Counter()
    refused_by_stack = 0
    with card_on_pcscd(path):
        t = PcscTransport.wait_for_card("Virtual PCD 00 00", timeout=15)
        sent = 0
        while sent < N:
            cmd = next_apdu(rng, max_len=261)
            if len(cmd) < 4:  # below a header PC/SC itself refuses; the in-process test covers these
                continue
            sent += 1
            try:
                answer = t.transmit(cmd)
            except CardReaderError:
                refused_by_stack += 1  # e.g. pcscd refusing a malformed length; the card never saw it
                continue
            sws[check_answer(cmd, answer)] += 1
        assert t.transmit(bytes.fromhex("00A4040C0AD392F000260100000001")) == b"\x90\x00"
        assert t.transmit(bytes.fromhex("00A4020C02000A")) == b"\x90\x00"
        cert = t.transmit(bytes.fromhex("00B0000000" + "0000"))
        t.close()
    seen = {f"{k:04X}": v for k, v in sorted(sws.items())}
    print(f"through pcscd: {N} APDUs, {refused_by_stack} refused by the stack, status words {seen}")
    assert refused_by_stack < N // 10, refused_by_stack
    # Through the stack as in process: many handlers reached, commands that succeed, most inputs past the length
    # check, and no internal failure.
    assert len(sws) >= 10 and sws[0x9000] > N // 50 and sws[0x6700] < N // 2 and sws[0x6F00] == 0, seen
    assert cert[:-2] == personalised_state.files["D392F000260100000001/000A"]
    after = StateFile(path).load()
    assert after.files == personalised_state.files and after.keys == personalised_state.keys and after.locked
