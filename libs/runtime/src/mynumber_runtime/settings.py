"""Typed settings bases. Every setting has a safe local default; secrets are read from files (`*_file`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator
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
    # Seconds within which JetStream drops a re-published event with the same Nats-Msg-Id.
    duplicate_window_s: float = 600.0


class GrpcSettings(BaseModel):
    # Empty: this process serves no gRPC (an HTTP-only workload of a service), so nothing below is required.
    listen: str = "127.0.0.1:50051"
    # A second, plaintext listener serving only grpc.health.v1: kubelet's native gRPC probes cannot present a
    # client certificate. Unset in local runs (the main port answers health too).
    health_listen: str | None = None
    # mTLS: server certificate and key, and the CA that signs callers' client certificates.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    # Plain TCP with the caller named in metadata: only for local runs and tests on loopback.
    insecure_local: bool = False
    default_deadline_s: float = 30.0
    max_message_bytes: int = 16 * 1024 * 1024

    @model_validator(mode="after")
    def _tls_or_local(self) -> GrpcSettings:
        if not self.listen:
            return self
        tls = (self.tls_cert_file, self.tls_key_file, self.tls_client_ca_file)
        if any(tls) and not all(tls):
            raise ValueError("grpc: tls_cert_file, tls_key_file and tls_client_ca_file go together")
        if not all(tls) and not self.insecure_local:
            raise ValueError("grpc: give the mTLS files, or set insecure_local for a local run")
        if self.insecure_local and not self.listen.startswith(("127.", "localhost", "[::1]", "unix:")):
            raise ValueError("grpc: insecure_local may only listen on loopback")
        return self


class ServiceSettings(BaseSettings):
    """Base of every service's settings; a service sets `env_prefix` (e.g. "NUMBERING_")."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    nats: NatsSettings = Field(default_factory=NatsSettings)
    grpc: GrpcSettings = Field(default_factory=lambda: GrpcSettings(insecure_local=True))
    # The region this instance runs in (east/west): names the origin of its events.
    region_name: str = "east"
    log_level: str = "INFO"
    log_file: Path | None = None
    # OTLP endpoint for traces; unset means spans go nowhere (or to the console with trace_console).
    otlp_endpoint: str | None = None
    trace_console: bool = False
