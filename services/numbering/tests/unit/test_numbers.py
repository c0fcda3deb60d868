"""The numbering scheme of design.md: first numbers from the 住民票コード, changed numbers from region counters."""

import datetime as dt

import numpy as np
from mynumber_codes import ResidentCodeRule
from mynumber_events.numbering import EventSealer
from mynumber_runtime.clock import FixedClock
from mynumber_runtime.crypto import FieldSealer
from numbering.keys import NumberingKeys
from numbering.service import NumberingService
from stdnum.jp import in_


def service(region: int, master: bytes = bytes(range(32))) -> NumberingService:
    keys = NumberingKeys.from_master(master)
    return NumberingService(keys=keys, sealer=FieldSealer({1: bytes(32)}, 1),
                            event_sealer=EventSealer(bytes(32)), region_digit=region, code_rule=ResidentCodeRule(),
                            clock=FixedClock(dt.datetime(2015, 10, 5, tzinfo=dt.UTC)))


def test_first_number_is_a_function_of_the_resident_code_and_valid():
    s = service(1)
    rule = ResidentCodeRule()
    codes = [rule.make(f"{b:010d}") for b in (1234567890, 1, 9999999999)]
    first = s.first_numbers(codes)
    assert first == s.first_numbers(codes)  # idempotent by construction
    assert all(in_.is_valid(n) for n in first)
    assert len(set(first)) == 3


def test_the_same_code_gets_the_same_number_in_either_region():
    rule = ResidentCodeRule()
    code = rule.make("5555555555")
    assert service(1).first_numbers([code]) == service(2).first_numbers([code])


def test_region_ranges_never_overlap_each_other_or_first_numbers():
    """Inputs: first numbers use 0||body, region r uses r||counter, so the input sets are disjoint; FF1 is a
    permutation, so the outputs are too. Checked on a sample: 20,000 first numbers and 20,000 changes from
    each of two regions, all distinct."""
    east, west = service(1), service(2)
    rule = ResidentCodeRule()
    first = east.first_numbers([rule.make(f"{b:010d}") for b in range(20_000)])
    e = east.changed_numbers(range(20_000))
    w = west.changed_numbers(range(20_000))
    assert len(set(first) | set(e) | set(w)) == 60_000
    assert all(in_.is_valid(n) for n in e[:100] + w[:100])


def test_numbers_do_not_reveal_the_resident_code_order():
    """番号法 第8条2項三: consecutive 住民票コード give unrelated numbers (no regularity)."""
    rule = ResidentCodeRule()
    nums = service(1).first_numbers([rule.make(f"{b:010d}") for b in range(1000, 1100)])
    diffs = np.diff(np.array([int(n) for n in nums], dtype=np.int64))
    assert len(set(np.sign(diffs).tolist())) == 2  # neither increasing nor decreasing
    assert len({n[:4] for n in nums}) > 50


def test_sector_codes_are_stable_per_agency_and_unlinkable_across_agencies():
    keys = NumberingKeys.from_master(bytes(range(32)))
    a1 = keys.sector_code("AG-01", "123456789018")
    assert a1 == keys.sector_code("AG-01", "123456789018")
    assert a1 != keys.sector_code("AG-02", "123456789018")
    assert a1 != keys.sector_code("AG-01", "023456789013")
    assert len(a1) == 32 and a1.isalnum()
    other_master = NumberingKeys.from_master(bytes(range(1, 33)))
    assert other_master.sector_code("AG-01", "123456789018") != a1
