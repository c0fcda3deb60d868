"""Real SoftHSM2, real PostgreSQL (the runtime's test plugin), real HTTP on 127.0.0.1, real OpenSSL."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jpki import hsm as hsmmod
from jpki.app import build, start_http
from jpki.authority import Authority
from jpki.ceremony import run_ceremony
from jpki.domain import CertificateStatus, Issued, IssueRequest, RevocationCause, Verifier
from jpki.grpc_api import bindings
from jpki.http_api import HttpFront, Snapshot
from jpki.parts import Jpki
from jpki.profiles import BasicFacts, CaKind, Partition
from jpki.records import AuditReport
from jpki.repository import CaStore
from jpki.settings import HsmSettings, HttpSettings, JpkiSettings
from mynumber_codes import DEFAULT_RESIDENT_CODE_RULE
from mynumber_runtime.db import Units
from mynumber_runtime.grpc_server import PlatformServer
from mynumber_runtime.identity import Caller
from mynumber_runtime.settings import DatabaseSettings
from mynumber_runtime.testing.identities import grpc_channel, grpc_server_settings
from mynumber_runtime.testing.units import rolled_back

TOKEN = "jpki-test"
PIN = "123456"


@pytest.fixture(scope="session")
def hsm_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[hsmmod.Hsm, Path]]:
    """One SoftHSM token for the whole run (SoftHSM reads its configuration once per process)."""
    data = tmp_path_factory.mktemp("softhsm")
    hsmmod.softhsm_config(data)
    hsmmod.softhsm_init_token(TOKEN, so_pin="12345678", user_pin=PIN)
    h = hsmmod.Hsm(module=hsmmod.SOFTHSM_MODULE, token_label=TOKEN, user_pin=PIN)
    yield h, data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Ca:
    jpki: Jpki
    settings: JpkiSettings
    snapshot: Snapshot
    base_url: str
    dir: Path
    token: str  # a registered platform operator's bearer token
    front: HttpFront | None = None  # the HTTP front's request routing (its timeouts)
    # The units of work the helpers below open: the CA's own, or one rolled-back transaction's (`isolated_ca`).
    units: Units[CaStore] | None = None

    def __post_init__(self) -> None:
        if self.units is None:
            self.units = self.jpki.units

    def unit(self) -> contextlib.AbstractAsyncContextManager[CaStore]:
        assert self.units is not None
        return self.units()

    def pem(self, kind: CaKind) -> Path:
        return self.dir / f"jpki-{kind}-ca.pem"

    async def refresh(self) -> None:
        await self.snapshot.refresh()

    # The tests' boundary: each call opens its own unit of work, as a gRPC method does.
    def authority(self, kind: CaKind) -> Authority:
        return self.jpki.authorities.authority(kind)

    async def issue(self, req: IssueRequest, *, caller: Caller) -> Issued:
        async with self.unit() as store:
            return await self.jpki.issuance.issue(store, req, caller=caller)

    async def revoke(self, kind: CaKind, serial: int, cause: RevocationCause, *, caller: Caller
                     ) -> CertificateStatus:
        async with self.unit() as store:
            return await self.jpki.revocation.revoke(store, kind, serial, cause, caller=caller)

    async def release_hold(self, kind: CaKind, serial: int, *, caller: Caller) -> CertificateStatus:
        async with self.unit() as store:
            return await self.jpki.revocation.release_hold(store, kind, serial, caller=caller)

    async def suspend_card(self, card_id: str, *, caller: Caller) -> list[CertificateStatus]:
        async with self.unit() as store:
            return await self.jpki.revocation.suspend_card(store, card_id, caller=caller)

    async def resume_card(self, card_id: str, *, caller: Caller) -> list[CertificateStatus]:
        async with self.unit() as store:
            return await self.jpki.revocation.resume_card(store, card_id, caller=caller)

    async def status(self, kind: CaKind, serial: int) -> CertificateStatus:
        async with self.unit() as store:
            return await self.jpki.revocation.status(store, kind, serial)

    async def generate_crl(self, kind: CaKind, code: str, *, delta: bool) -> bytes:
        async with self.unit() as store:
            return await self.jpki.publication.generate_crl(store, kind, code, delta=delta)

    async def generate_due_crls(self, *, force: bool = False) -> int:
        async with self.unit() as store:
            return await self.jpki.publication.generate_due_crls(store, force=force)

    async def register_verifier(self, *, kind: str, organization: str, filing_ref: str, actor: str
                                ) -> tuple[Verifier, str]:
        async with self.unit() as store:
            return await self.jpki.verifiers.register(store, kind=kind, organization=organization,
                                                      filing_ref=filing_ref, actor=actor)

    async def deregister_verifier(self, verifier_id: str, *, actor: str) -> None:
        async with self.unit() as store:
            await self.jpki.verifiers.deregister(store, verifier_id, actor=actor)

    async def list_verifiers(self) -> list[Verifier]:
        async with self.unit() as store:
            return await self.jpki.verifiers.list_all(store)

    async def verify_audit(self) -> AuditReport:
        async with self.unit() as store:
            return await self.jpki.authorities.verify_audit(store)


@pytest.fixture(scope="module")
async def ca(hsm_session: tuple[hsmmod.Hsm, Path], new_database: object, tmp_path_factory: pytest.TempPathFactory
             ) -> AsyncIterator[Ca]:
    h, data = hsm_session
    work = tmp_path_factory.mktemp("jpki")
    (work / "pin").write_text(PIN)
    (work / "keys").write_text("11" * 32)
    (work / "events").write_text("22" * 32)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = new_database()  # type: ignore[operator]
    # Each module gets its own CA generation on the shared token: labels carry the generation and a nonce.
    settings = JpkiSettings(database=DatabaseSettings(url=url),
                            hsm=HsmSettings(token_label=TOKEN, user_pin_file=work / "pin", softhsm_data_dir=data),
                            http=HttpSettings(listen_port=port, public_base_url=base), keys_file=work / "keys",
                            events_key_file=work / "events")
    from jpki.ceremony import MIGRATIONS
    from mynumber_runtime.db import migrate

    migrate(url, MIGRATIONS)
    jpki = await build(settings, hsm=h)
    # The labels must not collide with another module's CA on the same token.
    jpki.authorities.label_prefix = f"m{port}-"
    await run_ceremony(settings, so_pin="12345678", actor="operator:test-ceremony", out_dir=work, jpki=jpki)
    async with jpki.units() as store:
        _, token = await jpki.verifiers.register(store, kind="platform_operator", organization="テスト事業者",
                                                 filing_ref="TEST-001", actor="operator:test")
    # As `serve` runs it: the poll interval follows the promised status delay.
    http = await start_http(jpki, "127.0.0.1", port, poll_interval_s=settings.ocsp_status_delay_s / 2)
    try:
        yield Ca(jpki, settings, http.snapshot, base, work, token, http.front)
    finally:
        await http.close()
        await jpki.close()


@pytest.fixture
async def isolated_ca(ca: Ca) -> AsyncIterator[Ca]:
    """The module's CA whose helpers run every unit of work as a savepoint of one transaction that the test's end
    rolls back (mynumber_runtime.testing.units): nothing the test writes or edits outlives it. Only for tests that
    read through these helpers, never through the HTTP front, gRPC or another process (they see no uncommitted
    row)."""
    async with rolled_back(ca.jpki.engine, CaStore) as units:
        yield dataclasses.replace(ca, units=units)


@pytest.fixture(scope="module")
async def grpc_target(ca: Ca) -> AsyncIterator[str]:
    """The CA's gRPC server (the runtime's PlatformServer with jpki's bindings) on 127.0.0.1."""
    server = PlatformServer(grpc_server_settings("service:jpki", listen="127.0.0.1:0"), bindings(ca.jpki),
                            checks={"database": ca.jpki.units.ping})
    port = await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


def channel(target: str, caller: str) -> grpc.aio.Channel:
    """A channel to `grpc_target` acting as `caller` (`service:issuance`, `municipality:131016`, ...)."""
    return grpc_channel(caller, target)


def card_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def spki(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


ISSUANCE = Caller("service", "issuance")
OPERATOR = Caller("operator", "t")


def resident(code: str) -> str:
    """A valid 住民票コード for a readable 11-digit name such as "20000000011" (the 10-digit body is the name
    without its second digit, then the platform's check digit)."""
    return DEFAULT_RESIDENT_CODE_RULE.make(code[0] + code[2:])


TOKYO = Partition("131016", "東京都", "千代田区")
FACTS = BasicFacts(name="山田　太郎", birth_date=dt.date(1980, 12, 31), sex=1,
                   address="東京都千代田区外神田１丁目２番３号")


def request(kind: CaKind, card_id: str, *, key: rsa.RSAPrivateKey | None = None, resident_code: str = "12345678901",
            partition: Partition = TOKYO, facts: BasicFacts | None = FACTS, **kw: object) -> IssueRequest:
    return IssueRequest(kind=kind, card_id=card_id, resident_code=resident(resident_code), partition=partition,
                        birth_date=(facts or FACTS).birth_date, card_expiry=dt.date.today() + dt.timedelta(days=3650),
                        public_key_der=spki(key or card_key()), facts=facts if kind is CaKind.SIGN else None,
                        **kw)  # type: ignore[arg-type]


async def issue_pair(ca: Ca, card_id: str, resident_code: str = "12345678901",
                     partition: Partition = TOKYO) -> tuple[Issued, Issued]:
    auth = await ca.issue(request(CaKind.AUTH, card_id, resident_code=resident_code, partition=partition),
                          caller=ISSUANCE)
    sign = await ca.issue(request(CaKind.SIGN, card_id, resident_code=resident_code, partition=partition),
                          caller=ISSUANCE)
    return auth, sign


def write_pem(path: Path, der: bytes) -> Path:
    from cryptography import x509

    path.write_bytes(x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM))
    return path


def run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60,
                          input=input.decode() if input else None)


def _http(ca: Ca, path: str, token: str | None, body: bytes | None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(ca.base_url + path, data=body, method="POST" if body is not None else "GET")
    if body is not None:
        req.add_header("Content-Type", "application/ocsp-request")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


async def fetch(ca: Ca, path: str, token: str | None = None, *, body: bytes | None = None
                ) -> tuple[int, str, bytes]:
    """GET (or POST `body` as an OCSP request) against the CA's HTTP front: status, content type, body."""
    return await asyncio.to_thread(_http, ca, path, token, body)


async def arun(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a client (openssl) without blocking the event loop that serves it."""
    return await asyncio.to_thread(run, *args)
