"""Settings of the gateway (env prefix GATEWAY_, nested with __)."""

from __future__ import annotations

from pathlib import Path

from mynumber_runtime.errors import Unauthenticated
from mynumber_runtime.identity import KINDS, Caller
from mynumber_runtime.settings import ServiceSettings
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import SettingsConfigDict


class HttpsSettings(BaseModel):
    """The REST door: HTTPS that requires a client certificate from the platform's CA (mutual TLS)."""

    model_config = ConfigDict(extra="forbid")

    # Loopback unless told otherwise (the chart listens on the pod's address). Port 0: any free port.
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8443, ge=0, le=65535)
    # The server certificate and key, and the CA whose certificates clients must present. Unset: the gRPC
    # listener's (the gateway is one identity, `service:gateway`, on both).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    # Requests whose body is larger are refused with 413 before any of it is parsed.
    max_body_bytes: int = Field(default=64 * 1024, ge=1)
    # The bulk assignment job's register (50,000 住民票コード fit).
    max_bulk_body_bytes: int = Field(default=1024 * 1024, ge=1)


class UpstreamSettings(BaseModel):
    """How the gateway reaches one platform service: gRPC with mTLS as `service:gateway`, with a deadline."""

    model_config = ConfigDict(extra="forbid")

    target: str = "127.0.0.1:50051"
    deadline_s: float = Field(default=5.0, gt=0)
    # A whole bulk stream (a register of 50,000 runs in seconds; the bound is for a stuck stream).
    bulk_deadline_s: float = Field(default=3600.0, gt=0)


class ClientIdentity(BaseModel):
    """The gateway's own certificate towards the services (`service:gateway`); its server certificate serves."""

    model_config = ConfigDict(extra="forbid")

    cert_file: Path | None = None
    key_file: Path | None = None
    ca_file: Path | None = None


class Limit(BaseModel):
    """One client's limit, for the whole platform (every replica together)."""

    model_config = ConfigDict(extra="forbid")

    # Sustained calls per second.
    rate_per_s: float = Field(gt=0)
    # Calls admitted at once after the client has been idle (the bucket's size).
    burst: int = Field(ge=1)


class RateLimitSettings(BaseModel):
    """Per-client rate limits (ratelimit.py): a token bucket per verified identity. `GATEWAY_RATE_LIMIT__KINDS`
    and `__OVERRIDES` take JSON, e.g. `{"municipality:131016": {"rate_per_s": 500, "burst": 1000}}`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Each replica grants the limits divided by this (docs/gateway.md, "Rate limits"): the chart's replica count.
    replicas: int = Field(default=1, ge=1)
    # By caller kind. A municipality's system numbers and looks up in batches; a store terminal serves one
    # person at a time; operators use tools.
    kinds: dict[str, Limit] = Field(default_factory=lambda: {
        "municipality": Limit(rate_per_s=100, burst=200),
        "store-terminal": Limit(rate_per_s=2, burst=10),
        "operator": Limit(rate_per_s=10, burst=50)})
    # Any kind not in `kinds`.
    other: Limit = Limit(rate_per_s=5, burst=10)
    # By identity (`municipality:131016`): a designated city, a test client, the bench.
    overrides: dict[str, Limit] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names(self) -> RateLimitSettings:
        unknown = sorted(set(self.kinds) - KINDS)
        if unknown:
            raise ValueError(f"rate_limit.kinds: unknown caller kinds {unknown}")
        for name in self.overrides:
            try:
                Caller.parse(name)
            except Unauthenticated:
                raise ValueError("rate_limit.overrides: a key is not an identity <kind>:<id> of a known kind"
                                 ) from None
        return self


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_nested_delimiter="__", extra="ignore")

    # The gateway's gRPC listener serves grpc.health.v1 (and reflection) only: the platform's probes and
    # `make run`'s readiness ask it, with the real checks (database reachable). `GATEWAY_GRPC__LISTEN`, ...
    https: HttpsSettings = HttpsSettings()
    numbering: UpstreamSettings = UpstreamSettings()
    issuance: UpstreamSettings = UpstreamSettings(target="127.0.0.1:50055")
    notice: UpstreamSettings = UpstreamSettings(target="127.0.0.1:50053")
    # Unset: the HTTPS server certificate (a dev CA server certificate is a client certificate too).
    client: ClientIdentity = ClientIdentity()
    # Hex secret (32+ bytes): seals the stored first results of idempotent writes (they may carry a 個人番号).
    keys_file: Path = Path("var/secrets/gateway.key")
    # The deployment's ordinance file (TOML, gateway.purposes): each municipality's 第9条2項 条例 事務 and the
    # 一部事務組合 with their members and 事務. Unset: the 別表第一 rows only.
    purposes_file: Path | None = None
    # How long a first result is replayed for its Idempotency-Key.
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)
    rate_limit: RateLimitSettings = RateLimitSettings()

    @model_validator(mode="after")
    def _mtls(self) -> GatewaySettings:
        https, grpc = self.https, self.grpc
        https.tls_cert_file = https.tls_cert_file or grpc.tls_cert_file
        https.tls_key_file = https.tls_key_file or grpc.tls_key_file
        https.tls_client_ca_file = https.tls_client_ca_file or grpc.tls_client_ca_file
        if not all((https.tls_cert_file, https.tls_key_file, https.tls_client_ca_file)):
            raise ValueError("https: tls_cert_file, tls_key_file and tls_client_ca_file are required (mTLS), "
                             "or the grpc listener's")
        return self

    def client_files(self) -> tuple[Path, Path, Path]:
        """(CA, certificate, key) the gateway calls the services with."""
        cert = self.client.cert_file or self.https.tls_cert_file
        key = self.client.key_file or self.https.tls_key_file
        ca = self.client.ca_file or self.https.tls_client_ca_file
        assert cert and key and ca  # the validator requires its three
        return ca, cert, key
