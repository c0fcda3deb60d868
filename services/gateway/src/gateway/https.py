"""The HTTPS door: uvicorn with a TLS context that requires a client certificate signed by the platform's CA (a
client without one fails the handshake, before any HTTP), and the verified certificate handed to the app in the
ASGI TLS extension (`scope["extensions"]["tls"]["client_cert_chain"]`, PEM). Uvicorn does not fill that extension
itself, so its HTTP protocol is extended here: one protocol object per connection, so one certificate per
connection, taken after the handshake."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.settings import HttpsSettings


def with_client_certificate(app: ASGIApp, pem: str | None) -> ASGIApp:
    """The app, seeing `pem` (or no certificate) as the connection's verified client certificate."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            extensions = dict(scope.get("extensions") or {})
            extensions["tls"] = {"client_cert_chain": [pem] if pem else [], "server_cert": None}
            scope = {**scope, "extensions": extensions}
        await app(scope, receive, send)

    return wrapped


class ClientCertificateProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self.app = with_client_certificate(self.app, ssl.DER_cert_to_PEM_cert(der) if der else None)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process's signals belong to runtime.host's service_main, which sets the stop event we serve until.
        yield


class HttpsServer:
    """`await start()` returns the bound port; `await stop()` finishes the requests in flight and closes."""

    def __init__(self, app: ASGIApp, settings: HttpsSettings) -> None:
        self.settings = settings
        config = uvicorn.Config(
            app, host=settings.listen_host, port=settings.listen_port, http=ClientCertificateProtocol,
            ssl_certfile=str(settings.tls_cert_file), ssl_keyfile=str(settings.tls_key_file),
            ssl_ca_certs=str(settings.tls_client_ca_file), ssl_cert_reqs=ssl.CERT_REQUIRED,
            # No access log: a path may carry a 住民票コード. The gateway's audit line (audit.py) replaces it.
            access_log=False, log_config=None, lifespan="off", server_header=False, timeout_graceful_shutdown=10,
            ws="none", proxy_headers=False)
        self.server = _Server(config)
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> int:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
                raise RuntimeError("the HTTPS server stopped before it started")
            await asyncio.sleep(0.01)
        sockets: list[socket.socket] = [s for srv in self.server.servers for s in (srv.sockets or [])]
        self.port = int(sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task

    def __repr__(self) -> str:
        return f"HttpsServer({self.settings.listen_host}:{self.port})"


def tls_of(scope: Scope) -> dict[str, Any]:
    return dict((scope.get("extensions") or {}).get("tls") or {})
