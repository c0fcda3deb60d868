"""The revocation and hold rules with an in-memory store and a signer without HSM (no server): revoke, hold,
resume only from hold, suspend and resume a card, the register's facts change, mass revocation, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from jpki import events
from jpki import models as m
from jpki.domain import CertificateFilter, RevocationCause
from jpki.errors import CardNotFound, CertificateNotFound, FailedPrecondition, InvalidArgument, PermissionDenied
from jpki.profiles import CaKind
from jpki.revocation import Revocation
from mynumber_runtime.crypto import KeyedHash
from mynumber_runtime.identity import Caller

from .fakes import KEY, NOW, FakeStore, authorities

OPERATOR = Caller("operator", "j-lis-1")
ISSUANCE = Caller("service", "issuance")
TOKYO = Caller("municipality", "131016")
OSAKA = Caller("municipality", "271004")
C = RevocationCause


@pytest.fixture
def rules() -> Revocation:
    return Revocation(authorities(), KeyedHash(KEY))


@pytest.fixture
def store() -> FakeStore:
    s = FakeStore()
    s.add(CaKind.AUTH, 0x8001, card_id="card-1")
    s.add(CaKind.SIGN, 0x8002, card_id="card-1")
    return s


async def test_a_revocation_is_for_good_with_its_reason_response_audit_and_event(rules: Revocation,
                                                                                 store: FakeStore) -> None:
    s = await rules.revoke(store, CaKind.SIGN, 0x8002, C.DEATH, caller=TOKYO)
    assert (s.status, s.cause, s.revoked_at) == (m.REVOKED, "death", NOW)
    assert store.ocsp[("sign", "8002")].good is False and store.ocsp[("sign", "8002")].reason_code == 5
    assert store.actions() == ["certificate.revoked"] and store.audit_log[0][3]["basis"] == "own_register"
    assert [subject for subject, _ in store.events] == [events.CERTIFICATE_REVOKED]
    assert store.state(CaKind.AUTH, 0x8001) == m.GOOD  # the other certificate of the card is untouched
    with pytest.raises(FailedPrecondition, match="already revoked"):
        await rules.revoke(store, CaKind.SIGN, 0x8002, C.LOSS_OR_COMPROMISE, caller=TOKYO)


async def test_a_suspension_is_a_hold_that_resume_lifts(rules: Revocation, store: FakeStore) -> None:
    held = await rules.revoke(store, CaKind.AUTH, 0x8001, C.SUSPENSION, caller=ISSUANCE)
    assert held.status == m.HOLD and store.ocsp[("auth", "8001")].reason_code == 6
    with pytest.raises(FailedPrecondition, match="already on hold"):
        await rules.revoke(store, CaKind.AUTH, 0x8001, C.SUSPENSION, caller=ISSUANCE)
    back = await rules.release_hold(store, CaKind.AUTH, 0x8001, caller=TOKYO)
    assert back.status == m.GOOD and back.revoked_at is None and store.ocsp[("auth", "8001")].good
    assert store.actions() == ["certificate.held", "certificate.hold_released"]
    assert store.events[0][1].on_hold  # type: ignore[attr-defined]


async def test_resume_only_from_hold(rules: Revocation, store: FakeStore) -> None:
    with pytest.raises(FailedPrecondition, match="only a certificate on hold") as good:
        await rules.release_hold(store, CaKind.AUTH, 0x8001, caller=OPERATOR)
    assert good.value.reason == "NOT_ON_HOLD"
    await rules.revoke(store, CaKind.AUTH, 0x8001, C.HOLDER_REQUEST, caller=OPERATOR)
    with pytest.raises(FailedPrecondition, match="only a certificate on hold"):
        await rules.release_hold(store, CaKind.AUTH, 0x8001, caller=OPERATOR)
    assert store.state(CaKind.AUTH, 0x8001) == m.REVOKED and store.actions() == ["certificate.revoked"]


async def test_a_hold_made_permanent_keeps_the_date_of_the_hold(store: FakeStore) -> None:
    cas = authorities()
    rules = Revocation(cas, KeyedHash(KEY))
    await rules.revoke(store, CaKind.SIGN, 0x8002, C.SUSPENSION, caller=OPERATOR)
    cas.clock.advance(dt.timedelta(days=3))  # type: ignore[attr-defined]
    s = await rules.revoke(store, CaKind.SIGN, 0x8002, C.LOSS_OR_COMPROMISE, caller=OPERATOR)
    assert s.status == m.REVOKED and s.revoked_at == NOW and s.cause == "loss_or_compromise"


async def test_suspending_a_card_holds_both_certificates_and_resuming_lifts_both(rules: Revocation,
                                                                                 store: FakeStore) -> None:
    held = await rules.suspend_card(store, "card-1", caller=ISSUANCE)
    assert sorted((s.kind, s.status) for s in held) == [(CaKind.AUTH, m.HOLD), (CaKind.SIGN, m.HOLD)]
    with pytest.raises(FailedPrecondition, match="no valid certificate to suspend"):
        await rules.suspend_card(store, "card-1", caller=ISSUANCE)
    back = await rules.resume_card(store, "card-1", caller=TOKYO)
    assert {s.status for s in back} == {m.GOOD} and len(back) == 2
    with pytest.raises(FailedPrecondition, match="no certificate on hold"):
        await rules.resume_card(store, "card-1", caller=TOKYO)


async def test_suspending_a_card_leaves_a_revoked_certificate_revoked(rules: Revocation, store: FakeStore) -> None:
    await rules.revoke(store, CaKind.SIGN, 0x8002, C.HOLDER_REQUEST, caller=OPERATOR)
    held = await rules.suspend_card(store, "card-1", caller=OPERATOR)
    assert [(s.kind, s.status) for s in held] == [(CaKind.AUTH, m.HOLD)]
    back = await rules.resume_card(store, "card-1", caller=OPERATOR)
    assert [(s.kind, s.status) for s in back] == [(CaKind.AUTH, m.GOOD)]
    assert store.state(CaKind.SIGN, 0x8002) == m.REVOKED


async def test_another_municipality_is_told_nothing_exists(rules: Revocation, store: FakeStore) -> None:
    with pytest.raises(CertificateNotFound):
        await rules.revoke(store, CaKind.SIGN, 0x8002, C.DEATH, caller=OSAKA)
    with pytest.raises(CertificateNotFound):
        await rules.revoke(store, CaKind.SIGN, 0x9999, C.DEATH, caller=OSAKA)
    with pytest.raises(CardNotFound):
        await rules.suspend_card(store, "card-1", caller=OSAKA)
    # A card with one certificate moved to another municipality is unknown to both halves' municipalities.
    store.add(CaKind.AUTH, 0x8101, card_id="card-2", municipality="131016")
    store.add(CaKind.SIGN, 0x8102, card_id="card-2", municipality="271004")
    with pytest.raises(CardNotFound):
        await rules.suspend_card(store, "card-2", caller=TOKYO)
    assert store.actions() == [] and store.events == []
    assert {r.status for r in store.certificates.values()} == {m.GOOD}


async def test_pending_and_failed_certificates_do_not_exist_for_callers(rules: Revocation, store: FakeStore) -> None:
    store.add(CaKind.AUTH, 0x8201, status=m.PENDING, card_id="card-3")
    store.add(CaKind.AUTH, 0x8202, status=m.FAILED, card_id="card-3")
    for serial in (0x8201, 0x8202):
        with pytest.raises(CertificateNotFound):
            await rules.revoke(store, CaKind.AUTH, serial, C.DEATH, caller=OPERATOR)
        with pytest.raises(CertificateNotFound):
            await rules.status(store, CaKind.AUTH, serial)
    with pytest.raises(CardNotFound):
        await rules.suspend_card(store, "card-3", caller=OPERATOR)


async def test_ex_officio_causes_are_for_operators_and_facts_only_revoke_the_signing_certificate(
        rules: Revocation, store: FakeStore) -> None:
    for cause in (C.RECORD_ERROR, C.FACTS_CHANGED):
        with pytest.raises(PermissionDenied):
            await rules.revoke(store, CaKind.SIGN, 0x8002, cause, caller=ISSUANCE)
        # Refused before the look-up: an unknown serial gets the same answer.
        with pytest.raises(PermissionDenied):
            await rules.revoke(store, CaKind.SIGN, 0x9999, cause, caller=TOKYO)
    with pytest.raises(InvalidArgument, match="only the 署名用"):
        await rules.revoke(store, CaKind.AUTH, 0x8001, C.FACTS_CHANGED, caller=OPERATOR)
    assert store.actions() == []


async def test_a_change_of_the_facts_revokes_the_live_signing_certificates_of_the_holder(rules: Revocation) -> None:
    from mynumber_codes import DEFAULT_RESIDENT_CODE_RULE

    code = DEFAULT_RESIDENT_CODE_RULE.make("1234567890")
    holder = KeyedHash(KEY)(code.encode())
    store = FakeStore()
    store.add(CaKind.AUTH, 0x8301, holder=holder)
    store.add(CaKind.SIGN, 0x8302, holder=holder, status=m.HOLD, revoked_at=NOW - dt.timedelta(days=1))
    store.add(CaKind.SIGN, 0x8303, holder=holder, status=m.REVOKED)
    store.add(CaKind.SIGN, 0x8304, holder=b"someone else")
    revoked = await rules.facts_changed(store, code, actor="event:test")
    assert [(s.serial, s.status, s.revoked_at) for s in revoked] == [(0x8302, m.REVOKED, NOW - dt.timedelta(days=1))]
    assert store.state(CaKind.AUTH, 0x8301) == m.GOOD and store.state(CaKind.SIGN, 0x8304) == m.GOOD
    with pytest.raises(InvalidArgument, match="resident_code"):
        await rules.facts_changed(store, "123", actor="event:test")


# --- mass revocation ------------------------------------------------------------------------------------------

def _incident() -> FakeStore:
    s = FakeStore()
    for i in range(6):  # Tokyo: cards issued on 6 consecutive days
        s.add(CaKind.AUTH, 0xA000 + i, card_id=f"t-{i}", issued_at=NOW - dt.timedelta(days=6 - i))
    s.add(CaKind.AUTH, 0xB000, card_id="o-0", municipality="271004", issued_at=NOW - dt.timedelta(days=3))
    s.add(CaKind.AUTH, 0xA100, card_id="t-h", status=m.HOLD, issued_at=NOW - dt.timedelta(days=3))
    s.add(CaKind.AUTH, 0xA200, card_id="t-r", status=m.REVOKED, issued_at=NOW - dt.timedelta(days=3))
    return s


async def test_mass_revocation_is_a_dry_run_by_default(rules: Revocation) -> None:
    store = _incident()
    before = dict(store.certificates)
    plan = await rules.revoke_selection(store, CertificateFilter(municipality_code="131016"), C.LOSS_OR_COMPROMISE,
                                        caller=OPERATOR)
    assert not plan.executed and plan.revoked == []
    # Every live Tokyo certificate, the held one included; not the revoked one, not Osaka's.
    assert sorted(x.status.serial for x in plan.chosen) == [*range(0xA000, 0xA006), 0xA100]
    assert store.certificates == before and store.ocsp == {} and store.events == []
    assert store.actions() == ["certificates.mass_revocation"]  # audited once, with the selection


async def test_mass_revocation_by_municipality_and_time_window(rules: Revocation) -> None:
    store = _incident()
    window = CertificateFilter(municipality_code="131016", issued_from=NOW - dt.timedelta(days=4),
                               issued_before=NOW - dt.timedelta(days=2))
    done = await rules.revoke_selection(store, window, C.LOSS_OR_COMPROMISE, caller=OPERATOR, execute=True)
    assert done.executed
    assert sorted(s.serial for s in done.revoked) == [0xA002, 0xA003, 0xA100]
    assert {s.status for s in done.revoked} == {m.REVOKED}
    untouched = {serial: store.state(CaKind.AUTH, serial) for serial in (0xA000, 0xA001, 0xA004, 0xA005, 0xB000)}
    assert set(untouched.values()) == {m.GOOD}
    assert store.checkpoints >= 1  # each page is kept before the next
    # Run again: nothing left to do.
    again = await rules.revoke_selection(store, window, C.LOSS_OR_COMPROMISE, caller=OPERATOR, execute=True)
    assert again.chosen == [] and again.revoked == []
    # Each run audited once with its selection and counts (beside each certificate's own entry).
    runs = [d for _, a, _, d in store.audit_log if a == "certificates.mass_revocation"]
    assert [(d["executed"], d["chosen"], d["revoked"], d["municipality_code"]) for d in runs] == [
        (True, 3, 3, "131016"), (True, 0, 0, "131016")]
    assert store.actions().count("certificate.revoked") == 3


async def test_mass_revocation_refusals(rules: Revocation) -> None:
    store = _incident()
    with pytest.raises(PermissionDenied):
        await rules.revoke_selection(store, CertificateFilter(municipality_code="131016"), C.DEATH, caller=TOKYO,
                                     execute=True)
    with pytest.raises(InvalidArgument, match="selection"):
        await rules.revoke_selection(store, CertificateFilter(kind=CaKind.AUTH), C.DEATH, caller=OPERATOR,
                                     execute=True)
    with pytest.raises(InvalidArgument, match="issued_before"):
        await rules.revoke_selection(store, CertificateFilter(issued_from=NOW, issued_before=NOW), C.DEATH,
                                     caller=OPERATOR)
    with pytest.raises(InvalidArgument, match="cause"):
        await rules.revoke_selection(store, CertificateFilter(municipality_code="131016"), C.SUSPENSION,
                                     caller=OPERATOR, execute=True)
    with pytest.raises(InvalidArgument, match="署名用"):
        await rules.revoke_selection(store, CertificateFilter(municipality_code="131016"), C.FACTS_CHANGED,
                                     caller=OPERATOR, execute=True)
    assert {r.status for r in store.certificates.values()} == {m.GOOD, m.HOLD, m.REVOKED}
    assert store.events == [] and store.actions() == []
