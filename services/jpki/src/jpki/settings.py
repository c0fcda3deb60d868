"""Settings of the JPKI service (env prefix JPKI_, nested with __). Secrets come from files."""

from __future__ import annotations

import os
from pathlib import Path

from mynumber_runtime.anchor import AnchorSettings
from mynumber_runtime.settings import ServiceSettings
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

# The Alembic scripts: beside the sources in a checkout; images copy them elsewhere and say where.
MIGRATIONS = Path(os.environ.get("JPKI_MIGRATIONS_DIR") or Path(__file__).resolve().parents[2] / "migrations")


class HsmSettings(BaseModel):
    # Any PKCS#11 module; SoftHSM2 locally and in tests.
    module: Path = Path("/usr/lib/softhsm/libsofthsm2.so")
    token_label: str = "jpki-ca"
    user_pin_file: Path = Path("var/secrets/jpki-hsm.pin")
    # SoftHSM only: the token directory lives here (a private SOFTHSM2_CONF is written at start).
    softhsm_data_dir: Path | None = Path("var/jpki")


class HttpSettings(BaseModel):
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    # The public base URL written into certificates (CRL distribution points, OCSP URL, ARL).
    public_base_url: str = "http://127.0.0.1:8080"


class JpkiSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JPKI_", env_nested_delimiter="__", extra="ignore")

    hsm: HsmSettings = Field(default_factory=HsmSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    # Key-encryption key (hex, 32 bytes) sealing issuance requests at rest, and the keyed-hash key of holders.
    keys_file: Path = Path("var/secrets/jpki.key")
    # How often the audit chain head is signed and published (`<PREFIX>AUDIT_ANCHOR__INTERVAL_S`, anchor.py).
    audit_anchor: AnchorSettings = AnchorSettings()
    # The platform event key (hex, 32 bytes) that opens sealed identities in resident events.
    events_key_file: Path = Path("var/secrets/events.key")
    # CRLs: a full CRL per partition every `crl_full_interval_s`, a delta every `crl_delta_interval_s`.
    crl_full_interval_s: float = 3600.0
    crl_delta_interval_s: float = 300.0
    crl_validity_s: float = 2 * 86400.0
    # OCSP: responses are valid this long, re-signed when less than half remains.
    ocsp_validity_s: float = 86400.0
    # A status change reaches every responder within this many seconds (responders poll the database).
    ocsp_status_delay_s: float = 2.0
    ocsp_signer_days: int = 30
    # certificatePolicies is critical on the 署名用 certificate (domain.md §4.2); for 利用者証明用 UNCONFIRMED.
    auth_policy_critical: bool = True
    # Real certificates name no OCSP responder (AIA): registered verifiers are given its address out of band. On
    # only for a deployment whose verifiers cannot be told (generic clients then query it without a token).
    include_ocsp_url: bool = False
    ca_validity_years: int = 10
