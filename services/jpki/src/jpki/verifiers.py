"""The registry of verifiers (署名検証者 17条, 利用者証明検証者 36条, platform operators and services): who may read
revocation data, each with a bearer token shown once and stored only as its hash."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from jpki import models as m
from jpki import validation as v
from jpki.authority import Authorities
from jpki.domain import Verifier, token_hash, verifier_of
from jpki.errors import InvalidArgument, NotFound
from jpki.ports import CaStorePort


@dataclass
class Verifiers:
    authorities: Authorities  # for the clock

    async def register(self, store: CaStorePort, *, kind: str, organization: str, filing_ref: str, actor: str
                       ) -> tuple[Verifier, str]:
        """Register a verifier; returns it and its bearer token (shown once, stored only as a hash)."""
        if kind not in m.VERIFIER_KINDS:
            raise InvalidArgument("kind", "must be one of " + ", ".join(m.VERIFIER_KINDS))
        v.validate_text(organization, "organization", max_chars=200, required=True, multiline=False)
        if not filing_ref:
            raise InvalidArgument("filing_ref", "must name the 届出 or 認定 the registration rests on")
        v.validate_text(filing_ref, "filing_ref", max_chars=100, required=True, multiline=False)
        now = self.authorities.now()
        vid = "v-" + secrets.token_hex(8)
        token = secrets.token_urlsafe(32)
        await store.add_verifier(id=vid, kind=kind, organization=organization, filing_ref=filing_ref,
                                 token_hash=token_hash(token), by=actor, at=now)
        await store.audit(at=now, actor=actor, action="verifier.registered", subject_ref=vid,
                          details={"kind": kind, "filing_ref": filing_ref})
        return Verifier(vid, kind, organization, filing_ref, now, None), token

    async def deregister(self, store: CaStorePort, verifier_id: str, *, actor: str) -> None:
        v.validate_verifier_id(verifier_id)
        now = self.authorities.now()
        if not await store.deregister_verifier(verifier_id, now):
            raise NotFound("verifier_id: no registered verifier with this id")
        await store.audit(at=now, actor=actor, action="verifier.deregistered", subject_ref=verifier_id)

    async def get(self, store: CaStorePort, verifier_id: str) -> Verifier | None:
        r = await store.verifier(verifier_id)
        return verifier_of(r) if r is not None else None

    async def list_all(self, store: CaStorePort) -> list[Verifier]:
        return [verifier_of(r) for r in await store.verifiers()]
