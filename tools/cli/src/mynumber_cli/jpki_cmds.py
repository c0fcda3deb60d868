"""`mynumber jpki ...`: the CA operator's commands (issue for a CSR, revoke / hold / resume by serial or by card,
mass revocation after an incident, listing, CRLs, the audit chain, verifiers).

Mass revocation works as Boulder's admin tool does: a dry run by default (the CA's RevokeMass counts the
selection and shows the first few), and only with `--execute` revoked, by the CA in one call (audited once with the
selection, each revocation published); certificates already revoked are left alone, so an interrupted run is simply
run again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import click
from google.protobuf.timestamp_pb2 import Timestamp
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc
from mynumber_runtime.clock import JST
from mynumber_runtime.timestamps import maybe_timestamp

from mynumber_cli.base import Ctx, run_call

CAS = {"sign": pb.CA_KIND_SIGN, "auth": pb.CA_KIND_AUTH}
CA_NAMES = {v: k for k, v in CAS.items()}
STATES = {"good": pb.CERTIFICATE_STATE_GOOD, "hold": pb.CERTIFICATE_STATE_HOLD,
          "revoked": pb.CERTIFICATE_STATE_REVOKED}
STATE_NAMES = {v: k for k, v in STATES.items()}
# The causes an operator revokes for (a hold is `hold`; a change of the 4 facts comes from the register's event).
CAUSES = {"loss": pb.REVOCATION_CAUSE_LOSS_OR_COMPROMISE, "holder-request": pb.REVOCATION_CAUSE_HOLDER_REQUEST,
          "death": pb.REVOCATION_CAUSE_DEATH, "record-error": pb.REVOCATION_CAUSE_RECORD_ERROR}
CAUSE_NAMES = {**{v: k for k, v in CAUSES.items()}, pb.REVOCATION_CAUSE_SUSPENSION: "suspension",
               pb.REVOCATION_CAUSE_FACTS_CHANGED: "facts-changed"}
VERIFIER_KINDS = {"signature": pb.VERIFIER_KIND_SIGNATURE_VERIFIER, "user": pb.VERIFIER_KIND_USER_VERIFIER,
                  "platform-operator": pb.VERIFIER_KIND_PLATFORM_OPERATOR,
                  "platform-service": pb.VERIFIER_KIND_PLATFORM_SERVICE}
VERIFIER_KIND_NAMES = {v: k for k, v in VERIFIER_KINDS.items()}
SEXES = {"male": 1, "female": 2, "unknown": 3}

ca_arg = click.argument("ca", type=click.Choice(sorted(CAS)))
serial_arg = click.argument("serial")
cause_option = click.option("--cause", type=click.Choice(sorted(CAUSES)), required=True,
                            help="loss (紛失・鍵の危殆化), holder-request, death (死亡), record-error (記録誤り)")


def _when(t: Timestamp) -> str:
    at: dt.datetime = t.ToDatetime(tzinfo=dt.UTC)
    return at.isoformat(timespec="seconds")


def _status_line(s: pb.CertificateStatus) -> str:
    line = f"{CA_NAMES.get(s.ca, '?')}\t{s.serial_hex}\t{STATE_NAMES.get(s.state, '?')}"
    if s.HasField("revoked_at"):
        line += f"\t{CAUSE_NAMES.get(s.cause, '?')} {_when(s.revoked_at)}"
    return line


def _time_option(value: dt.datetime | None) -> Timestamp | None:
    # click.DateTime gives a naive time: the operator means JST, the platform's civil time.
    return maybe_timestamp(value.replace(tzinfo=JST) if value is not None and value.tzinfo is None else value)


@click.group()
def jpki() -> None:
    """The JPKI certification authority (署名用 / 利用者証明用): J-LIS operators' and municipal counters' commands."""


@jpki.command("issue")
@ca_arg
@click.option("--csr", "csr_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="the card's PKCS#10 request (DER or PEM), signed by the card key")
@click.option("--card-id", required=True, help="the card's opaque identifier")
@click.option("--resident-code", required=True, help="住民票コード (only a keyed hash is kept)")
@click.option("--municipality", "municipality_code", required=True, help="全国地方公共団体コード of the residence")
@click.option("--prefecture-name", required=True, help="都道府県名 of that municipality")
@click.option("--municipality-name", required=True, help="市区町村名 of that municipality")
@click.option("--birth-date", required=True, help="YYYY-MM-DD (sizes the validity: the 5th birthday)")
@click.option("--card-expiry", required=True, help="YYYY-MM-DD: no certificate outlives the card")
@click.option("--name", default="", help="署名用: 氏名 (surname U+3000 given name)")
@click.option("--address", default="", help="署名用: 住所 from the 都道府県")
@click.option("--sex", type=click.Choice(sorted(SEXES)), help="署名用: 性別")
@click.option("--idempotency-key", default="", help="a retry with the same key gets the same certificate")
@click.option("--on-hold", is_flag=True, help="issue on hold (released at the card's hand-over)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write the DER certificate here")
@click.pass_obj
def issue(c: Ctx, ca: str, csr_file: Path, card_id: str, resident_code: str, municipality_code: str,
          prefecture_name: str, municipality_name: str, birth_date: str, card_expiry: str, name: str, address: str,
          sex: str | None, idempotency_key: str, on_hold: bool, out: Path | None) -> None:
    """Certify a card key from its CSR (proof of possession), as the card centre does for a re-issue by hand."""
    csr = csr_file.read_bytes()
    if csr.lstrip().startswith(b"-----BEGIN"):
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        try:
            csr = x509.load_pem_x509_csr(csr).public_bytes(Encoding.DER)
        except ValueError:
            raise click.BadParameter("not a PEM certificate request", param_hint="--csr") from None
    facts = None
    if ca == "sign":
        if not (name and address and sex):
            raise click.UsageError("a 署名用 certificate carries the 4 facts: give --name, --address and --sex")
        facts = pb.BasicFacts(name=name, birth_date=birth_date, sex=SEXES[sex], address=address)
    request = pb.IssueCertificateRequest(
        ca=CAS[ca], card_id=card_id, resident_code=resident_code, municipality_code=municipality_code,
        prefecture_name=prefecture_name, municipality_name=municipality_name, birth_date=birth_date,
        card_expiry=card_expiry, csr=csr, facts=facts, idempotency_key=idempotency_key, on_hold=on_hold)

    async def call() -> pb.IssueCertificateResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.CertificateAuthorityServiceStub(ch).IssueCertificate(request, timeout=c.timeout)

    r = run_call(call)
    if out:
        out.write_bytes(r.certificate)
    state = "hold" if r.state == pb.CERTIFICATE_STATE_HOLD else "good"
    click.echo(f"{ca}\t{r.serial_hex}\t{state}\tuntil {_when(r.not_after)}" + ("\treplayed" if r.replayed else ""))


@jpki.command("get")
@ca_arg
@serial_arg
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write the DER certificate here")
@click.pass_obj
def get(c: Ctx, ca: str, serial: str, out: Path | None) -> None:
    """Show a certificate's status (and save the certificate)."""

    async def call() -> pb.GetCertificateResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.CertificateAuthorityServiceStub(ch).GetCertificate(
                pb.GetCertificateRequest(ca=CAS[ca], serial_hex=serial), timeout=c.timeout)

    r = run_call(call)
    if out:
        out.write_bytes(r.certificate)
    click.echo(f"{_status_line(r.status)}\tuntil {_when(r.status.not_after)}")


async def _revoke(stub: pb_grpc.CertificateAuthorityServiceStub, ca: int, serial: str, cause: int,
                  deadline: float) -> pb.CertificateStatus:
    r = await stub.RevokeCertificate(pb.RevokeCertificateRequest(ca=ca, serial_hex=serial, cause=cause),
                                     timeout=deadline)
    status: pb.CertificateStatus = r.status
    return status


@jpki.command("revoke")
@ca_arg
@serial_arg
@cause_option
@click.pass_obj
def revoke(c: Ctx, ca: str, serial: str, cause: str) -> None:
    """Revoke one certificate for good."""

    async def call() -> pb.CertificateStatus:
        async with c.channel("jpki") as ch:
            return await _revoke(pb_grpc.CertificateAuthorityServiceStub(ch), CAS[ca], serial, CAUSES[cause],
                                 c.timeout)

    click.echo(_status_line(run_call(call)))


@jpki.command("hold")
@ca_arg
@serial_arg
@click.pass_obj
def hold(c: Ctx, ca: str, serial: str) -> None:
    """Put one certificate on hold (certificateHold; `resume` takes it off)."""

    async def call() -> pb.CertificateStatus:
        async with c.channel("jpki") as ch:
            return await _revoke(pb_grpc.CertificateAuthorityServiceStub(ch), CAS[ca], serial,
                                 pb.REVOCATION_CAUSE_SUSPENSION, c.timeout)

    click.echo(_status_line(run_call(call)))


@jpki.command("resume")
@ca_arg
@serial_arg
@click.pass_obj
def resume(c: Ctx, ca: str, serial: str) -> None:
    """Take one certificate off hold."""

    async def call() -> pb.ReleaseHoldResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.CertificateAuthorityServiceStub(ch).ReleaseHold(
                pb.ReleaseHoldRequest(ca=CAS[ca], serial_hex=serial), timeout=c.timeout)

    click.echo(_status_line(run_call(call).status))


@jpki.command("suspend-card")
@click.argument("card_id")
@click.pass_obj
def suspend_card(c: Ctx, card_id: str) -> None:
    """一時利用停止: every valid certificate of a card goes on hold."""

    async def call() -> pb.SuspendCardResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.CertificateAuthorityServiceStub(ch).SuspendCard(
                pb.SuspendCardRequest(card_id=card_id), timeout=c.timeout)

    for s in run_call(call).statuses:
        click.echo(_status_line(s))


@jpki.command("resume-card")
@click.argument("card_id")
@click.pass_obj
def resume_card(c: Ctx, card_id: str) -> None:
    """Release every held certificate of a card (a found card)."""

    async def call() -> pb.ResumeCardResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.CertificateAuthorityServiceStub(ch).ResumeCard(
                pb.ResumeCardRequest(card_id=card_id), timeout=c.timeout)

    for s in run_call(call).statuses:
        click.echo(_status_line(s))


def selection_options(f: Any) -> Any:
    for option in reversed([
        click.option("--ca", type=click.Choice(sorted(CAS)), help="one CA (default: both)"),
        click.option("--municipality", "municipality_code", help="全国地方公共団体コード of the CRL partition"),
        click.option("--card", "card_id", help="one card's certificates"),
        click.option("--state", type=click.Choice(sorted(STATES)), help="only certificates in this state"),
        click.option("--issued-from", type=click.DateTime(), help="issued at or after (JST unless an offset)"),
        click.option("--issued-before", type=click.DateTime(), help="issued before (JST unless an offset)"),
    ]):
        f = option(f)
    return f


def _selection(ca: str | None, municipality_code: str | None, card_id: str | None, state: str | None,
               issued_from: dt.datetime | None, issued_before: dt.datetime | None) -> pb.ListCertificatesRequest:
    return pb.ListCertificatesRequest(
        ca=CAS[ca] if ca else pb.CA_KIND_UNSPECIFIED, municipality_code=municipality_code or "",
        card_id=card_id or "", state=STATES[state] if state else pb.CERTIFICATE_STATE_UNSPECIFIED,
        issued_from=_time_option(issued_from), issued_before=_time_option(issued_before))


async def _listed(stub: pb_grpc.CertificateAuthorityServiceStub, request: pb.ListCertificatesRequest,
                  deadline: float, limit: int | None = None) -> AsyncIterator[pb.CertificateSummary]:
    """Every certificate of the selection, page by page (up to `limit`)."""
    seen = 0
    while True:
        page = await stub.ListCertificates(request, timeout=deadline)
        for item in page.certificates:
            if limit is not None and seen >= limit:
                return
            seen += 1
            yield item
        if not page.next_page_token:
            return
        request.page_token = page.next_page_token


@jpki.command("list")
@selection_options
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="at most this many")
@click.pass_obj
def list_certificates(c: Ctx, /, limit: int, **selection: Any) -> None:
    """List issued certificates: ca, serial, state, municipality, card, issued, expires."""

    async def call() -> list[pb.CertificateSummary]:
        async with c.channel("jpki") as ch:
            stub = pb_grpc.CertificateAuthorityServiceStub(ch)
            request = _selection(**selection)
            request.page_size = min(limit, 1000)
            return [x async for x in _listed(stub, request, c.timeout, limit)]

    for x in run_call(call):
        click.echo(f"{_status_line(x.status)}\t{x.municipality_code}\t{x.card_id}\tissued {_when(x.issued_at)}"
                   f"\tuntil {_when(x.status.not_after)}")


@jpki.command("revoke-mass")
@selection_options
@cause_option
@click.option("--execute", is_flag=True, help="revoke them; without it, only count what would be revoked")
@click.option("--deadline", type=click.FloatRange(min=1), default=600.0, show_default=True,
              help="seconds the CA may take (each revocation is signed); what is done within it stays done")
@click.pass_obj
def revoke_mass(c: Ctx, /, cause: str, execute: bool, deadline: float, **selection: Any) -> None:
    """Revoke every certificate of a selection (an incident: a municipality, a card batch's days, a card).

    A dry run by default: it counts what would be revoked and shows the first few. Certificates already revoked are
    left as they are; a held certificate is revoked for good. Run again after an interruption: what is done stays
    done, and a finished run run again revokes nothing new."""
    if not any(selection.values()):
        raise click.UsageError("name the selection: --municipality, --card, --issued-from/--issued-before, --ca "
                               "or --state (revoking every certificate is not a command)")
    listed = _selection(**selection)
    request = pb.RevokeMassRequest(ca=listed.ca, municipality_code=listed.municipality_code,
                                   card_id=listed.card_id, state=listed.state, cause=CAUSES[cause], execute=execute)
    for name in ("issued_from", "issued_before"):
        if listed.HasField(name):
            getattr(request, name).CopyFrom(getattr(listed, name))

    async def call() -> pb.RevokeMassResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.CertificateAuthorityServiceStub(ch).RevokeMass(request, timeout=deadline)

    r = run_call(call)
    verb = "revoked" if r.executed else "would revoke"
    for x in r.sample:
        click.echo(f"{verb}\t{_status_line(x.status)}\t{x.municipality_code}\t{x.card_id}")
    more = f" ({r.selected - len(r.sample)} more not shown)" if r.selected > len(r.sample) else ""
    if not r.executed:
        click.echo(f"dry run: {r.selected} certificate(s) would be revoked for {cause}{more}; add --execute")
        return
    click.echo(f"executed: {r.revoked} certificate(s) revoked for {cause} of {r.selected} selected{more}")


@jpki.command("crls")
@click.option("--ca", type=click.Choice(sorted(CAS)), help="one CA (default: both)")
@click.pass_obj
def crls(c: Ctx, ca: str | None) -> None:
    """Sign full CRLs and ARLs now (they are also made on schedule)."""

    async def call() -> pb.GenerateCrlsResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.CertificateAuthorityServiceStub(ch).GenerateCrls(
                pb.GenerateCrlsRequest(ca=CAS[ca] if ca else pb.CA_KIND_UNSPECIFIED), timeout=c.timeout)

    click.echo(f"generated {run_call(call).generated}")


@jpki.command("verify-audit")
@click.pass_obj
def verify_audit(c: Ctx) -> None:
    """Check the audit log's hash chain (exit 1 if broken)."""

    async def call() -> pb.VerifyAuditChainResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.CertificateAuthorityServiceStub(ch).VerifyAuditChain(
                pb.VerifyAuditChainRequest(), timeout=c.timeout)

    r = run_call(call)
    anchored = f", anchored at seq {r.anchored_seq}" if r.HasField("anchored_seq") else ""
    if not r.ok:
        click.echo(f"audit chain BROKEN at seq {r.first_bad_seq}: {r.problem} ({r.entries} entries verified"
                   f"{anchored})")
        raise SystemExit(1)
    click.echo(f"audit chain OK, {r.entries} entries{anchored}")
    if r.note:  # the newest entries were not checked against an anchor: said, never passed over
        click.echo(f"warning: {r.note}")


@jpki.group()
def verifiers() -> None:
    """Registered verifiers (署名検証者 / 利用者証明検証者) of OCSP and CRLs."""


@verifiers.command("list")
@click.pass_obj
def verifiers_list(c: Ctx) -> None:
    """id, kind, organization, filing reference, registered (and deregistered)."""

    async def call() -> pb.ListVerifiersResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.VerifierRegistryServiceStub(ch).ListVerifiers(pb.ListVerifiersRequest(),
                                                                               timeout=c.timeout)

    for x in run_call(call).verifiers:
        gone = f"\tderegistered {_when(x.deregistered_at)}" if x.HasField("deregistered_at") else ""
        click.echo(f"{x.verifier_id}\t{VERIFIER_KIND_NAMES.get(x.kind, '?')}\t{x.organization}\t{x.filing_ref}"
                   f"\tregistered {_when(x.registered_at)}{gone}")


@verifiers.command("register")
@click.option("--kind", type=click.Choice(sorted(VERIFIER_KINDS)), required=True,
              help="signature (署名検証者, 17条1項), user (利用者証明検証者), platform-operator, platform-service")
@click.option("--organization", required=True, help="the verifier's organisation, as its 届出 names it")
@click.option("--filing-ref", required=True, help="the 届出 or 認定 reference")
@click.pass_obj
def verifiers_register(c: Ctx, kind: str, organization: str, filing_ref: str) -> None:
    """Register a verifier; prints its id and its bearer token (shown only now)."""

    async def call() -> pb.RegisterVerifierResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.VerifierRegistryServiceStub(ch).RegisterVerifier(pb.RegisterVerifierRequest(
                kind=VERIFIER_KINDS[kind], organization=organization, filing_ref=filing_ref), timeout=c.timeout)

    r = run_call(call)
    click.echo(f"{r.verifier.verifier_id}\t{r.token}")


@verifiers.command("deregister")
@click.argument("verifier_id")
@click.pass_obj
def verifiers_deregister(c: Ctx, verifier_id: str) -> None:
    """End a verifier's registration (its token stops working)."""

    async def call() -> pb.DeregisterVerifierResponse:
        async with c.channel("jpki") as ch:
            return await pb_grpc.VerifierRegistryServiceStub(ch).DeregisterVerifier(
                pb.DeregisterVerifierRequest(verifier_id=verifier_id), timeout=c.timeout)

    run_call(call)
    click.echo(f"{verifier_id}\tderegistered")
