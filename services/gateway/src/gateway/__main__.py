"""Wiring only: `python -m gateway [--migrate]` runs what `gateway.app.build` composes; `python -m gateway
openapi` prints the OpenAPI document (services/gateway/openapi.json is its committed copy)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from mynumber_runtime.host import service_main

from gateway.app import build
from gateway.settings import GatewaySettings

# Beside the sources in a checkout; images copy them elsewhere and say where.
MIGRATIONS = Path(os.environ.get("GATEWAY_MIGRATIONS_DIR") or Path(__file__).resolve().parents[2] / "migrations")


async def serve(settings: GatewaySettings, *, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None) -> None:
    app = await build(settings)
    await app.run(ready=ready, stop=stop)


def openapi_text() -> str:
    from gateway.api import create_app

    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    if sys.argv[1:] == ["openapi"]:
        sys.stdout.write(openapi_text())
        return
    service_main("gateway", GatewaySettings, MIGRATIONS, lambda settings, stop: serve(settings, stop=stop),
                 description=__doc__)


if __name__ == "__main__":
    main()
