"""OCSP (RFC 6960): response building, the pre-produced response store, and request answering.

Responses are signed ahead of time by a delegated responder certificate (id-kp-OCSPSigning, issued by the CA,
key in the HSM) and held in memory as DER keyed by (issuer key hash, serial) of the SHA-1 CertID that clients
send by default (RFC 5019 §2.1.1): answering costs a parse and a dictionary look-up. A request that asks for a
nonce, uses another CertID hash, or names a serial we never issued is answered by signing on the spot (the slow
path: one HSM signature, about a millisecond).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp

CONTENT_TYPE = "application/ocsp-response"
REQUEST_TYPE = "application/ocsp-request"

MALFORMED = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
    Encoding.DER)
UNAUTHORIZED = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
    Encoding.DER)
TRY_LATER = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER).public_bytes(
    Encoding.DER)
INTERNAL_ERROR = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR).public_bytes(
    Encoding.DER)


def key_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm | None = None) -> bytes:
    """Hash of the issuer's public key BIT STRING (RFC 6960 §4.1.1 issuerKeyHash)."""
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    from asn1crypto.keys import PublicKeyInfo

    bits = PublicKeyInfo.load(spki)["public_key"].contents[1:]  # drop the unused-bits octet
    name = (algorithm or hashes.SHA1()).name.replace("-", "").lower()
    return hashlib.new(name, bits).digest()


def name_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm | None = None) -> bytes:
    name = (algorithm or hashes.SHA1()).name.replace("-", "").lower()
    return hashlib.new(name, cert.subject.public_bytes()).digest()


@dataclass(frozen=True)
class Status:
    """What the responder says about one serial."""

    good: bool
    revoked_at: dt.datetime | None = None
    reason: x509.ReasonFlags | None = None


@dataclass
class Signer:
    """A CA's delegated responder: its certificate, its HSM key, and the CA certificate it speaks for."""

    ca_cert: x509.Certificate
    responder_cert: x509.Certificate
    key: rsa.RSAPrivateKey

    def sign(self, *, serial: int, status: Status | None, this_update: dt.datetime, next_update: dt.datetime,
             algorithm: hashes.HashAlgorithm | None = None, nonce: bytes | None = None) -> bytes:
        """status None means UNKNOWN (a serial this CA never issued)."""
        algo = algorithm or hashes.SHA1()
        if status is None:
            cert_status, rev_time, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
        elif status.good:
            cert_status, rev_time, reason = ocsp.OCSPCertStatus.GOOD, None, None
        else:
            cert_status, rev_time, reason = ocsp.OCSPCertStatus.REVOKED, status.revoked_at, status.reason
            if reason is x509.ReasonFlags.unspecified:
                reason = None
        b = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(name_hash(self.ca_cert, algo), key_hash(self.ca_cert, algo), serial, algo,
                                  cert_status, this_update, next_update, rev_time, reason)
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.responder_cert)
            .certificates([self.responder_cert])
        )
        if nonce is not None:
            b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
        return b.sign(self.key, hashes.SHA256()).public_bytes(Encoding.DER)


@dataclass(frozen=True)
class Request:
    issuer_key_hash: bytes
    issuer_name_hash: bytes
    serial: int
    algorithm: hashes.HashAlgorithm
    nonce: bytes | None


def parse_request(der: bytes) -> Request | None:
    """None for anything that is not one well-formed single-CertID OCSP request."""
    try:
        req = ocsp.load_der_ocsp_request(der)
        nonce = None
        for ext in req.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                nonce = ext.value.nonce
        serial = req.serial_number
        # RFC 5280 §4.1.2.2: a serial is positive and at most 20 octets; nothing else names a certificate, and a
        # response cannot even be signed for a negative one.
        if serial <= 0 or serial.bit_length() > 160:
            return None
        return Request(req.issuer_key_hash, req.issuer_name_hash, serial, req.hash_algorithm, nonce)
    except Exception:  # cryptography raises ValueError and friends for every kind of garbage
        return None


# A decision of the store on one request: the DER to send, plus whether it may be cached by HTTP intermediaries.
Answer = tuple[bytes, bool]


class ResponseStore:
    """Pre-produced responses in memory. Writers swap whole entries; readers never lock (the GIL orders dict
    operations), so the request path is a look-up."""

    def __init__(self) -> None:
        # (SHA-1 issuer key hash, serial) -> (DER response, status)
        self._responses: dict[tuple[bytes, int], bytes] = {}
        self._status: dict[tuple[bytes, int], Status] = {}
        self._issuer_hash: dict[str, bytes] = {}  # CA kind -> SHA-1 issuer key hash
        self._issuers_by_name: dict[tuple[str, bytes, bytes], str] = {}
        # Signs a response on the spot: (CA kind, request, status or None for unknown) -> DER.
        self.live_signer: Callable[[str, Request, Status | None], bytes] | None = None

    def add_issuer(self, kind: str, ca_cert: x509.Certificate) -> None:
        self._issuer_hash[kind] = key_hash(ca_cert)
        for algo in (hashes.SHA1(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()):
            self._issuers_by_name[(algo.name, name_hash(ca_cert, algo), key_hash(ca_cert, algo))] = kind

    def put(self, kind: str, serial: int, der: bytes, status: Status) -> None:
        k = (self._issuer_hash[kind], serial)
        self._status[k] = status
        self._responses[k] = der

    def get(self, kind: str, serial: int) -> bytes | None:
        return self._responses.get((self._issuer_hash[kind], serial))

    def __len__(self) -> int:
        return len(self._responses)

    def issuer_of(self, req: Request) -> str | None:
        return self._issuers_by_name.get((req.algorithm.name, req.issuer_name_hash, req.issuer_key_hash))

    def answer(self, req: Request, allowed_kinds: frozenset[str]) -> bytes:
        """The response for a parsed request from a caller allowed to ask about `allowed_kinds` CAs."""
        kind = self.issuer_of(req)
        if kind is None or kind not in allowed_kinds:
            # Not a CA we answer for (RFC 5019 §2.2.3), or not one this verifier registered for: unauthorized.
            return UNAUTHORIZED
        k = (self._issuer_hash[kind], req.serial)
        if req.nonce is None and isinstance(req.algorithm, hashes.SHA1):
            pre = self._responses.get(k)
            if pre is not None:
                return pre
        if self.live_signer is None:
            return TRY_LATER
        # Slow path: a nonce, another CertID hash, or a serial never issued (UNKNOWN, RFC 6960 §2.2).
        return self.live_signer(kind, req, self._status.get(k))
