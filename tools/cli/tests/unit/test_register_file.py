"""The register file parser of `mynumber bulk-assign`: examples of each defect, then a fuzz run."""

from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mynumber_cli.register_file import (
    BOM,
    MAX_FIELD_CHARS,
    MAX_LINE_BYTES,
    LineError,
    Row,
    check_register,
    parse_register,
)

GOOD = "131016,12345678903"


def parse(data: bytes) -> list[Row | LineError]:
    return list(parse_register(io.BytesIO(data)))


def test_a_headerless_file_starting_with_a_bom_keeps_its_first_resident():
    assert parse(BOM + f"{GOOD}\n131016,98765432103\n".encode()) == [
        Row(1, "131016", "12345678903"), Row(2, "131016", "98765432103")]


def test_a_bom_before_the_header_is_not_part_of_it():
    assert parse(BOM + f"municipality_code,resident_code\r\n{GOOD}\r\n".encode()) == [Row(2, "131016", "12345678903")]


def test_a_japanese_header_is_recognised_and_an_unknown_first_line_is_reported_not_skipped():
    assert parse(f"団体コード,住民票コード\n{GOOD}\n".encode()) == [Row(2, "131016", "12345678903")]
    assert parse(f"code,number\n{GOOD}\n".encode())[0] == LineError(1, "municipality_code", "must be 6 ASCII digits")


def test_invalid_utf8_is_reported_for_its_line_and_the_other_lines_still_parse():
    assert parse(f"{GOOD}\n131016,1234\xff5678903\n{GOOD}\n".encode("latin-1")) == [
        Row(1, "131016", "12345678903"), LineError(2, "line", "not valid UTF-8"), Row(3, "131016", "12345678903")]


def test_a_huge_field_and_a_huge_line_are_reported_without_reading_them_whole():
    huge_line = b"131016," + b"9" * (10 * 1024 * 1024) + b"\n"
    assert parse(huge_line + GOOD.encode()) == [LineError(1, "line", f"longer than {MAX_LINE_BYTES} bytes"),
                                                Row(2, "131016", "12345678903")]
    field = "131016," + "1" * (MAX_FIELD_CHARS + 1)
    assert parse(field.encode()) == [LineError(1, "resident_code", f"longer than {MAX_FIELD_CHARS} characters")]


def test_wrong_column_counts_quoting_nul_and_formats_are_each_named_by_line_and_field():
    data = ("131016\n131016,12345678903,x\n\"131016,12345678903\n131016,\x0012345678903\n"
            "１３１０１６,12345678903\n131016,\n  \n\"131016\", 12345678903 \n").encode()
    assert parse(data) == [
        LineError(1, "line", "expected 2 fields (municipality_code,resident_code), got 1"),
        LineError(2, "line", "expected 2 fields (municipality_code,resident_code), got 3"),
        LineError(3, "line", "malformed CSV quoting"),
        LineError(4, "line", "contains a NUL byte"),
        LineError(5, "municipality_code", "must be 6 ASCII digits"),  # full-width digits are not ASCII
        LineError(6, "resident_code", "is required"),
        Row(8, "131016", "12345678903"),  # blank line 7 skipped; spaces around fields are not part of them
    ]


def test_an_error_names_the_line_field_and_rule_and_never_the_value():
    [error] = parse(b"131016,99999999999999999999\n")
    assert str(error) == "line 1: resident_code: must be 11 ASCII digits" and "9999" not in str(error)


def test_the_first_pass_counts_rows_and_keeps_only_the_first_errors():
    data = ("x\n" * 50 + f"{GOOD}\n").encode()
    summary = check_register(io.BytesIO(data), keep=5)
    assert (summary.rows, summary.error_count, len(summary.errors)) == (1, 50, 5)


# The fuzz run: lines built from pieces that hit every branch (digits of every length, BOMs, quotes, NULs, invalid
# UTF-8, separators, line ends, oversize runs), and raw bytes.
PIECES = st.sampled_from([b"131016", b"12345678903", b"1", b",", b"\"", b" ", b"\r", b"\x00", b"\xff", b"\xe3\x81",
                          "住民票コード".encode(), "１".encode(), BOM, b"municipality_code", b"resident_code",
                          b"9" * 70, b"8" * 1100])
LINES = st.lists(PIECES, max_size=8).map(b"".join)
FILES = st.one_of(st.lists(LINES, max_size=12).map(lambda ls: b"\n".join(ls)), st.binary(max_size=3000))
RULES = re.compile(r"(not valid UTF-8|contains a NUL byte|malformed CSV quoting|is required|"
                   r"longer than \d+ (bytes|characters)|must be (6|11) ASCII digits|"
                   r"expected 2 fields \(municipality_code,resident_code\), got \d+)")


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILES)
def test_fuzzed_register_files_never_raise_and_every_refusal_names_line_field_and_rule(data: bytes):
    items = parse(data)  # never raises
    line_count = data.count(b"\n") + 1
    numbers = [item.line for item in items]
    assert numbers == sorted(set(numbers)) and all(1 <= n <= line_count for n in numbers)  # one item per line
    for item in items:
        if isinstance(item, Row):
            assert re.fullmatch(r"\d{6}", item.municipality_code, re.ASCII)
            assert re.fullmatch(r"\d{11}", item.resident_code, re.ASCII)
        else:
            assert item.field in {"line", "municipality_code", "resident_code"}
            assert RULES.fullmatch(item.rule), item.rule  # a fixed rule: nothing from the file is echoed


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 999999), st.integers(0, 10**11 - 1)), max_size=20), st.booleans(),
       st.booleans(), st.sampled_from(["\n", "\r\n"]))
def test_fuzzed_valid_registers_parse_to_exactly_their_rows_with_or_without_bom_and_header(rows, bom, header, end):
    text = (["municipality_code,resident_code"] if header else []) + [f"{m:06d},{r:011d}" for m, r in rows]
    data = (BOM if bom else b"") + end.join(text).encode()
    parsed = parse(data)
    assert [(p.municipality_code, p.resident_code) for p in parsed if isinstance(p, Row)] == [
        (f"{m:06d}", f"{r:011d}") for m, r in rows]
    assert not [p for p in parsed if isinstance(p, LineError)]
