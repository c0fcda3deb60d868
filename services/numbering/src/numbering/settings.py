"""Settings of the numbering service (env prefix NUMBERING_, nested with __)."""

from __future__ import annotations

from pathlib import Path

from mynumber_runtime.anchor import AnchorSettings
from mynumber_runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class NumberingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NUMBERING_", env_nested_delimiter="__", extra="ignore")

    # The issuing region's digit (1-9) for changed numbers: FF1(r || counter) never collides across regions.
    region_digit: int = Field(default=1, ge=1, le=9)
    # The national numbering master secret (hex, 32+ bytes): FF1 key, look-up hash key, KEK and 符号 key derive
    # from it. Both regions hold the same secret. Production: a mounted Secret (an HSM-held key is the goal).
    keys_file: Path = Path("var/secrets/numbering.key")
    # How often the audit chain head is signed and published (`<PREFIX>AUDIT_ANCHOR__INTERVAL_S`, anchor.py).
    audit_anchor: AnchorSettings = AnchorSettings()
    # The platform event key (hex, 32 bytes) that seals personal data inside events.
    events_key_file: Path = Path("var/secrets/events.key")
    # 住民票コード check digit weights, applied from the body's rightmost digit (the 告示 formula is not public).
    resident_code_weights: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5)
    # Largest chunk a bulk stream may send in one message.
    bulk_chunk_limit: int = 10_000
