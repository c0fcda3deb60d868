"""Command APDU builders with the exact bytes real readers use (domain.md §3.3)."""

from __future__ import annotations


def short(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    if len(data) > 255 or (le is not None and not 1 <= le <= 256):
        raise ValueError("short APDU: Lc <= 255 and 1 <= Le <= 256")
    out = bytes([cla, ins, p1, p2])
    if data:
        out += bytes([len(data)]) + data
    if le is not None:
        out += bytes([le & 0xFF])
    return out


def extended(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    out = bytes([cla, ins, p1, p2])
    if data:
        out += b"\x00" + len(data).to_bytes(2, "big") + data
    if le is not None:
        out += (b"" if data else b"\x00") + (le & 0xFFFF).to_bytes(2, "big")
    return out


def select_aid(aid: bytes) -> bytes:
    return short(0x00, 0xA4, 0x04, 0x0C, aid)


def select_ef(fid: int) -> bytes:
    return short(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))


def read_binary(offset: int, le: int) -> bytes:
    if not 0 <= offset <= 0x7FFF:
        raise ValueError("offset: 0..7FFF")
    return short(0x00, 0xB0, offset >> 8, offset & 0xFF, le=le)


def read_record(record: int, sfi: int, le: int = 256) -> bytes:
    return short(0x00, 0xB2, record, (sfi << 3) | 0x04, le=le)


def verify(pin: bytes | None = None) -> bytes:
    return short(0x00, 0x20, 0x00, 0x80, pin or b"")


def change_reference_data(new_pin: bytes) -> bytes:
    return short(0x00, 0x24, 0x01, 0x80, new_pin)


def compute_signature(digest_info: bytes) -> bytes:
    return short(0x80, 0x2A, 0x00, 0x80, digest_info, le=256)


def split(rapdu: bytes) -> tuple[bytes, int]:
    if len(rapdu) < 2:
        raise ValueError("R-APDU shorter than SW1 SW2")
    return rapdu[:-2], (rapdu[-2] << 8) | rapdu[-1]
