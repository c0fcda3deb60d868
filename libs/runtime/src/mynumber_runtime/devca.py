"""A local certification authority for runs on one machine (`make run`, the tests, the operator tool).

Production certificates come from the platform's CA (cert-manager in the chart); locally nothing should differ but
who signs: every service still runs with mTLS and every caller still presents a certificate naming its identity
(`urn:mynumber:<kind>:<id>`, see `mynumber_runtime.identity`). The CA key and certificate are made on first use
and kept in the directory (key mode 0600); leaf certificates are kept beside them and reused while valid.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mynumber_runtime.identity import URI_PREFIX, Caller

CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=365)
# A certificate with less than this left is replaced: a process started now must not see its certificate expire.
RENEW_BEFORE = dt.timedelta(days=7)
# File names are made from the identity: only characters that are safe in a path.
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Credentials:
    """The three files a TLS endpoint of the platform needs: the CA that signs peers, its certificate, its key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, mode: int) -> None:
    """Atomically: readers see the old file or the new one, never half a key. The mode is set before any byte."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class DevCA:
    """`DevCA(directory).issue("service:numbering", server=True)`: the CA is created on first use, then loaded."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.ca_file = self.directory / "ca.pem"
        self.ca_key_file = self.directory / "ca.key"
        self._ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # `make run` and a `mynumber --as ...` in another terminal may both issue at once.
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load_or_create(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        if self._ca is not None:
            return self._ca
        if self.ca_key_file.exists() and self.ca_file.exists():
            key = serialization.load_pem_private_key(self.ca_key_file.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{self.ca_key_file}: not an EC private key")
            self._ca = (x509.load_pem_x509_certificate(self.ca_file.read_bytes()), key)
            return self._ca
        key = ec.generate_private_key(ec.SECP256R1())
        # A name of its own: a leaf from another dev CA (another checkout, another test run) is told apart.
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mynumber local development"),
                          x509.NameAttribute(NameOID.COMMON_NAME, f"mynumber dev CA {secrets.token_hex(4)}")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + CA_VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             key_cert_sign=True, crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        _write(self.ca_key_file, _pem_key(key), 0o600)
        _write(self.ca_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        self._ca = (cert, key)
        return self._ca

    def certificate(self) -> x509.Certificate:
        with self._locked():
            return self._load_or_create()[0]

    def issue(self, identity: str, *, server: bool = False) -> Credentials:
        """A certificate naming `identity` (`<kind>:<id>`), with its key; reused while it is valid, signed by this
        CA and fit for the use asked. A server certificate serves TLS on localhost / 127.0.0.1 and is also a
        client certificate: a platform service is one identity whether it answers or calls."""
        caller = Caller.parse(identity)
        if not _SAFE.match(caller.id):
            raise ValueError("identity: the id may hold only letters, digits, '.', '_' and '-'")
        stem = f"{caller.kind}_{caller.id}"
        creds = Credentials(self.ca_file, self.directory / f"{stem}.pem", self.directory / f"{stem}.key")
        with self._locked():
            ca, ca_key = self._load_or_create()
            if self._reusable(creds, ca, server=server):
                return creds
            key = ec.generate_private_key(ec.SECP256R1())
            now = dt.datetime.now(dt.UTC)
            names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(f"{URI_PREFIX}{caller}")]
            usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
            if server:
                names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
            cert = (x509.CertificateBuilder()
                    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(caller))]))
                    .issuer_name(ca.subject).public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + LEAF_VALIDITY)
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                    .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                 key_encipherment=False, data_encipherment=False,
                                                 key_agreement=False, key_cert_sign=False, crl_sign=False,
                                                 encipher_only=False, decipher_only=False), critical=True)
                    .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
                    .add_extension(x509.SubjectAlternativeName(names), critical=False)
                    .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                   critical=False)
                    .sign(ca_key, hashes.SHA256()))
            # Key first: a reader that sees the new certificate finds its key already there.
            _write(creds.key_file, _pem_key(key), 0o600)
            _write(creds.cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return creds

    @staticmethod
    def _reusable(creds: Credentials, ca: x509.Certificate, *, server: bool) -> bool:
        if not (creds.cert_file.exists() and creds.key_file.exists()):
            return False
        try:
            cert = x509.load_pem_x509_certificate(creds.cert_file.read_bytes())
            key = serialization.load_pem_private_key(creds.key_file.read_bytes(), password=None)
            cert.verify_directly_issued_by(ca)  # a CA made anew (its folder wiped) invalidates the old leaves
            usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            return False
        if key.public_key() != cert.public_key():
            return False
        if server and ExtendedKeyUsageOID.SERVER_AUTH not in usages:
            return False
        return cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
