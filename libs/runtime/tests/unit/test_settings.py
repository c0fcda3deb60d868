"""gRPC settings refuse an unsafe transport at load time, unless the process serves no gRPC at all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from mynumber_runtime.grpc_server import PlatformServer
from mynumber_runtime.settings import GrpcSettings, NatsSettings, ServiceSettings
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict


def test_every_listener_needs_the_mtls_files_loopback_too() -> None:
    for listen in ("0.0.0.0:50051", "127.0.0.1:50051", "localhost:50051"):
        with pytest.raises(ValidationError, match=r"needs tls_cert_file, tls_key_file and tls_client_ca_file"):
            GrpcSettings(listen=listen)
        with pytest.raises(ValidationError, match="mTLS"):
            GrpcSettings(listen=listen, tls_cert_file=Path("/x.crt"), tls_key_file=Path("/x.key"))
    tls = GrpcSettings(listen="127.0.0.1:50051", tls_cert_file=Path("/x.crt"), tls_key_file=Path("/x.key"),
                       tls_client_ca_file=Path("/ca.crt"))
    assert tls.tls_client_ca_file == Path("/ca.crt")


def test_the_removed_metadata_identity_switch_is_refused_not_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="insecure_local"):
        GrpcSettings(listen="", insecure_local=True)  # type: ignore[call-arg]
    monkeypatch.setenv("T_GRPC__LISTEN", "")
    monkeypatch.setenv("T_GRPC__INSECURE_LOCAL", "true")

    class T(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="T_", env_nested_delimiter="__", extra="ignore")

    with pytest.raises(ValidationError, match="insecure_local"):
        T()


def test_a_nats_user_comes_with_its_password_file() -> None:
    with pytest.raises(ValidationError, match="go together"):
        NatsSettings(user="numbering")
    with pytest.raises(ValidationError, match="go together"):
        NatsSettings(password_file=Path("/run/secrets/numbering.password"))
    assert NatsSettings(user="numbering", password_file=Path("/p")).user == "numbering"


def test_an_empty_listen_address_means_no_grpc_and_the_server_refuses_to_start() -> None:
    settings = GrpcSettings(listen="")
    assert settings.tls_cert_file is None
    with pytest.raises(ValueError, match="serve no gRPC"):
        asyncio.run(PlatformServer(settings, []).start())
