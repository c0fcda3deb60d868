"""Events of the notice service: no personal data, ever (ids, codes, states, counts). Also the decoding of the
one event it consumes, number.assigned, with the same edge validation as an RPC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from mynumber.notice.v1 import events_pb2 as ev
from mynumber.numbering.v1 import events_pb2 as numbering_ev
from mynumber_events.notice import FORM_ISSUED as FORM_ISSUED  # re-exported: the subject beside its codec
from mynumber_events.notice import form_issued as _form_issued
from mynumber_events.numbering import EventSealer, open_number_assigned
from mynumber_runtime.consumer import PoisonEvent
from mynumber_runtime.crypto import SubjectSealer
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.streams import subject
from mynumber_runtime.timestamps import timestamp

from notice.validation import validate_individual_number, validate_municipality, validate_resident_code


def mailing_subject(status: str) -> str:
    return subject("notice", "mailing", status)


def card_subject(status: str) -> str:
    return subject("notice", "card", status)


RESIDENCE_REGISTERED = subject("notice", "residence", "registered")


def form_issued(sealer: SubjectSealer, *, at: dt.datetime, municipality_code: str, application_id: str, number: str,
                name: str, address: str, birth_date: str, sex: int) -> bytes:
    """form.issued: the one notice event with personal data, sealed under the platform event key (the issuance
    service learns the 申請書ID, and the facts the form was printed for, from it)."""
    form = ev.IssuedForm(application_id=application_id, individual_number=number, name=name, address=address,
                         birth_date=birth_date, sex=sex)
    msg: bytes = _form_issued(sealer, at, municipality_code, form).SerializeToString()
    return msg


def mailing_changed(*, mailing_id: str, municipality_code: str, status: str, at: dt.datetime, items: int = 0,
                    return_reason: str = "", batch_id: str = "") -> bytes:
    msg: bytes = ev.MailingChanged(mailing_id=mailing_id, municipality_code=municipality_code, status=status,
                                   return_reason=return_reason, at=timestamp(at), items=items,
                                   batch_id=batch_id).SerializeToString()
    return msg


@dataclass(frozen=True)
class Assigned:
    """A decoded and validated number.assigned event."""

    municipality_codes: Sequence[str]
    resident_codes: Sequence[str]
    numbers: Sequence[str]
    assigned_at: dt.datetime


def decode_number_assigned(sealer: EventSealer, data: bytes) -> Assigned:
    """The event as notice may store it, or PoisonEvent: an event that does not decode, does not open under the
    platform event key, or carries a value numbering itself would refuse is never handled (retrying changes
    nothing); its reason names the field and the rule, never a value."""
    try:
        event = numbering_ev.NumberAssigned.FromString(data)
        plain = open_number_assigned(sealer, event)
    except DecodeError:
        raise PoisonEvent("number.assigned: not a NumberAssigned message") from None
    except Exception:  # a wrong key or a tampered seal: the sealer's own error types
        raise PoisonEvent("number.assigned: the sealed assignments do not open under the event key") from None
    mcs, codes, numbers = list(plain.municipality_codes), list(plain.resident_codes), list(plain.individual_numbers)
    if not (len(mcs) == len(codes) == len(numbers)) or not codes:
        raise PoisonEvent("number.assigned: assignments must be non-empty and of equal length")
    try:
        for i, (mc, code, number) in enumerate(zip(mcs, codes, numbers, strict=True)):
            validate_municipality(mc, f"municipality_codes[{i}]")
            validate_resident_code(code, f"resident_codes[{i}]")
            validate_individual_number(number, f"individual_numbers[{i}]")
        if len(set(codes)) != len(codes):
            raise InvalidArgument("resident_codes", "a resident appears twice in one event")
        at = event.assigned_at.ToDatetime(tzinfo=dt.UTC)
    except InvalidArgument as e:
        raise PoisonEvent(f"number.assigned: {e.message}") from None
    except (ValueError, OverflowError):
        raise PoisonEvent("number.assigned: assigned_at is not a valid time") from None
    return Assigned(municipality_codes=mcs, resident_codes=codes, numbers=numbers, assigned_at=at)
