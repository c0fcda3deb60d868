"""Wiring only: `python -m issuance [--migrate]` runs what `issuance.app.build` composes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from mynumber_runtime.host import service_main

from issuance.app import build
from issuance.settings import IssuanceSettings

# Beside the sources in a checkout; images copy them elsewhere and say where.
MIGRATIONS = Path(os.environ.get("ISSUANCE_MIGRATIONS_DIR") or Path(__file__).resolve().parents[2] / "migrations")


async def serve(settings: IssuanceSettings, *, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None) -> None:
    app = await build(settings)
    await app.run(ready=ready, stop=stop)


def main() -> None:
    service_main("issuance", IssuanceSettings, MIGRATIONS, lambda settings, stop: serve(settings, stop=stop),
                 description=__doc__)


if __name__ == "__main__":
    main()
