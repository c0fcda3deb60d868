"""Events of the notice service: no personal data, ever (ids, codes, states, counts)."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from mynumber.notice.v1 import events_pb2 as ev
from mynumber_runtime.streams import subject


def mailing_subject(status: str) -> str:
    return subject("notice", "mailing", status)


def card_subject(status: str) -> str:
    return subject("notice", "card", status)


RESIDENCE_REGISTERED = subject("notice", "residence", "registered")


def mailing_changed(*, mailing_id: str, municipality_code: str, status: str, at: dt.datetime, items: int = 0,
                    return_reason: str = "", batch_id: str = "") -> bytes:
    t = Timestamp()
    t.FromDatetime(at)
    msg: bytes = ev.MailingChanged(mailing_id=mailing_id, municipality_code=municipality_code, status=status,
                             return_reason=return_reason, at=t, items=items, batch_id=batch_id).SerializeToString()
    return msg
