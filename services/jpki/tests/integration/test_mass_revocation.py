"""RevokeMass over gRPC, as an operator's `mynumber jpki revoke-mass` calls it: a dry run changes nothing, the
executed run revokes exactly the selection (OCSP and the CRL say so), a retry revokes nothing new, only operators
get in, and each run leaves one audit entry with its selection."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.x509 import ocsp as cocsp
from google.protobuf.timestamp_pb2 import Timestamp
from jpki import models as m
from jpki.profiles import CaKind, Partition
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc

from .conftest import Ca, channel, issue_pair

KOBE = Partition("281000", "兵庫県", "神戸市")
KOBE_CODE = KOBE.municipality_code
OPERATOR = "operator:incident-1"


async def _mass(target: str, request: pb.RevokeMassRequest, caller: str = OPERATOR) -> pb.RevokeMassResponse:
    async with channel(target, caller) as ch:
        r: pb.RevokeMassResponse = await pb_grpc.CertificateAuthorityServiceStub(ch).RevokeMass(request, timeout=60)
        return r


async def _ocsp(ca: Ca, kind: CaKind, serial: int) -> cocsp.OCSPCertStatus:
    await ca.refresh()
    return cocsp.load_der_ocsp_response(ca.snapshot.store.get(kind.value, serial) or b"").certificate_status


async def _mass_audit(ca: Ca) -> list[dict[str, object]]:
    async with ca.jpki.engine.begin() as conn:
        rows = (await conn.execute(sa.select(m.audit_log.c.actor, m.audit_log.c.details)
                                   .where(m.audit_log.c.action == "certificates.mass_revocation")
                                   .order_by(m.audit_log.c.seq))).all()
    return [{"actor": r.actor, **r.details} for r in rows]


async def test_a_mass_revocation_is_a_dry_run_until_executed_then_revokes_exactly_the_selection_once(
        ca: Ca, grpc_target: str) -> None:
    chosen = [await issue_pair(ca, f"mass-kobe-{i}", resident_code=f"6100000{i:03d}1", partition=KOBE)
              for i in range(3)]
    bystander = await issue_pair(ca, "mass-tokyo-0", resident_code="61000009991")  # 千代田区: not selected
    selection = pb.RevokeMassRequest(municipality_code=KOBE_CODE, cause=pb.REVOCATION_CAUSE_LOSS_OR_COMPROMISE)
    serials = sorted((x.kind.value, format(x.serial, "x")) for pair in chosen for x in pair)

    dry = await _mass(grpc_target, selection)
    assert (dry.executed, dry.selected, dry.revoked) == (False, 6, 0)
    assert sorted((("sign" if s.status.ca == pb.CA_KIND_SIGN else "auth"), s.status.serial_hex)
                  for s in dry.sample) == serials
    assert {s.municipality_code for s in dry.sample} == {KOBE_CODE}
    for pair in chosen:  # nothing changed: the database, OCSP
        for x in pair:
            assert (await ca.status(x.kind, x.serial)).status == m.GOOD
            assert await _ocsp(ca, x.kind, x.serial) is cocsp.OCSPCertStatus.GOOD

    selection.execute = True
    done = await _mass(grpc_target, selection)
    assert (done.executed, done.selected, done.revoked) == (True, 6, 6)
    assert {s.status.state for s in done.sample} == {pb.CERTIFICATE_STATE_REVOKED}
    for pair in chosen:
        for x in pair:
            s = await ca.status(x.kind, x.serial)
            assert (s.status, s.cause) == (m.REVOKED, "loss_or_compromise")
            assert await _ocsp(ca, x.kind, x.serial) is cocsp.OCSPCertStatus.REVOKED
    for kind in CaKind:
        crl = x509.load_der_x509_crl(await ca.generate_crl(kind, KOBE_CODE, delta=False))
        listed = {e.serial_number for e in crl}
        assert listed == {x.serial for pair in chosen for x in pair if x.kind is kind}
    for x in bystander:  # another municipality's certificates are untouched
        assert (await ca.status(x.kind, x.serial)).status == m.GOOD
        assert await _ocsp(ca, x.kind, x.serial) is cocsp.OCSPCertStatus.GOOD

    again = await _mass(grpc_target, selection)  # a retry (the operator's, or a client's after a lost answer)
    assert (again.executed, again.selected, again.revoked) == (True, 0, 0) and not again.sample

    runs = await _mass_audit(ca)
    assert [(r["actor"], r["executed"], r["chosen"], r["revoked"], r["municipality_code"], r["cause"])
            for r in runs] == [(OPERATOR, False, 6, 0, KOBE_CODE, "loss_or_compromise"),
                               (OPERATOR, True, 6, 6, KOBE_CODE, "loss_or_compromise"),
                               (OPERATOR, True, 0, 0, KOBE_CODE, "loss_or_compromise")]


async def test_a_time_window_selects_only_what_was_issued_in_it(ca: Ca, grpc_target: str) -> None:
    before = await issue_pair(ca, "mass-win-0", resident_code="62000000011", partition=KOBE)
    async with ca.jpki.engine.begin() as conn:  # issued yesterday (the CA's clock has whole seconds only)
        await conn.execute(sa.update(m.certificates).where(m.certificates.c.card_id == "mass-win-0")
                           .values(created_at=m.certificates.c.created_at - dt.timedelta(days=1)))
    start = Timestamp()
    start.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    inside = await issue_pair(ca, "mass-win-1", resident_code="62000000021", partition=KOBE)
    done = await _mass(grpc_target, pb.RevokeMassRequest(ca=pb.CA_KIND_AUTH, municipality_code=KOBE_CODE,
                                                         issued_from=start, cause=pb.REVOCATION_CAUSE_RECORD_ERROR,
                                                         execute=True))
    assert (done.selected, done.revoked) == (1, 1)
    assert (await ca.status(CaKind.AUTH, inside[0].serial)).status == m.REVOKED
    assert (await ca.status(CaKind.SIGN, inside[1].serial)).status == m.GOOD  # --ca auth only
    assert (await ca.status(CaKind.AUTH, before[0].serial)).status == m.GOOD  # issued before the window


@pytest.mark.parametrize("n, caller", list(enumerate(["municipality:282014", "service:issuance", "verifier:v1"])))
async def test_only_operators_revoke_in_mass(ca: Ca, grpc_target: str, n: int, caller: str) -> None:
    auth, sign = await issue_pair(ca, f"mass-refused-{n}", resident_code=f"630000000{n}1",
                                  partition=Partition("282014", "兵庫県", "姫路市"))
    request = pb.RevokeMassRequest(municipality_code="282014", cause=pb.REVOCATION_CAUSE_DEATH, execute=True)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await _mass(grpc_target, request, caller=caller)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await ca.status(CaKind.AUTH, auth.serial)).status == m.GOOD
    assert (await ca.status(CaKind.SIGN, sign.serial)).status == m.GOOD
    assert all(r["municipality_code"] != "282014" for r in await _mass_audit(ca))


async def test_a_mass_revocation_needs_a_selection_and_a_final_cause(ca: Ca, grpc_target: str) -> None:
    for request, field in [
        (pb.RevokeMassRequest(cause=pb.REVOCATION_CAUSE_DEATH, execute=True), "selection"),
        (pb.RevokeMassRequest(municipality_code=KOBE_CODE, execute=True), "cause"),
        (pb.RevokeMassRequest(municipality_code=KOBE_CODE, cause=pb.REVOCATION_CAUSE_SUSPENSION), "cause"),
        (pb.RevokeMassRequest(municipality_code="12", cause=pb.REVOCATION_CAUSE_DEATH), "municipality_code"),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await _mass(grpc_target, request)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, request
        assert (e.value.details() or "").startswith(f"{field}: "), e.value.details()
