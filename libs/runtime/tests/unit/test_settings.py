"""gRPC settings refuse an unsafe transport at load time, unless the process serves no gRPC at all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from mynumber_runtime.grpc_server import PlatformServer
from mynumber_runtime.settings import GrpcSettings
from pydantic import ValidationError


def test_a_public_listener_needs_the_mtls_files() -> None:
    with pytest.raises(ValidationError, match="give the mTLS files"):
        GrpcSettings(listen="0.0.0.0:50051")
    with pytest.raises(ValidationError, match="go together"):
        GrpcSettings(listen="0.0.0.0:50051", tls_cert_file=Path("/x.crt"))
    with pytest.raises(ValidationError, match="only listen on loopback"):
        GrpcSettings(listen="0.0.0.0:50051", insecure_local=True)
    assert GrpcSettings(listen="127.0.0.1:50051", insecure_local=True).insecure_local


def test_an_empty_listen_address_means_no_grpc_and_the_server_refuses_to_start() -> None:
    settings = GrpcSettings(listen="")
    assert settings.tls_cert_file is None and not settings.insecure_local
    with pytest.raises(ValueError, match="serve no gRPC"):
        asyncio.run(PlatformServer(settings, []).start())
