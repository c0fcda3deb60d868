#!/usr/bin/env python3
"""The chart's NATS users and permissions, written from the runtime's one table (`make charts` checks for drift).

`mynumber_runtime.nats_identity.platform_users()` is what `make run` and the tests run nats-server with; the chart
reads the same table from `mynumber/files/nats-users.json`, so production grants exactly what was tested.
  .venv/bin/python charts/nats_users.py > charts/mynumber/files/nats-users.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

FILE = "files/nats-users.json"


def table() -> dict[str, Any]:
    from mynumber_runtime import nats_identity

    users = nats_identity.platform_users()
    return {"users": {name: {"publish": list(p.publish), "subscribe": list(p.subscribe)}
                      for name, p in sorted(users.items())}}


def text() -> str:
    return json.dumps(table(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(text())
