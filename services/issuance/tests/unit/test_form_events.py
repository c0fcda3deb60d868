"""notice's form.issued as issuance decodes it: the sealed form opens under the platform event key; anything that
does not decode, open or validate is poison (dead-lettered, never retried), its reason naming no value."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from issuance.events import decode_form_issued
from mynumber.notice.v1 import events_pb2 as notice_ev
from mynumber_events.notice import form_issued
from mynumber_runtime.consumer import PoisonEvent
from mynumber_runtime.crypto import SubjectSealer

from .desk import form_id, number

KEY = os.urandom(32)
AT = dt.datetime(2016, 1, 5, 3, 0, tzinfo=dt.UTC)


def event(**change: object) -> bytes:
    fields = {"application_id": form_id(7), "individual_number": number(7), "name": "山田　太郎",
              "address": "東京都千代田区千代田1-1", "birth_date": "1980-06-15", "sex": 1, **change}
    form = notice_ev.IssuedForm(**fields)  # type: ignore[arg-type]
    return bytes(form_issued(SubjectSealer(KEY), AT, "131016", form).SerializeToString())


def test_a_sealed_form_decodes() -> None:
    f = decode_form_issued(SubjectSealer(KEY), event())
    assert (f.application_id, f.individual_number, f.municipality_code, f.issued_at) == \
        (form_id(7), number(7), "131016", AT)


def test_a_form_under_another_key_is_poison() -> None:
    with pytest.raises(PoisonEvent, match="does not open"):
        decode_form_issued(SubjectSealer(os.urandom(32)), event())


def test_bytes_that_are_no_event_are_poison() -> None:
    with pytest.raises(PoisonEvent):
        decode_form_issued(SubjectSealer(KEY), b"\xff\xff\xff")


@pytest.mark.parametrize(("change", "field"), [({"individual_number": "123456789012"}, "individual_number"),
                                               ({"application_id": "12"}, "application_id"),
                                               ({"sex": 0}, "form.sex")])
def test_a_form_notice_itself_would_refuse_is_poison_naming_the_field(change: dict[str, object], field: str
                                                                      ) -> None:
    with pytest.raises(PoisonEvent) as e:
        decode_form_issued(SubjectSealer(KEY), event(**change))
    assert field in str(e.value) and "123456789012" not in str(e.value)
