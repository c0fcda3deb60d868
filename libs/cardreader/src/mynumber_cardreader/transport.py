"""Transports: pyscard (PC/SC) for real readers, or anything with `transmit(bytes) -> bytes` (an in-process card)."""

from __future__ import annotations

import contextlib
import time
from typing import Any, Protocol

from mynumber_cardreader.errors import CardReaderError, NoCardError, NoReaderError


class Transport(Protocol):
    def transmit(self, apdu: bytes) -> bytes:
        """Send a C-APDU, return the R-APDU (data followed by SW1 SW2)."""
        ...


class PcscConnection(Protocol):
    """What this module uses of pyscard's `CardConnection` (pyscard ships no type information)."""

    def getATR(self) -> list[int]: ...

    def transmit(self, command: list[int]) -> tuple[list[int], int, int]: ...


def _pcsc_readers() -> list[Any]:
    """pyscard's reader objects (honours PCSCLITE_CSOCK_NAME)."""
    from smartcard.Exceptions import ListReadersException
    from smartcard.pcsc.PCSCExceptions import EstablishContextException
    from smartcard.System import readers

    try:
        return list(readers())
    except (EstablishContextException, ListReadersException) as e:
        raise NoReaderError(f"PC/SC service not available: {e}") from e


def list_readers() -> list[str]:
    """Names of the PC/SC readers pcscd offers (honours PCSCLITE_CSOCK_NAME)."""
    return [str(r) for r in _pcsc_readers()]


class PcscTransport:
    """A connection to the card in one PC/SC reader, through pyscard, T=1."""

    def __init__(self, connection: PcscConnection, reader: str) -> None:
        self._conn = connection
        self.reader = reader

    @classmethod
    def wait_for_card(cls, reader: str | None = None, timeout: float = 10.0) -> PcscTransport:
        """Wait up to `timeout` seconds for a card in `reader` (or in any reader) and connect to it."""
        from smartcard.CardConnection import CardConnection
        from smartcard.Exceptions import CardConnectionException, NoCardException

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while True:
            try:
                found = [r for r in _pcsc_readers() if reader is None or str(r) == reader]
            except NoReaderError as e:
                found, last = [], e
            for r in found:
                conn = r.createConnection()
                try:
                    conn.connect(CardConnection.T1_protocol)
                    return cls(conn, str(r))
                except (NoCardException, CardConnectionException) as e:
                    last = e
            if time.monotonic() >= deadline:
                if reader is not None and not found:
                    raise NoReaderError(f"reader {reader!r} not found") from last
                raise NoCardError(f"no card within {timeout} s") from last
            time.sleep(0.1)

    @property
    def atr(self) -> bytes:
        return bytes(self._conn.getATR())

    def transmit(self, apdu: bytes) -> bytes:
        from smartcard.Exceptions import CardConnectionException

        try:
            data, sw1, sw2 = self._conn.transmit(list(apdu))
        except CardConnectionException as e:
            raise CardReaderError(f"transmit failed: {e}") from e
        return bytes(data) + bytes([sw1, sw2])

    def close(self) -> None:
        from smartcard.Exceptions import CardConnectionException

        for step in ("disconnect", "release"):  # release: the PC/SC context too, not at garbage collection
            fn = getattr(self._conn, step, None)
            if fn is not None:
                with contextlib.suppress(CardConnectionException):
                    fn()
