"""The HTTP/1.1 framing of the CA's front (jpki.http_wire) over an in-memory transport: what reaches the router,
in which order, and what a client gets for each limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from jpki import http_wire
from jpki.http_api import TEXT, response


class Router:
    def __init__(self) -> None:
        self.seen: list[tuple[bytes, bytes, dict[bytes, bytes], bytes, bool]] = []
        self.request_timeout_s = 0.05

    def handle(self, method: bytes, target: bytes, headers: dict[bytes, bytes], body: bytes, keep_alive: bool
               ) -> bytes:
        self.seen.append((method, target, headers, body, keep_alive))
        return response("200 OK", TEXT, b"#%d" % len(self.seen), keep_alive)


class Transport:
    def __init__(self) -> None:
        self.out = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.out += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def connect() -> tuple[Router, Transport, http_wire.HttpProtocol]:
    router, transport = Router(), Transport()
    proto = http_wire.HttpProtocol(router)  # type: ignore[arg-type]
    proto.connection_made(transport)  # type: ignore[arg-type]
    return router, transport, proto


def statuses(out: bytes) -> list[int]:
    return [int(line.split(b" ")[1]) for line in out.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


async def test_pipelined_requests_split_anywhere_are_answered_in_order_on_one_connection() -> None:
    body = b"\x30\x03\x02\x01\x05"
    raw = (b"POST /ocsp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 5\r\n\r\n" + body +
           b"GET /ca/auth.cer HTTP/1.1\r\nHost: x\r\n\r\n"
           b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"
           b"GET /never HTTP/1.1\r\n\r\n")
    for cut in (1, 7, 50, 80, len(raw) - 3):
        router, transport, proto = connect()
        proto.data_received(raw[:cut])
        proto.data_received(raw[cut:])
        assert [(m, t) for m, t, *_ in router.seen] == [(b"POST", b"/ocsp"), (b"GET", b"/ca/auth.cer"),
                                                       (b"GET", b"/healthz")], cut
        assert router.seen[0][2][b"authorization"] == b"Bearer t" and router.seen[0][3] == body
        assert [k for *_, k in router.seen] == [True, True, False]
        assert transport.out.count(b"HTTP/1.1 200 OK") == 3 and transport.closed
        proto.connection_lost(None)


async def test_a_chunked_body_reaches_the_router_whole() -> None:
    router, transport, proto = connect()
    proto.data_received(b"POST /ocsp HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert router.seen[0][3] == b"abcde" and not transport.closed


@pytest.mark.parametrize(("raw", "status"), [
    (b"GET /" + b"a" * (http_wire.MAX_HEADER + 1) + b" HTTP/1.1\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\n" + b"X-Pad: yyyyyyyy\r\n" * 600 + b"\r\n", 431),
    (b"POST /ocsp HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (http_wire.MAX_BODY + 1), 413),
    (b"POST /ocsp HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1000\r\n" + b"z" * 4096 + b"\r\n" * 1 +
     b"1000\r\n" + b"z" * 4096 + b"\r\n" + b"1000\r\n" + b"z" * 4096 + b"\r\n" + b"1000\r\n" + b"z" * 4096 +
     b"\r\n" + b"1\r\nz\r\n", 413),
    (b"POST /ocsp HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /ocsp HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", 400),
    (b"G\x00T / HTTP/1.1\r\n\r\n", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # a TLS ClientHello on the plain port
])
async def test_each_limit_is_answered_and_closed_and_nothing_reaches_the_router(raw: bytes, status: int) -> None:
    router, transport, proto = connect()
    proto.data_received(raw)
    assert statuses(transport.out) == [status] and transport.closed and router.seen == []


async def test_an_upgrade_is_answered_as_plain_http_and_the_connection_closed() -> None:
    router, transport, proto = connect()
    proto.data_received(b"GET /healthz HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nPRI * HTTP/2.0\r\n")
    assert statuses(transport.out) == [200] and transport.closed and len(router.seen) == 1


async def test_a_request_begun_and_not_finished_is_answered_408_after_the_timeout() -> None:
    router, transport, proto = connect()
    proto.data_received(b"POST /ocsp HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
    assert proto.timer is not None and transport.out == b""
    await asyncio.sleep(router.request_timeout_s * 4)
    assert statuses(transport.out) == [408] and transport.closed and router.seen == []


async def test_the_timer_is_disarmed_once_the_request_completes() -> None:
    router, transport, proto = connect()
    proto.data_received(b"GET /healthz HTTP/1.1\r\n")
    assert proto.timer is not None
    proto.data_received(b"\r\n")
    assert proto.timer is None and statuses(transport.out) == [200]
    await asyncio.sleep(router.request_timeout_s * 4)
    assert not transport.closed


async def test_a_failing_router_gives_the_ocsp_internal_error_and_closes() -> None:
    router, transport, proto = connect()

    def broken(*_: Any) -> bytes:
        raise RuntimeError("boom")

    router.handle = broken  # type: ignore[method-assign]
    proto.data_received(b"POST /ocsp HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    assert statuses(transport.out) == [200] and transport.closed and b"boom" not in transport.out
