"""Typed settings bases. Every setting has a safe local default; secrets are read from files (`*_file`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def read_secret(path: Path) -> bytes:
    """Read a secret from a file (a mounted Kubernetes Secret in production), stripped of a trailing newline."""
    return path.read_bytes().rstrip(b"\r\n")


def read_hex_secret(path: Path) -> bytes:
    """A key kept as hex text in a secret file."""
    return bytes.fromhex(read_secret(path).decode().strip())


class DatabaseSettings(BaseModel):
    url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/mynumber"
    # In production the URL carries a password, so it is given as a file.
    url_file: Path | None = None
    pool_size: int = 10

    def resolved_url(self) -> str:
        return read_secret(self.url_file).decode() if self.url_file else self.url


class NatsSettings(BaseModel):
    url: str = "nats://127.0.0.1:4222"
    # Who this process is on NATS: its service's user, whose permissions allow publishing only its own subjects
    # (see `mynumber_runtime.nats_identity`). The password comes from a file, never from a value.
    user: str | None = None
    password_file: Path | None = None
    # Seconds within which JetStream drops a re-published event with the same Nats-Msg-Id.
    duplicate_window_s: float = 600.0

    @model_validator(mode="after")
    def _user_with_password(self) -> NatsSettings:
        if (self.user is None) != (self.password_file is None):
            raise ValueError("nats: user and password_file go together")
        return self


class GrpcSettings(BaseModel):
    # A left-over setting (e.g. the removed `insecure_local`) is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")

    # Empty: this process serves no gRPC (an HTTP-only workload of a service), so nothing below is required.
    listen: str = "127.0.0.1:50051"
    # A second, plaintext listener serving only grpc.health.v1: kubelet's native gRPC probes cannot present a
    # client certificate. Unset in local runs (the main port answers health too).
    health_listen: str | None = None
    # mTLS: server certificate and key, and the CA that signs callers' client certificates.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    default_deadline_s: float = 30.0
    max_message_bytes: int = 16 * 1024 * 1024

    @model_validator(mode="after")
    def _mtls(self) -> GrpcSettings:
        # Every listener is mTLS, local runs included (their certificates come from the local dev CA): the caller's
        # identity is the one its certificate names, never something it says about itself.
        if not self.listen:
            return self
        tls = (self.tls_cert_file, self.tls_key_file, self.tls_client_ca_file)
        if not all(tls):
            raise ValueError("grpc: a listener needs tls_cert_file, tls_key_file and tls_client_ca_file (mTLS)")
        return self


class MetricsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Plain HTTP serving `GET /metrics` (Prometheus text format): no personal data behind it, but loopback unless
    # told otherwise (the chart listens on the pod's address for the scrape). Port 0: any free port (said in the
    # "serving" log line); `make run` gives each service its own. Empty: no metrics listener.
    listen: str = "127.0.0.1:0"
    # Seconds between the queries behind the database-fed gauges (rows in the outbox, numbers issued, ...).
    refresh_interval_s: float = 15.0


class ServiceSettings(BaseSettings):
    """Base of every service's settings; a service sets `env_prefix` (e.g. "NUMBERING_")."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    nats: NatsSettings = Field(default_factory=NatsSettings)
    # No gRPC unless told where to listen, with the mTLS files (`<PREFIX>GRPC__LISTEN`, `..._TLS_CERT_FILE`, ...).
    grpc: GrpcSettings = Field(default_factory=lambda: GrpcSettings(listen=""))
    # `<PREFIX>METRICS__LISTEN`: where /metrics is served (metrics.py).
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    # The region this instance runs in (east/west): names the origin of its events.
    region_name: str = "east"
    log_level: str = "INFO"
    log_file: Path | None = None
    # OTLP endpoint for traces; unset means spans go nowhere (or to the console with trace_console).
    otlp_endpoint: str | None = None
    trace_console: bool = False
