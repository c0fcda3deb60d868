"""number.assigned as notice decodes it: a valid event becomes Assigned; one that fails to decode, to open or the
edge validation is poison (never handled, never retried into the database), and its reason echoes no value."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from mynumber_codes import ResidentCodeRule, individual_number_check_digit
from mynumber_events.numbering import EventSealer, number_assigned
from mynumber_runtime.consumer import PoisonEvent
from notice.events import decode_number_assigned

AT = dt.datetime(2015, 10, 5, tzinfo=dt.UTC)
CODE = ResidentCodeRule().make("1234567890")
NUMBER = "12345678901" + individual_number_check_digit("12345678901")
KEY = os.urandom(32)


def event(municipalities: list[str], codes: list[str], numbers: list[str], key: bytes = KEY) -> bytes:
    return number_assigned(EventSealer(key), AT, municipalities, codes, numbers).SerializeToString()


def test_a_valid_event_is_decoded():
    a = decode_number_assigned(EventSealer(KEY), event(["131016"], [CODE], [NUMBER]))
    assert (list(a.municipality_codes), list(a.resident_codes), list(a.numbers), a.assigned_at) == (
        ["131016"], [CODE], [NUMBER], AT)


@pytest.mark.parametrize(("data", "reason"), [
    (b"\x0a\xff\xff\xff\xff\x0f", "not a NumberAssigned"),
    (event(["131016"], [CODE], [NUMBER], key=os.urandom(32)), "do not open"),
    (event(["131016"], [CODE.translate(str.maketrans("0123456789", "０１２３４５６７８９"))], [NUMBER]),
     "resident_codes[0]"),
    (event(["131016"], [CODE[:-1] + str((int(CODE[-1]) + 1) % 10)], [NUMBER]), "resident_codes[0]"),
    (event(["131016"], [CODE], [NUMBER[:-1] + str((int(NUMBER[-1]) + 1) % 10)]), "individual_numbers[0]"),
    (event(["139998"], [CODE], [NUMBER]), "municipality_codes[0]"),
    (event(["131016", "131016"], [CODE, CODE], [NUMBER, NUMBER]), "twice"),
    (event([], [], []), "non-empty"),
], ids=["corrupt protobuf", "wrong key", "full-width digits", "wrong check digit", "bad number",
        "unknown municipality", "duplicate", "empty"])
def test_an_event_failing_decoding_or_validation_is_poison_and_names_no_value(data, reason):
    with pytest.raises(PoisonEvent) as e:
        decode_number_assigned(EventSealer(KEY), data)
    assert reason in str(e.value)
    assert CODE not in str(e.value) and NUMBER not in str(e.value)
