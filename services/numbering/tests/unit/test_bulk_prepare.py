"""Validation of a bulk chunk happens before any database work, per item."""

from mynumber_codes import ResidentCodeRule
from mynumber_runtime.identity import Caller

from .test_numbers import service

RULE = ResidentCodeRule()


def test_each_bad_item_gets_its_own_error_and_good_items_go_on():
    s = service(1)
    good = RULE.make("1111111111")
    bad_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    chunk = s.prepare_chunk(Caller("municipality", "131016"), "131016", [good, "123", bad_check, good], start=100)
    assert chunk.positions == [0]
    assert chunk.duplicates == {3: 0}
    assert chunk.errors[1].field == "resident_code" and "11 digits" in chunk.errors[1].rule
    assert chunk.errors[2].field == "resident_code" and "check digit" in chunk.errors[2].rule
    assert chunk.rows is not None and len(chunk.rows.number_hashes) == 1 and chunk.rows.municipality_code == "131016"


def test_a_chunk_for_another_municipality_or_a_bad_code_is_refused_whole():
    s = service(1)
    codes = [RULE.make("0000000001"), RULE.make("0000000002")]
    other = s.prepare_chunk(Caller("municipality", "131016"), "271004", codes, 0)
    assert [e.reason for e in other.errors.values()] == ["PERMISSION_DENIED"] * 2 and other.rows is None
    bad = s.prepare_chunk(Caller("municipality", "131016"), "131017", codes, 0)
    assert all(e.field == "municipality_code" for e in bad.errors.values()) and bad.rows is None


def test_an_operator_may_number_for_any_municipality():
    s = service(1)
    chunk = s.prepare_chunk(Caller("operator", "sre"), "271004", [RULE.make("0000000001")], 0)
    assert not chunk.errors and chunk.rows is not None and len(chunk.rows.number_hashes) == 1
