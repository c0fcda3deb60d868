"""Wiring only: `python -m numbering [--migrate]` runs what `numbering.app.build` composes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from mynumber_runtime.host import service_main

from numbering.app import build
from numbering.settings import NumberingSettings

# Beside the sources in a checkout; images copy them elsewhere and say where.
MIGRATIONS = Path(os.environ.get("NUMBERING_MIGRATIONS_DIR") or Path(__file__).resolve().parents[2] / "migrations")


async def serve(settings: NumberingSettings, *, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None) -> None:
    app = await build(settings)
    await app.run(ready=ready, stop=stop)


def main() -> None:
    service_main("numbering", NumberingSettings, MIGRATIONS, lambda settings, stop: serve(settings, stop=stop),
                 description=__doc__)


if __name__ == "__main__":
    main()
