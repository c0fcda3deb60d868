"""100,000 random and mutated APDUs in-process: proper status words, no crash, state intact."""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import padding
from mynacard.card import VirtualCard
from mynacard.profile import APPLICATIONS, Kind, key
from mynacard.state import CardState, StateFile

from ..fuzzing import check_answer, next_apdu

N = 100_000


def test_hundred_thousand_random_and_mutated_apdus_get_iso_answers_and_leave_the_state_sound(
    personalised_state: CardState, tmp_path: Path
) -> None:
    before = copy.deepcopy(personalised_state)
    saved: list[str] = []
    card = VirtualCard(copy.deepcopy(personalised_state), persist=lambda s: saved.append(json.dumps(s.to_json())))
    rng = random.Random(20151005)
    sws: Counter[int] = Counter()
    pin_changed = False
    for i in range(N):
        if i % 997 == 0:
            card.reset()
        cmd = next_apdu(rng)
        sw = check_answer(cmd, card.process(cmd))
        sws[sw] += 1
        if sw == 0x9000 and len(cmd) > 1 and cmd[1] == 0x24:
            pin_changed = True
    assert sum(sws.values()) == N
    assert sws[0x6F00] == 0  # no handler ever failed internally
    assert len(sws) >= 12, sws  # the fuzzer reached many code paths
    s = card.state
    # nothing without the issuer key could write data, keys, or unlock personalisation
    assert s.files == before.files and s.records == before.records and s.keys == before.keys
    assert s.locked and s.serial == before.serial and s.issuer_public_key == before.issuer_public_key
    for aid, app in APPLICATIONS.items():
        for ef in app.efs.values():
            if ef.kind is Kind.PIN:
                assert ef.pin_rule is not None
                pin = s.pins[key(aid, ef.fid)]
                assert 0 <= pin.tries_left <= ef.pin_rule.max_tries
                assert ef.pin_rule.accepts(pin.value)
                if not pin_changed:
                    assert pin.value == before.pins[key(aid, ef.fid)].value
    # every persisted snapshot is a loadable state, and the last one is the card's
    assert all(CardState.from_json(json.loads(doc)).serial == s.serial for doc in saved[-50:])
    store = StateFile(tmp_path / "card.json")
    store.save(s)
    again = VirtualCard(store.load())
    # the card still works: the auth key signs (if its PIN is not blocked) and the certificate reads
    again.power_on()
    assert again.process(bytes.fromhex("00A4040C0AD392F000260100000001")) == b"\x90\x00"
    assert again.process(bytes.fromhex("00A4020C02000A")) == b"\x90\x00"
    cert = again.process(bytes.fromhex("00B0000000" + "0000"))
    assert cert[:-2] == before.files["D392F000260100000001/000A"]
    again.process(bytes.fromhex("00A4020C020018"))
    pin = s.pins["D392F000260100000001/0018"]
    if pin.tries_left:
        assert again.process(bytes.fromhex("0020008004") + pin.value) == b"\x90\x00"
        again.process(bytes.fromhex("00A4020C020017"))
        digest_info = bytes.fromhex("3031300D060960864801650304020105000420") + b"\x11" * 32
        sig = again.process(bytes.fromhex("802A008033") + digest_info + b"\x00")
        from cryptography import x509

        pub = x509.load_der_x509_certificate(cert[:-2]).public_key()
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import utils

        pub.verify(sig[:-2], b"\x11" * 32, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))  # type: ignore[union-attr, call-arg]
