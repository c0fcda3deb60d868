"""ISO 7816-4 command APDU parsing (short and extended) and the status words the card answers."""

from __future__ import annotations

from dataclasses import dataclass

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # fewer bytes than Le were available
SW_WRONG_LENGTH = 0x6700
SW_SM_NOT_SUPPORTED = 0x6882
SW_CHAINING_NOT_SUPPORTED = 0x6884
SW_INCOMPATIBLE_FILE = 0x6981  # e.g. READ BINARY on a key or PIN EF
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_AUTH_FAILED = 0x6300
SW_REF_DATA_BLOCKED = 0x6984  # blocked PIN, or a PIN that was never set
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_NO_CURRENT_EF = 0x6986
SW_WRONG_DATA = 0x6A80
SW_FILE_NOT_FOUND = 0x6A82
SW_RECORD_NOT_FOUND = 0x6A83
SW_NOT_ENOUGH_MEMORY = 0x6A84
SW_INCORRECT_P1P2 = 0x6A86
SW_REF_DATA_NOT_FOUND = 0x6A88
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_UNKNOWN = 0x6F00


class CardError(Exception):
    """Raised inside a command handler; the dispatcher turns it into the status word."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


@dataclass(frozen=True, slots=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None  # None: no Le field; otherwise Ne (1..65536)
    extended: bool

    @property
    def le_is_max(self) -> bool:
        """Le was 00 (short) or 00 00 (extended): "all there is", so a shorter answer is no warning."""
        return self.le == (65536 if self.extended else 256)


def parse(apdu: bytes) -> Command:
    """Decode the four ISO 7816-3 cases by length, as the card sees them under T=1 (opensc-jpki.md §5.1)."""
    n = len(apdu)
    if n < 4:
        raise CardError(SW_WRONG_LENGTH)
    cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
    if n == 4:
        return Command(cla, ins, p1, p2, b"", None, False)
    b4 = apdu[4]
    if n == 5:
        return Command(cla, ins, p1, p2, b"", b4 or 256, False)
    if b4 != 0:  # short Lc
        lc = b4
        if n == 5 + lc:
            return Command(cla, ins, p1, p2, apdu[5:], None, False)
        if n == 6 + lc:
            return Command(cla, ins, p1, p2, apdu[5 : 5 + lc], apdu[-1] or 256, False)
        raise CardError(SW_WRONG_LENGTH)
    # b4 == 0 and more than 5 bytes: extended length
    if n < 7:
        raise CardError(SW_WRONG_LENGTH)
    ext = (apdu[5] << 8) | apdu[6]
    if n == 7:
        return Command(cla, ins, p1, p2, b"", ext or 65536, True)
    if ext == 0:
        raise CardError(SW_WRONG_LENGTH)
    if n == 7 + ext:
        return Command(cla, ins, p1, p2, apdu[7:], None, True)
    if n == 9 + ext:
        le = (apdu[-2] << 8) | apdu[-1]
        return Command(cla, ins, p1, p2, apdu[7 : 7 + ext], le or 65536, True)
    raise CardError(SW_WRONG_LENGTH)


def response(data: bytes, sw: int = SW_OK) -> bytes:
    return data + bytes([sw >> 8, sw & 0xFF])
