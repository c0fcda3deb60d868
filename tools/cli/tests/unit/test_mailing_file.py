"""The mailing-list parser of `mynumber notice submit` and the mapping of the service's field paths back to file
lines: examples of each rule, then fuzz runs (raw bytes, lines built from hostile pieces, valid files written by
the csv module, arbitrary service messages)."""

from __future__ import annotations

import csv
import io
import itertools
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mynumber_cli.mailing_file import (
    FIELDS,
    MAX_LINE_BYTES,
    HouseholdLines,
    MemberLine,
    line_of,
    parse_mailing_list,
)
from mynumber_cli.register_file import BOM, LineError

HOUSE = "H1,千代田区千代田1-1,1000001"


def parse(data: bytes) -> list[HouseholdLines | LineError]:
    return list(parse_mailing_list(io.BytesIO(data)))


def test_consecutive_lines_of_a_household_form_one_envelope_and_a_header_is_skipped():
    data = ("世帯番号,住所,郵便番号,住民票コード,氏名,生年月日,性別\n"
            f"{HOUSE},12345678903,山田太郎,1980-01-02,1\n"
            f"{HOUSE},98765432103,山田花子,1982-03-04,female\n"
            "H2,港区芝公園4-2-8,1050011,11111111118,佐藤一郎,1990-05-06,男\n").encode()
    assert parse(data) == [
        HouseholdLines("H1", "千代田区千代田1-1", "1000001", 2, [
            MemberLine(2, "12345678903", "山田太郎", "1980-01-02", 1),
            MemberLine(3, "98765432103", "山田花子", "1982-03-04", 2)]),
        HouseholdLines("H2", "港区芝公園4-2-8", "1050011", 4,
                       [MemberLine(4, "11111111118", "佐藤一郎", "1990-05-06", 1)]),
    ]


def test_each_defect_is_named_by_line_and_field_and_the_household_keeps_its_good_members():
    data = (f"{HOUSE},12345678903,山田太郎,1980-01-02,1\n"
            f"{HOUSE},98765432103,山田花子,1982-03-04,3\n"          # sex out of range
            "H1,別の住所,1000001,22222222226,山田次郎,2001-01-01,1\n"  # another address for the same household
            ",x,1000001,22222222226,名,2001-01-01,1\n"                 # no household id
            "H1,x\n"                                                   # wrong column count
            f"{HOUSE},33333333334,山田三郎,2003-03-03,2\n").encode()
    items = parse(data)
    [household] = [i for i in items if isinstance(i, HouseholdLines)]
    assert [i for i in items if isinstance(i, LineError)] == [
        LineError(2, "sex", "must be 1 or 2 (male or female)"),
        LineError(3, "address", "a household has one address: must be its first line's"),
        LineError(4, "household_id", "is required"),
        LineError(5, "line", f"expected 7 fields ({','.join(FIELDS)}), got 2"),
    ]
    assert [m.line for m in household.members] == [1, 6]


def test_an_error_never_echoes_what_the_line_holds():
    for error in parse("H1,東京都秘密町1,1000001,12345678903,秘密花子,1980-01-02,9\n".encode()):
        assert isinstance(error, LineError) and "秘密" not in str(error) and "12345678903" not in str(error)


def test_service_paths_are_said_as_file_lines_and_anything_else_is_left_alone():
    chunk = parse(f"{HOUSE},12345678903,山田太郎,1980-01-02,1\n{HOUSE},98765432103,山田花子,1982-03-04,2\n"
                  "H2,港区芝公園4-2-8,1050011,11111111118,佐藤一郎,1990-05-06,1\n".encode())
    assert all(isinstance(h, HouseholdLines) for h in chunk)
    households = [h for h in chunk if isinstance(h, HouseholdLines)]
    assert line_of("households[0].members[1].birth_date: must be a date", households) == (
        "line 2: birth_date: must be a date")
    assert line_of("households[1].postal_code: must be 7 digits", households) == "line 3: postal_code: must be 7 digits"
    assert line_of("households[1]: duplicate household", households) == "line 3: household: duplicate household"
    assert line_of("households[7].address: too long", households) == "households[7].address: too long"
    assert line_of("mailing list is empty", households) == "mailing list is empty"


# --- fuzz --------------------------------------------------------------------------------------------------------
PIECES = st.sampled_from([b"H1", b"H2", b",", b"\"", b" ", b"\r", b"\x00", b"\xff", b"\xe3\x81", BOM, b"1", b"2",
                          b"female", "男".encode(), "千代田区".encode(), b"1000001", b"12345678903", b"1980-01-02",
                          b"household_id", b"9" * (MAX_LINE_BYTES + 1), b",,,,,,", b"H1,a,1000001,"])
LINES = st.lists(PIECES, max_size=10).map(b"".join)
FILES = st.one_of(st.lists(LINES, max_size=14).map(b"\n".join), st.binary(max_size=3000))
RULES = re.compile(r"(not valid UTF-8|contains a NUL byte|malformed CSV quoting|is required|"
                   r"longer than \d+ bytes|must be 1 or 2 \(male or female\)|"
                   r"a household has one address: must be its first line's|"
                   rf"expected 7 fields \({','.join(FIELDS)}\), got \d+)")


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILES)
def test_fuzzed_mailing_lists_never_raise_and_every_line_is_one_member_or_one_named_refusal(data: bytes):
    items = parse(data)  # never raises
    line_count = data.count(b"\n") + 1
    households = [i for i in items if isinstance(i, HouseholdLines)]
    errors = [i for i in items if isinstance(i, LineError)]
    lines = [m.line for h in households for m in h.members] + [e.line for e in errors]
    assert len(lines) == len(set(lines)) and all(1 <= n <= line_count for n in lines)  # one item per line
    for before, after in itertools.pairwise(households):
        assert before.household_id != after.household_id  # a run of equal ids is one household
    for h in households:
        assert h.household_id and h.members and h.line == h.members[0].line
        assert all(m.sex in (1, 2) for m in h.members)
    for e in errors:
        assert e.field in {"line", "household_id", "sex", "address"}
        assert RULES.fullmatch(e.rule), e.rule  # a fixed rule: nothing from the file is echoed


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=12)
MEMBER = st.tuples(TEXT, TEXT, TEXT, st.sampled_from(["1", "2", "male", "female", "男", "女"]))
HOUSEHOLD = st.tuples(TEXT, TEXT, st.lists(MEMBER, min_size=1, max_size=4))


@settings(max_examples=500, deadline=None)
@given(st.lists(HOUSEHOLD, max_size=6), st.booleans(), st.sampled_from(["\n", "\r\n"]))
def test_fuzzed_valid_lists_written_by_the_csv_module_parse_to_exactly_their_households(houses, bom, end):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=end)
    writer.writerow(FIELDS)
    for i, (address, postal, members) in enumerate(houses):
        for code, name, birth, sex in members:  # commas and quotes in any field are quoted by the writer
            writer.writerow([f"H{i}", address, postal, code, name, birth, sex])
    parsed = parse((BOM if bom else b"") + out.getvalue().encode())
    assert not [p for p in parsed if isinstance(p, LineError)]
    assert [(h.household_id, h.address, h.postal_code, [(m.resident_code, m.name, m.birth_date) for m in h.members])
            for h in parsed if isinstance(h, HouseholdLines)] == [
        (f"H{i}", a, p, [(c, n, b) for c, n, b, _ in ms]) for i, (a, p, ms) in enumerate(houses)]


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.text(max_size=80),
                 st.builds("households[{}]{}{}:{}".format, st.integers(0, 12),
                           st.sampled_from(["", ".members[0]", ".members[3]", ".members[99]"]),
                           st.sampled_from(["", ".name", "sex"]), st.text(max_size=20))))
def test_fuzzed_service_messages_map_to_a_line_of_the_chunk_or_stay_as_they_were(message: str):
    chunk = [HouseholdLines("H1", "a", "1000001", 1,
                            [MemberLine(1, "c", "n", "b", 1), MemberLine(2, "c", "n", "b", 2)]),
             HouseholdLines("H2", "b", "1000001", 5, [MemberLine(5, "c", "n", "b", 1)])]
    said = line_of(message, chunk)  # never raises
    mapped = re.match(r"households\[(\d+)\](?:\.members\[(\d+)\])?", message)
    if said == message:
        return
    assert mapped is not None and int(mapped[1]) < len(chunk)
    household = chunk[int(mapped[1])]
    members = {int(mapped[2])} & set(range(len(household.members))) if mapped[2] else set()
    line = household.members[members.pop()].line if members else household.line
    assert said.startswith(f"line {line}: ")
    assert said.endswith(message.split(":", 1)[1])  # the rule the service said is kept as it was
