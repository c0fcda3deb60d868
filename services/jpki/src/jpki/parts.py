"""The CA as `jpki.app.build` assembles it: the units of work and the rules by role. The boundaries (gRPC, HTTP,
the event handler, the commands, the background work) open a unit and hand its store to a role."""

from __future__ import annotations

from dataclasses import dataclass

from mynumber_runtime.anchor import AnchorLookup
from mynumber_runtime.db import Units

from jpki.authority import Authorities
from jpki.hsm import Hsm
from jpki.issuance import Issuance
from jpki.publication import Publication
from jpki.repository import CaStore, Engine
from jpki.revocation import Revocation
from jpki.verifiers import Verifiers


@dataclass
class Jpki:
    engine: Engine
    units: Units[CaStore]
    hsm: Hsm
    authorities: Authorities
    issuance: Issuance
    revocation: Revocation
    publication: Publication
    verifiers: Verifiers
    # The latest signed anchor of the audit chain's head (set where NATS is connected: `serve`, `verify-audit`).
    audit_anchors: AnchorLookup | None = None

    async def count_certificates(self) -> dict[tuple[str, str], int]:
        """The metrics gauge's read (one unit per refresh)."""
        async with self.units() as store:
            return await store.count_certificates()

    async def close(self) -> None:
        await self.engine.dispose()
