"""The store's 居所 rows (one per resident and registering municipality) and the residents' sealed facts."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from notice.entities import Residence
from notice.models import residences, residents
from notice.repository.base import Rows, _residence, _slices


class ResidenceRows(Rows):
    async def upsert_residence(self, residence: Residence) -> None:
        """Keyed by (resident, registering municipality): only that municipality's own registration replaces it."""
        row = {"resident_hash": residence.resident_hash, "municipality_code": residence.municipality_code,
               "kind": residence.kind, "sealed_address": residence.sealed_address,
               "documents": list(residence.documents), "hold_at_office": residence.hold_at_office,
               "registered_at": residence.registered_at, "source": residence.source,
               "sharing_consent": residence.sharing_consent}
        stmt = insert(residences).values(row)
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=[residences.c.resident_hash, residences.c.municipality_code],
            set_={k: stmt.excluded[k] for k in row if k not in ("resident_hash", "municipality_code")}))

    async def get_residence(self, resident_hash: bytes, municipality_code: str) -> Residence | None:
        c = residences.c
        row = (await self.conn.execute(sa.select(residences).where(
            c.resident_hash == resident_hash, c.municipality_code == municipality_code))).first()
        return _residence(row) if row is not None else None

    async def residences_of(self, municipality_code: str, hashes: Sequence[bytes]) -> dict[bytes, Residence]:
        out, c = {}, residences.c
        for part in _slices(hashes):
            rows = (await self.conn.execute(sa.select(residences).where(
                c.municipality_code == municipality_code, c.resident_hash.in_(part)))).all()
            out.update({bytes(row.resident_hash): _residence(row) for row in rows})
        return out

    async def facts_of(self, hashes: Sequence[bytes]) -> dict[bytes, bytes | None]:
        r = residents
        rows = (await self.conn.execute(sa.select(r.c.resident_hash, r.c.sealed_facts)
                                        .where(r.c.resident_hash.in_(list(hashes))))).all()
        return {bytes(row.resident_hash): row.sealed_facts for row in rows}
