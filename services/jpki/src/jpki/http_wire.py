"""HTTP/1.1 framing of the CA's HTTP front: requests parsed by httptools (llhttp, Node.js's parser), answered by
`HttpFront.handle` in order, on keep-alive connections.

The limits a public responder needs, each answered and closed: a request line and headers over MAX_HEADER bytes
(431), a body over MAX_BODY bytes, declared or chunked (413), bytes that are not HTTP/1.x (400), a request begun
and not finished within the front's `request_timeout_s` (408, no slow-loris hold). An upgrade (`Upgrade:`, CONNECT)
is not offered: the request is answered as plain HTTP and the connection closed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, cast

import httptools

from jpki import ocsp
from jpki.http_api import TEXT, response

if TYPE_CHECKING:
    from jpki.http_api import HttpFront

log = logging.getLogger(__name__)

MAX_HEADER = 8192
MAX_BODY = 16384


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; `answer` is what the client gets before the close."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer


_HEADER_TOO_LARGE = response("431 Request Header Fields Too Large", TEXT, b"", False)
_BODY_TOO_LARGE = response("413 Content Too Large", TEXT, b"bad or too large body\n", False)
_BAD_REQUEST = response("400 Bad Request", TEXT, b"not an HTTP/1.1 request\n", False)
_TIMEOUT = response("408 Request Timeout", TEXT, b"request not completed in time\n", False)


class HttpProtocol(asyncio.Protocol):
    """One connection: the parser's callbacks collect a request; `on_message_complete` answers it."""

    __slots__ = ("body", "front", "head_size", "headers", "in_request", "parser", "timer", "transport", "url")

    def __init__(self, front: HttpFront) -> None:
        self.front = front
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.in_request = False
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.head_size = 0
        self.body = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        assert transport is not None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # llhttp stops after an upgrade request; what was complete has been answered.
            self._close(b"" if not self.in_request else _BAD_REQUEST)
            return
        except httptools.HttpParserError as e:
            refused = e.__context__ if isinstance(e.__context__, _Refused) else None
            self._close(refused.answer if refused is not None else _BAD_REQUEST)
            return
        # Armed only while a partial request waits: the keep-alive hot path never touches the timer.
        if self.in_request and self.timer is None and not transport.is_closing():
            self.timer = asyncio.get_running_loop().call_later(self.front.request_timeout_s, self._expire)
        elif not self.in_request and self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _close(self, answer: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            if answer:
                transport.write(answer)
            transport.close()

    def _expire(self) -> None:
        # A request started and never finished (slow or stalled client): answer 408 and close.
        self._close(_TIMEOUT)

    # --- httptools callbacks -------------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.in_request = True
        self.url = b""
        self.headers = {}
        self.head_size = 0
        self.body = b""

    def _count(self, n: int) -> None:
        self.head_size += n
        if self.head_size > MAX_HEADER:
            raise _Refused(_HEADER_TOO_LARGE)

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        self.headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        declared = self.headers.get(b"content-length")
        if declared is not None and int(declared) > MAX_BODY:  # llhttp has checked it is a number
            raise _Refused(_BODY_TOO_LARGE)

    def on_body(self, body: bytes) -> None:
        if len(self.body) + len(body) > MAX_BODY:  # chunked bodies declare no length
            raise _Refused(_BODY_TOO_LARGE)
        self.body += body

    def on_message_complete(self) -> None:
        self.in_request = False
        transport = self.transport
        assert transport is not None  # llhttp refuses what follows a request that closed the connection
        keep_alive = self.parser.should_keep_alive()
        try:
            out = self.front.handle(self.parser.get_method(), self.url, self.headers, self.body, keep_alive)
        except Exception:
            log.exception("HTTP handler failed")
            out, keep_alive = response("200 OK", ocsp.CONTENT_TYPE, ocsp.INTERNAL_ERROR, False), False
        transport.write(out)
        if not keep_alive:
            transport.close()


async def serve(front: HttpFront, host: str, port: int, *, reuse_port: bool = False) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    if reuse_port:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        return await loop.create_server(lambda: HttpProtocol(front), sock=sock, backlog=4096)
    return await loop.create_server(lambda: HttpProtocol(front), host, port, backlog=4096)
