"""Test helpers: a throwaway JPKI-like CA, a test issuer, and a private pcscd presenting a card through vpcd.

Not for production: the CA keys live in memory. The real CAs are services/jpki.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID

from mynumber_cardreader.card import JpkiKey
from mynumber_cardreader.kenhojo import BasicFour
from mynumber_cardreader.personalise import CardContents, Certify, Pins, personalise
from mynumber_cardreader.transport import Transport


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(ou: str, cn: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
    ]
    if cn:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


@dataclass
class TestCa:
    """Two self-signed CAs (署名用, 利用者証明用) that certify card keys, like services/jpki does."""

    __test__ = False

    keys: dict[JpkiKey, rsa.RSAPrivateKey] = field(default_factory=dict)
    certs: dict[JpkiKey, x509.Certificate] = field(default_factory=dict)

    @classmethod
    def create(cls) -> TestCa:
        ca = cls()
        now = dt.datetime.now(dt.UTC)
        for which, ou in (
            (JpkiKey.AUTH, "test JPKI for user authentication"),
            (JpkiKey.SIGN, "test JPKI for digital signature"),
        ):
            key = rsa_key()
            name = _name(ou)
            ca.keys[which] = key
            ca.certs[which] = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(
                    x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
                )
                .sign(key, hashes.SHA256())
            )
        return ca

    def certify(self, which: JpkiKey, public_key: rsa.RSAPublicKey) -> tuple[x509.Certificate, x509.Certificate]:
        now = dt.datetime.now(dt.UTC)
        sign = which is JpkiKey.SIGN
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, os.urandom(8).hex().upper())]))
            .issuer_name(self.certs[which].subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=5 * 365))
            .add_extension(
                x509.KeyUsage(True, sign, False, False, False, False, False, False, False), critical=True
            )
            .sign(self.keys[which], hashes.SHA256())
        )
        return cert, self.certs[which]


@dataclass
class TestIssuer:
    """The issuer key (personalisation), J-LIS's key for the 4-facts signature, and the test CAs."""

    __test__ = False
    issuer_key: ed25519.Ed25519PrivateKey
    jlis_key: rsa.RSAPrivateKey
    ca: TestCa

    @classmethod
    def create(cls) -> TestIssuer:
        return cls(ed25519.Ed25519PrivateKey.generate(), rsa_key(), TestCa.create())

    def issuer_public_der(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self.issuer_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)

    def personalise(
        self, transport: Transport, serial: str, contents: CardContents, pins: Pins, lock: bool = True,
        sign_certificate: bool = True, certify: Certify | None = None,
    ) -> dict[JpkiKey, x509.Certificate]:
        return personalise(
            transport, issuer_key=self.issuer_key, serial=serial, contents=contents, pins=pins,
            jlis_key=self.jlis_key, certify=certify or self.ca.certify, lock=lock, sign_certificate=sign_certificate,
        )


SAMPLE_CONTENTS = CardContents(
    number="123456789018",
    facts=BasicFour(name="山田　太郎", address="東京都千代田区外神田１丁目２番３号", birth="19801231", sex="1"),
    resident_code="12345678903",
    birth_yymmdd="801231",
    expiry_year="2035",
    security_code="4321",
)
SAMPLE_PINS = Pins(sign="ABC123", auth="1234", juki="5678", kenhojo="9012")


def free_port_pair() -> int:
    """A port p with p and p+1 both free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p: int = s.getsockname()[1]
        if p >= 65535:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", p + 1))
            except OSError:
                continue
        return p
    raise RuntimeError("no free port pair")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process we started, then SIGKILL if it has not gone within 5 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class PrivatePcscd:
    """pcscd in the foreground, with its own reader.conf (vpcd reverse mode to 127.0.0.1:port) and its own
    socket. pcscd 1.9.9 ignores PCSCLITE_CSOCK_NAME (only clients honour it) and always creates
    /run/pcscd/pcscd.comm, so it runs in a private mount namespace (`unshare -m`) where a temporary directory is
    bind-mounted on /run/pcscd: the socket lands in that directory and clients find it through the variable."""

    directory: Path
    run_dir: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "pcscd.comm"

    def env(self) -> dict[str, str]:
        return {**os.environ, "PCSCLITE_CSOCK_NAME": str(self.socket_path)}


@contextlib.contextmanager
def private_pcscd(port: int, timeout: float = 20.0) -> Iterator[PrivatePcscd]:
    """Start pcscd (the card must already listen on port and port+1); stop it by pid afterwards."""
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        raise RuntimeError("pcscd is not installed (apt-get install pcscd vsmartcard-vpcd)")
    d = Path(tempfile.mkdtemp(prefix="pcscd-"))
    # libpcsclite reads PCSCLITE_CSOCK_NAME once per process: every pcscd this process starts must use the
    # same socket path, so the socket directory is named after the pid, not after this pcscd.
    run = Path(tempfile.gettempdir()) / f"mynumber-pcscd-{os.getpid()}"
    run.mkdir(exist_ok=True)
    if (run / "pcscd.comm").exists():
        raise RuntimeError("a private pcscd of this process is still running: one at a time (same socket path)")
    conf = d / "reader.conf"
    conf.write_text(
        'FRIENDLYNAME "Virtual PCD"\n'
        f"DEVICENAME   127.0.0.1:{port}\n"
        "LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\n"
        f"CHANNELID    {port}\n"
    )
    log = open(d / "pcscd.log", "wb")  # noqa: SIM115 - closed in finally
    script = f"mkdir -p /run/pcscd && mount --bind {run} /run/pcscd && exec /usr/sbin/pcscd -f -c {conf}"
    proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script], stdout=log, stderr=subprocess.STDOUT)
    handle = PrivatePcscd(d, run, port, proc)
    old = os.environ.get("PCSCLITE_CSOCK_NAME")
    os.environ["PCSCLITE_CSOCK_NAME"] = str(handle.socket_path)
    try:
        deadline = time.monotonic() + timeout
        while not handle.socket_path.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pcscd did not start: {(d / 'pcscd.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        yield handle
    finally:
        if old is None:
            os.environ.pop("PCSCLITE_CSOCK_NAME", None)
        else:
            os.environ["PCSCLITE_CSOCK_NAME"] = old
        _stop(proc)
        log.close()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(run, ignore_errors=True)


@contextlib.contextmanager
def card_process(state_path: Path, port: int, timeout: float = 10.0) -> Iterator[subprocess.Popen[bytes]]:
    """`mynacard serve` from a state file, listening on 127.0.0.1:port and port+1; stopped by pid afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mynacard.cli", "serve", "--state", str(state_path), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port + 1)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"card did not start: {out[-2000:]}")
            time.sleep(0.05)
        yield proc
    finally:
        _stop(proc)
        if proc.stdout:
            proc.stdout.close()


@contextlib.contextmanager
def card_on_pcscd(state_path: Path) -> Iterator[PrivatePcscd]:
    """A card process from a state file presented by a private pcscd in reader "Virtual PCD 00 00"."""
    port = free_port_pair()
    with card_process(state_path, port), private_pcscd(port) as pcscd:
        yield pcscd
