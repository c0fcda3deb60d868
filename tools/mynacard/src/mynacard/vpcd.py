"""The vpcd transport: vsmartcard's virtual reader driver inside pcscd talks to the card over TCP.

Wire format (vsmartcard vpcd.c): every message is a 2-byte big-endian length and a payload. A 1-byte payload
is a control code: 00 power off, 01 power on, 02 reset (no answer), 04 "send the ATR". Any other payload is a
C-APDU, answered with the R-APDU.

Two modes:
- reverse (`VpcdServer`): pcscd's reader.conf says `DEVICENAME 127.0.0.1:<port>` and vpcd connects to the
  card. vpcd opens two slots, on <port> and <port>+1; the card must listen on both, or pcscd aborts
  (toolchain.md §3). Slot 0 holds the card. Slot 1 holds an inert card (`InertCard`: its own ATR, no
  application, 6A 82 / 6D 00 to everything): measured with pcscd 1.9.9 and vpcd 0.8, a slot that answers
  "no card" (an empty ATR) makes vpcd drop and re-open the connection and pcscd then dies with
  "bit out of range 0 - FD_SETSIZE on fd_set" about 20 s later.
- normal (`connect_to_vpcd`): the card connects to a vpcd that listens (Debian's default 35963).
Both bind or connect to loopback only.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from mynacard.card import VirtualCard

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        if _QUICKACK is not None:
            # vpcd writes the 2-byte length and the payload separately; with Nagle on its side and delayed
            # ACKs on ours every APDU waited ~40 ms (measured). Linux resets QUICKACK, so set it before each recv.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)


def serve_connection(sock: socket.socket, card: VirtualCard | InertCard) -> None:
    """Answer vpcd on one connection until it closes. Every slot holds a card (an empty one kills pcscd)."""
    with contextlib.suppress(EOFError, OSError):
        while True:
            (n,) = struct.unpack(">H", _recv_exact(sock, 2))
            msg = _recv_exact(sock, n)
            if n == 1:
                if msg[0] == CTRL_ATR:
                    _send(sock, card.atr)
                elif msg[0] in (CTRL_OFF, CTRL_ON, CTRL_RESET):
                    card.power_on()  # every one of these clears the volatile security state
            else:
                _send(sock, card.process(msg))
    with contextlib.suppress(OSError):
        sock.close()


class InertCard:
    """What slot 1 holds: a card with no application (see the module doc)."""

    atr = bytes.fromhex("3B80800101")  # T=1, no historical bytes; matches no OpenSC driver

    def power_on(self) -> None:
        pass

    def process(self, raw: bytes) -> bytes:
        if len(raw) >= 4 and raw[0] == 0x00 and raw[1] == 0xA4:
            return b"\x6a\x82"
        return b"\x6d\x00"


class VpcdServer:
    """Reverse mode: listen on 127.0.0.1:port (slot 0, the card) and port+1 (slot 1, an `InertCard`)."""

    def __init__(self, card: VirtualCard, port: int, host: str = "127.0.0.1") -> None:
        self.card = card
        self.host = host
        self.port = port
        self._listeners: list[socket.socket] = []
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self) -> None:
        for slot in (0, 1):
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((self.host, self.port + slot))
            ls.listen(1)
            self._listeners.append(ls)
            t = threading.Thread(target=self._accept_loop, args=(ls, slot), daemon=True, name=f"vpcd-slot{slot}")
            t.start()
            self._threads.append(t)

    def _accept_loop(self, ls: socket.socket, slot: int) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = ls.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conns.append(conn)
            serve_connection(conn, self.card if slot == 0 else InertCard())

    def serve_forever(self) -> None:
        self.start()
        self._stopping.wait()

    def stop(self) -> None:
        self._stopping.set()
        for s in self._listeners + self._conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()
        for t in self._threads:
            t.join(timeout=2)


def connect_to_vpcd(card: VirtualCard, host: str = "127.0.0.1", port: int = 35963) -> None:
    """Normal mode: connect to a listening vpcd and serve until it closes the connection."""
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    serve_connection(sock, card)
