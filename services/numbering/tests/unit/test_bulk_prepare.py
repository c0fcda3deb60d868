"""Validation of a bulk chunk happens before any database work, per item."""

from mynumber_runtime.identity import Caller
from numbering.codes import ResidentCodeRule

from .test_numbers import service

RULE = ResidentCodeRule()


def test_each_bad_item_gets_its_own_error_and_good_items_go_on():
    s = service(1)
    good = RULE.make("1111111111")
    entries = [("131016", good), ("131016", "123"), ("131017", RULE.make("2222222222")),
               ("131016", good[:-1] + str((int(good[-1]) + 1) % 10)), ("131016", good), ("271004", good)]
    chunk = s.prepare_chunk(Caller("municipality", "131016"), entries, start=100)
    assert chunk.positions == [0]
    assert chunk.duplicates == {4: 0}
    assert chunk.errors[1].field == "resident_code" and "11 digits" in chunk.errors[1].rule
    assert chunk.errors[2].field == "municipality_code" and "check digit" in chunk.errors[2].rule
    assert chunk.errors[3].field == "resident_code" and "check digit" in chunk.errors[3].rule
    assert chunk.errors[5].reason == "PERMISSION_DENIED"  # another municipality's resident
    assert len(chunk.rows) == 1 and chunk.rows[0].municipality_code == "131016"


def test_an_operator_may_number_for_any_municipality():
    s = service(1)
    chunk = s.prepare_chunk(Caller("operator", "sre"), [("131016", RULE.make("0000000001")), ("271004", RULE.make("0000000002"))], 0)
    assert not chunk.errors and len(chunk.rows) == 2
