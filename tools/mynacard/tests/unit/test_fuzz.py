"""100,000 random and mutated APDUs in-process: proper status words, no crash, state intact."""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
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
    signed = refused_blocked = 0
    auth_pub = _auth_public_key(before)
    for i in range(N):
        if i % 997 == 0:
            card.reset()
        if rng.random() < 0.01:
            # A holder's real session amid the noise: the signature must come out right whatever came before,
            # unless the noise blocked the PIN (then the right PIN is refused as blocked, and nothing is signed).
            pin = card.state.pins[AUTH_PIN]  # the holder knows it, also after the noise changed it
            blocked = pin.tries_left == 0
            digest = rng.randbytes(32)
            answers = [card.process(c) for c in session(pin.value)] + [card.process(sign_apdu(digest))]
            if blocked:
                assert answers[2] == b"\x69\x84" and answers[4] == b"\x69\x82", answers
                refused_blocked += 1
            else:
                assert answers[:4] == [b"\x90\x00"] * 4 and answers[4][-2:] == b"\x90\x00", answers
                auth_pub.verify(answers[4][:-2], digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
                signed += 1
            continue
        cmd = next_apdu(rng)
        sw = check_answer(cmd, card.process(cmd))
        sws[sw] += 1
        if sw == 0x9000 and len(cmd) > 1 and cmd[1] == 0x24:
            pin_changed = True
    print(f"{signed} sessions signed, {refused_blocked} refused as blocked; status words "
          f"{ {f'{k:04X}': v for k, v in sws.most_common()} }")
    assert sws[0x6F00] == 0  # no handler ever failed internally
    assert len(sws) >= 12, sws  # the fuzzer reached many code paths
    assert sws[0x6700] < N * 0.5, sws  # most inputs get past the length check to a handler's own parsing
    assert signed >= 100, (signed, refused_blocked)  # the signing path was reached, and it signed correctly
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
    pin = s.pins[AUTH_PIN]
    verified = again.process(bytes.fromhex("0020008004") + pin.value)
    again.process(bytes.fromhex("00A4020C020017"))
    sig = again.process(sign_apdu(b"\x11" * 32))
    if pin.tries_left:
        assert verified == b"\x90\x00"
        auth_pub.verify(sig[:-2], b"\x11" * 32, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    else:  # blocked stays blocked across a save and a load: the right PIN is refused, nothing is signed
        assert verified == b"\x69\x84" and sig == b"\x69\x82"


AUTH_PIN = "D392F000260100000001/0018"


def session(pin: bytes) -> list[bytes]:
    """Select the JPKI AP and its 利用者証明用 PIN, verify it, select the key (the signature comes next)."""
    return [bytes.fromhex("00A4040C0AD392F000260100000001"), bytes.fromhex("00A4020C020018"),
            bytes.fromhex("00200080") + bytes([len(pin)]) + pin, bytes.fromhex("00A4020C020017")]


def sign_apdu(digest: bytes) -> bytes:
    return bytes.fromhex("802A008033" + "3031300D060960864801650304020105000420") + digest + b"\x00"


def _auth_public_key(state: CardState) -> rsa.RSAPublicKey:
    key_ = x509.load_der_x509_certificate(state.files["D392F000260100000001/000A"]).public_key()
    assert isinstance(key_, rsa.RSAPublicKey)
    return key_
