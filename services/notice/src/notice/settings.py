"""Settings of the notice service (env prefix NOTICE_, nested with __)."""

from __future__ import annotations

from pathlib import Path

from mynumber_runtime.anchor import AnchorSettings
from mynumber_runtime.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class NoticeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTICE_", env_nested_delimiter="__", extra="ignore")

    # The notice master secret (hex, 32+ bytes): KEK of the data keys and the look-up hash key derive from it.
    keys_file: Path = Path("var/secrets/notice.key")
    # How often the audit chain head is signed and published (`<PREFIX>AUDIT_ANCHOR__INTERVAL_S`, anchor.py).
    audit_anchor: AnchorSettings = AnchorSettings()
    # The platform event key (hex, 32 bytes): opens number.assigned, seals the form inside form.issued.
    events_key_file: Path = Path("var/secrets/events.key")
    # The print vendor's key (hex, 32 bytes): seals a DV victim's 居所 inside a batch file, so only the vendor's
    # secure label line can open it (the 居所 never appears in clear in an export).
    print_key_file: Path = Path("var/secrets/print.key")
    # Where batch files and PDFs are written (a volume shared with the vendor's transfer agent).
    export_dir: Path = Path("var/notice/export")
    # The 再交付手数料 by municipal ordinance (notice.fees.load_schedule: CSV code,effective_from,fee_yen); none: the
    # standard 500 yen everywhere.
    fee_ordinances_file: Path | None = None
    # Durable consumer name of number.assigned.
    consumer_name: str = "notice-number-assigned"
