"""Wiring only: `python -m notice` runs `notice.app.build(settings)` under the platform's host."""

from __future__ import annotations

import os
from pathlib import Path

from mynumber_runtime.host import service_main

from notice.app import serve
from notice.settings import NoticeSettings

MIGRATIONS = Path(os.environ.get("NOTICE_MIGRATIONS_DIR") or Path(__file__).resolve().parents[2] / "migrations")


def main() -> None:
    service_main("notice", NoticeSettings, MIGRATIONS, lambda settings, stop: serve(settings, stop=stop),
                 description=__doc__)


if __name__ == "__main__":
    main()
