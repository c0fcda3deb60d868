"""Settings of the issuance service (env prefix ISSUANCE_, nested with __)."""

from __future__ import annotations

from pathlib import Path

from mynumber_runtime.anchor import AnchorSettings
from mynumber_runtime.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class IssuanceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ISSUANCE_", env_nested_delimiter="__", extra="ignore")

    # The issuance master secret (hex, 32+ bytes): the KEK of the data keys, the look-up hash key and the facts
    # digest key derive from it. Production: a mounted Secret.
    keys_file: Path = Path("var/secrets/issuance.key")
    # How often the access log's head is signed and published (`<PREFIX>AUDIT_ANCHOR__INTERVAL_S`, anchor.py).
    audit_anchor: AnchorSettings = AnchorSettings()
    # The platform event key (hex, 32 bytes): opens notice's form.issued.
    events_key_file: Path = Path("var/secrets/events.key")
    # Durable consumer name of notice's form.issued.
    consumer_name: str = "issuance-form-issued"
