"""The CAs themselves: the key ceremony, binding the CA and responder certificates to their HSM keys, rotating the
delegated OCSP responders, signing OCSP answers, and checking the audit chain. Rules only: the caller hands in
the store of its unit of work."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from mynumber_runtime.anchor import AnchorLookup
from mynumber_runtime.clock import Clock

from jpki import ocsp, profiles, validity
from jpki.domain import REASON_CODES, SYSTEM, Tuning, new_serial, serial_hex
from jpki.errors import FailedPrecondition
from jpki.hsm import Hsm, HsmError, HsmRsaKey
from jpki.lint import Linter
from jpki.ports import CaStorePort
from jpki.profiles import CaKind
from jpki.records import AuditReport, OcspResponseRecord


@dataclass
class Authority:
    """A CA as the service uses it: certificate, HSM key, and its current delegated OCSP responder."""

    kind: CaKind
    cert: x509.Certificate
    key: HsmRsaKey
    signer_id: int = 0
    signer: ocsp.Signer | None = None


@dataclass
class Authorities:
    hsm: Hsm
    clock: Clock
    linter: Linter
    tuning: Tuning = field(default_factory=Tuning)
    by_kind: dict[CaKind, Authority] = field(default_factory=dict)
    # Prepended to HSM key labels (several CA instances may share one test token).
    label_prefix: str = ""

    def now(self) -> dt.datetime:
        return self.clock.now().astimezone(dt.UTC).replace(microsecond=0)

    def authority(self, kind: CaKind) -> Authority:
        auth = self.by_kind.get(kind)
        if auth is None:
            raise FailedPrecondition(f"the {kind} CA has not been created (run the key ceremony)")
        return auth

    # --- key ceremony and start-up --------------------------------------------------------------------------
    async def ceremony(self, store: CaStorePort, *, actor: str) -> list[CaKind]:
        """Create each CA that does not exist yet: key pair inside the HSM, self-signed certificate, audit."""
        made = []
        existing = {CaKind(r.kind) for r in await store.active_cas()}
        for kind in CaKind:
            if kind in existing:
                continue
            gen = await store.next_generation(kind)
            label = f"{self.label_prefix}jpki-{kind}-ca-{gen}"
            at = self.now()
            if await asyncio.to_thread(self.hsm.has_key, label):
                # An interrupted ceremony generated this key but never certified it (its unit rolled back):
                # adopt it rather than leave the label blocked, if it never could have left the HSM.
                if await asyncio.to_thread(self.hsm.is_extractable, label):
                    raise HsmError(f"the uncertified key {label!r} on the token is extractable: remove it by hand")
                action = "key.adopted"
            else:
                await asyncio.to_thread(self.hsm.generate_rsa, label)
                action = "key.generated"
            await store.audit(at=at, actor=actor, action=action, subject_ref=label,
                              details={"ca": kind, "token": self.hsm.token_label, "bits": 2048,
                                       "extractable": False})
            key = self.hsm.key(label)
            serial = new_serial()
            end = validity.ca_not_after(at, self.tuning.ca_validity_years)
            build = functools.partial(profiles.ca_certificate, kind=kind, serial=serial, not_before=at, not_after=end)
            builder = build(public_key=key.public_key())
            self.linter.check_certificate(self.linter.self_signed_precertificate(
                lambda public_key: build(public_key=public_key)))  # noqa: B023 - called here, at once
            cert = await asyncio.to_thread(builder.sign, key, hashes.SHA256())
            der = cert.public_bytes(Encoding.DER)
            await store.add_ca(kind=kind, generation=gen, serial_hex=serial_hex(serial), cert_der=der,
                               key_label=label, at=at)
            await store.audit(at=at, actor=actor, action="ca.certificate.created", subject_ref=serial_hex(serial),
                              details={"ca": kind, "generation": gen, "sha256": hashlib.sha256(der).hexdigest()})
            # Each CA kept as soon as it exists: its key is in the HSM now, and a failure with the next CA must
            # not withdraw this one's certificate and audit record.
            await store.checkpoint()
            made.append(kind)
        await self.load(store)
        await self.ensure_ocsp_signers(store, actor=actor)
        return made

    async def load(self, store: CaStorePort) -> None:
        """Bind the active CAs and responders in the database to their HSM keys."""
        for r in await store.active_cas():
            kind = CaKind(r.kind)
            self.by_kind[kind] = Authority(kind, x509.load_der_x509_certificate(r.cert_der), self.hsm.key(r.key_label))
        for s in await store.current_ocsp_signers():
            auth = self.by_kind.get(CaKind(s.ca_kind))
            if auth is not None:
                auth.signer_id = int(s.id)
                auth.signer = ocsp.Signer(auth.cert, x509.load_der_x509_certificate(s.cert_der),
                                          self.hsm.key(s.key_label))

    async def ensure_ocsp_signers(self, store: CaStorePort, *, actor: str = SYSTEM,
                                  min_left: dt.timedelta = dt.timedelta(days=7)) -> int:
        """Issue a fresh delegated responder certificate (key in the HSM) for each CA whose current one is missing
        or ends within `min_left`. Pre-produced responses signed by the old one are re-signed by the producer."""
        made = 0
        now = self.now()
        for kind, auth in self.by_kind.items():
            if auth.signer is not None and auth.signer.responder_cert.not_valid_after_utc - now > min_left:
                continue
            label = f"{self.label_prefix}jpki-{kind}-ocsp-{now:%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
            info = await asyncio.to_thread(self.hsm.generate_rsa, label)
            builder = profiles.ocsp_signer_certificate(kind=kind, ca_cert=auth.cert, public_key=info.public_key,
                                                       serial=new_serial(), not_before=now,
                                                       not_after=now + self.tuning.ocsp_signer_life)
            self.linter.check_certificate(self.linter.precertificate(builder))
            cert = await asyncio.to_thread(builder.sign, auth.key, hashes.SHA256())
            sid = await store.add_ocsp_signer(ca_kind=kind, cert_der=cert.public_bytes(Encoding.DER),
                                              key_label=label, not_before=now, not_after=cert.not_valid_after_utc)
            await store.audit(at=now, actor=actor, action="key.generated", subject_ref=label,
                              details={"ca": kind, "purpose": "ocsp-signing", "extractable": False})
            await store.audit(at=now, actor=actor, action="ocsp.signer.issued",
                              subject_ref=serial_hex(cert.serial_number), details={"ca": kind})
            # This process signs with the new responder from now on: its row (the signer_id every response it
            # signs refers to) must be committed before the first such response, whatever happens later.
            await store.checkpoint()
            auth.signer_id, auth.signer = sid, ocsp.Signer(auth.cert, cert, self.hsm.key(label))
            made += 1
        return made

    # --- OCSP answers ----------------------------------------------------------------------------------------
    def sign_status(self, kind: CaKind, serial: int, status: ocsp.Status, now: dt.datetime) -> bytes:
        auth = self.authority(kind)
        if auth.signer is None:
            raise FailedPrecondition(f"the {kind} CA has no OCSP responder certificate")
        return auth.signer.sign(serial=serial, status=status, this_update=now,
                                next_update=now + self.tuning.ocsp_validity)

    async def store_status(self, store: CaStorePort, kind: CaKind, sh: str, der: bytes, status: ocsp.Status,
                           at: dt.datetime) -> None:
        """Keep a pre-produced response (signed by `sign_status` at `at`) for the HTTP front."""
        await store.upsert_ocsp_response(OcspResponseRecord(
            ca_kind=kind.value, serial_hex=sh, der=der, good=status.good, revoked_at=status.revoked_at,
            reason_code=REASON_CODES[status.reason] if status.reason else None,
            signer_id=self.authority(kind).signer_id, this_update=at, next_update=at + self.tuning.ocsp_validity))

    async def publish_status(self, store: CaStorePort, kind: CaKind, sh: str, status: ocsp.Status,
                             at: dt.datetime) -> None:
        """Sign (off the event loop: the HSM call blocks) and keep the response for a changed status."""
        der = await asyncio.to_thread(self.sign_status, kind, int(sh, 16), status, at)
        await self.store_status(store, kind, sh, der, status, at)

    def live_ocsp(self, kind: str, req: ocsp.Request, status: ocsp.Status | None) -> bytes:
        """Sign on the spot (nonce, non-SHA-1 CertID, unknown serial)."""
        auth = self.authority(CaKind(kind))
        assert auth.signer is not None
        now = self.now()
        return auth.signer.sign(serial=req.serial, status=status, this_update=now,
                                next_update=now + self.tuning.ocsp_validity, algorithm=req.algorithm,
                                nonce=req.nonce)

    async def verify_audit(self, store: CaStorePort, anchors: AnchorLookup | None = None) -> AuditReport:
        """The audit chain, against the latest signed anchor of its head when `anchors` is given."""
        return await store.verify_audit(anchors)
