"""The register file of `mynumber bulk-assign`: CSV lines of `municipality_code,resident_code`, an optional header.

The parser reads bytes and never raises on what a file holds: every line is either a row or a `LineError` naming
the line, the field and the rule, never the value (a register is personal data: 住民票コード). It handles:
- a UTF-8 byte order mark (spreadsheets write one) with or without a header: the mark is not part of the first
  field, so a header-less file keeps its first resident (before, the BOM made the first code look like a header);
- bytes that are not UTF-8, a line or a field beyond its size limit, quoting that does not close, the wrong number
  of fields, codes that are not ASCII digits of the right length.
The check digits and whether the municipality is real are the numbering service's rules; it refuses per resident.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import IO

BOM = b"\xef\xbb\xbf"
MAX_LINE_BYTES = 1024  # a valid line is 19 bytes; this leaves room for quoting and spaces, not for megabytes
MAX_FIELD_CHARS = 64
FIELDS = ("municipality_code", "resident_code")
DIGITS = {"municipality_code": 6, "resident_code": 11}
# Header lines we recognise (compared stripped and case-folded): ours and the usual Japanese column names.
HEADERS: set[tuple[str, ...]] = {("municipality_code", "resident_code"), ("団体コード", "住民票コード"),
                                 ("市区町村コード", "住民票コード")}


@dataclass(frozen=True)
class Row:
    line: int
    municipality_code: str
    resident_code: str


@dataclass(frozen=True)
class LineError:
    """What is wrong with one line: `field` is a column name or "line" (the line as a whole)."""

    line: int
    field: str
    rule: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.rule}"


def _lines(stream: IO[bytes], max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the line end), or None for a line over `max_line_bytes` (read past in chunks,
    so a gigabyte without a newline never sits in memory)."""
    number = 0
    while True:
        chunk = stream.readline(max_line_bytes + 2)  # + "\r\n"
        if not chunk:
            return
        number += 1
        if len(chunk.rstrip(b"\r\n")) > max_line_bytes:
            while not chunk.endswith(b"\n"):
                chunk = stream.readline(64 * 1024)
                if not chunk:
                    break
            yield number, None
            continue
        yield number, chunk.rstrip(b"\r\n")


def _fields(text: str) -> list[str] | None:
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error:
        return None


def csv_records(stream: IO[bytes], *, max_line_bytes: int, headers: Collection[tuple[str, ...]]
                ) -> Iterator[tuple[int, list[str]] | LineError]:
    """Every non-blank line of a CSV file as (line number, stripped fields), or the LineError that stops it: the
    mechanics every file of the CLI shares (BOM, UTF-8, NUL, size, quoting, an optional first-line header)."""
    for number, raw in _lines(stream, max_line_bytes):
        if raw is None:
            yield LineError(number, "line", f"longer than {max_line_bytes} bytes")
            continue
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield LineError(number, "line", "not valid UTF-8")
            continue
        if not text.strip():
            continue
        if "\x00" in text:
            yield LineError(number, "line", "contains a NUL byte")
            continue
        fields = _fields(text)
        if fields is None:
            yield LineError(number, "line", "malformed CSV quoting")
            continue
        fields = [f.strip() for f in fields]
        if number == 1 and tuple(f.casefold() for f in fields) in headers:
            continue
        yield number, fields


def parse_register(stream: IO[bytes]) -> Iterator[Row | LineError]:
    """Every non-blank line of the file, in order: a Row, or the first LineError of that line."""
    for item in csv_records(stream, max_line_bytes=MAX_LINE_BYTES, headers=HEADERS):
        if isinstance(item, LineError):
            yield item
            continue
        number, fields = item
        if len(fields) != len(FIELDS):
            yield LineError(number, "line", f"expected {len(FIELDS)} fields ({','.join(FIELDS)}), got {len(fields)}")
            continue
        yield _row(number, fields)


def _row(number: int, fields: list[str]) -> Row | LineError:
    for name, value in zip(FIELDS, fields, strict=True):
        if len(value) > MAX_FIELD_CHARS:
            return LineError(number, name, f"longer than {MAX_FIELD_CHARS} characters")
        if not value:
            return LineError(number, name, "is required")
        if not (value.isascii() and value.isdigit() and len(value) == DIGITS[name]):
            return LineError(number, name, f"must be {DIGITS[name]} ASCII digits")
    return Row(number, fields[0], fields[1])


@dataclass
class Summary:
    """A first pass over the file: how many rows, and the first errors (all counted)."""

    rows: int = 0
    error_count: int = 0
    errors: list[LineError] = field(default_factory=list)


def check_register(stream: IO[bytes], keep: int = 20) -> Summary:
    summary = Summary()
    for item in parse_register(stream):
        if isinstance(item, Row):
            summary.rows += 1
        else:
            summary.error_count += 1
            if len(summary.errors) < keep:
                summary.errors.append(item)
    return summary
