"""Publication of revocation data: CRLs per municipality partition (full and delta), the ARL, the schedule that
makes them, and the re-signing of pre-produced OCSP responses. The HTTP front serves what this stores."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509

from jpki import crl as crlmod
from jpki import models as m
from jpki import ocsp, profiles
from jpki.authority import Authorities
from jpki.domain import REASON_BY_CODE, SYSTEM, Tuning
from jpki.errors import NotFound
from jpki.ports import CaStorePort
from jpki.profiles import CaKind


@dataclass
class Publication:
    authorities: Authorities
    urls: profiles.Urls

    @property
    def tuning(self) -> Tuning:
        return self.authorities.tuning

    async def refresh_ocsp(self, store: CaStorePort, *, limit: int = 1000) -> int:
        """Re-sign responses past half their validity or signed by a retired responder certificate."""
        cas = self.authorities
        now = cas.now()
        signer_ids = [a.signer_id for a in cas.by_kind.values()]
        due = await store.ocsp_due(before=now + self.tuning.ocsp_validity / 2, signer_ids=signer_ids, limit=limit)
        for r in due:
            good = r.status == m.GOOD
            reason = REASON_BY_CODE.get(r.reason_code) if not good and r.reason_code is not None else None
            status = ocsp.Status(good, None if good else r.revoked_at, reason)
            await cas.publish_status(store, CaKind(r.ca_kind), r.serial_hex, status, now)
        return len(due)

    async def generate_crl(self, store: CaStorePort, kind: CaKind, code: str, *, delta: bool, actor: str = SYSTEM
                           ) -> bytes:
        cas = self.authorities
        auth = cas.authority(kind)
        now = cas.now()
        part = await store.partition(kind, code)
        if part is None:
            raise NotFound("municipality_code: this CA has issued no certificate in this municipality")
        partition = profiles.Partition(code, part.prefecture_name, part.municipality_name)
        base = await store.latest_crl(kind, code, delta=False) if delta else None
        if base is None:
            delta = False  # a delta needs a base: make the full CRL first
        rows = await store.revoked_in_partition(kind, code, not_expired_at=now,
                                                changed_after=base.this_update if base is not None else None)
        entries = []
        for r in rows:
            # Held and revoked rows have a date (CHECK revoked_has_time); a released hold keeps its own.
            assert r.revoked_at is not None
            if r.status == m.GOOD:
                # A hold released since the base CRL (RFC 5280 §5.3.1 removeFromCRL, delta CRLs only).
                entries.append(crlmod.Entry(int(r.serial_hex, 16), r.revoked_at, x509.ReasonFlags.remove_from_crl))
            else:
                reason = REASON_BY_CODE.get(r.reason_code) if r.reason_code is not None else None
                entries.append(crlmod.Entry(int(r.serial_hex, 16), r.revoked_at, reason))
        number = await store.next_crl_number()
        validity = self.tuning.delta_crl_interval * 2 if delta else self.tuning.crl_validity
        base_number = int(base.number) if base is not None else None
        der = await asyncio.to_thread(
            crlmod.build, ca_cert=auth.cert, key=auth.key, number=number, this_update=now,
            next_update=now + validity, entries=entries, scope=profiles.crl_distribution_point(kind, partition),
            base_number=base_number, freshest=[x509.UniformResourceIdentifier(self.urls.delta_crl(kind, code))])
        await asyncio.to_thread(cas.linter.check_crl, der, authority=False)
        await store.add_crl(ca_kind=kind, partition=code, number=number, delta=delta, base_number=base_number,
                            this_update=now, next_update=now + validity, der=der)
        await store.audit(at=now, actor=actor, action="crl.delta.generated" if delta else "crl.generated",
                          subject_ref=f"{kind}/{code}", details={"number": number, "entries": len(entries)})
        return der

    async def generate_arl(self, store: CaStorePort, kind: CaKind, *, actor: str = SYSTEM) -> bytes:
        """The authority revocation list: CA certificates of this CA's name that were revoked."""
        cas = self.authorities
        auth = cas.authority(kind)
        now = cas.now()
        entries = [crlmod.Entry(int(r.serial_hex, 16), r.revoked_at,
                                REASON_BY_CODE.get(r.revocation_reason) if r.revocation_reason is not None else None)
                   for r in await store.all_cas(kind) if r.revoked_at is not None]
        number = await store.next_crl_number()
        der = await asyncio.to_thread(crlmod.build, ca_cert=auth.cert, key=auth.key, number=number, this_update=now,
                                      next_update=now + self.tuning.crl_validity, entries=entries,
                                      scope=profiles.arl_distribution_point(kind), authority=True)
        await asyncio.to_thread(cas.linter.check_crl, der, authority=True)
        await store.add_crl(ca_kind=kind, partition="arl", number=number, delta=False, base_number=None,
                            this_update=now, next_update=now + self.tuning.crl_validity, der=der)
        await store.audit(at=now, actor=actor, action="arl.generated", subject_ref=f"{kind}/arl",
                          details={"number": number, "entries": len(entries)})
        return der

    async def generate_due_crls(self, store: CaStorePort, *, force: bool = False,
                                kinds: Iterable[CaKind] | None = None, actor: str = SYSTEM) -> int:
        """The schedule: a full CRL per partition (and the ARL) when older than the full interval, else a delta
        when older than the delta interval. `force` regenerates full CRLs now (on demand)."""
        now = self.authorities.now()
        made = 0
        for kind in kinds or list(self.authorities.by_kind):
            arl = await store.latest_crl(kind, "arl", delta=False)
            if force or arl is None or now - arl.this_update >= self.tuning.full_crl_interval:
                await self.generate_arl(store, kind, actor=actor)
                # Each signed list is kept as soon as it is made: a later partition's failure must not withdraw
                # one already signed (its number is spent and its validity promised).
                await store.checkpoint()
                made += 1
            for part in await store.partitions(kind):
                code = part.municipality_code
                full = await store.latest_crl(kind, code, delta=False)
                last_delta = await store.latest_crl(kind, code, delta=True)
                if force or full is None or now - full.this_update >= self.tuning.full_crl_interval:
                    await self.generate_crl(store, kind, code, delta=False, actor=actor)
                elif last_delta is None or now - last_delta.this_update >= self.tuning.delta_crl_interval:
                    await self.generate_crl(store, kind, code, delta=True, actor=actor)
                else:
                    continue
                await store.checkpoint()  # as above: each signed CRL is kept on its own
                made += 1
        return made
