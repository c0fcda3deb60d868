"""Events of the issuance service (no personal data: references, codes, states) and the decoding of the one event
it consumes, notice's form.issued, with the same edge validation as an RPC."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from mynumber.issuance.v1 import events_pb2 as ev
from mynumber.notice.v1 import events_pb2 as notice_ev
from mynumber_codes import validate_individual_number
from mynumber_events.notice import open_form_issued
from mynumber_runtime.consumer import PoisonEvent
from mynumber_runtime.crypto import SubjectSealer
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.streams import subject
from mynumber_runtime.timestamps import timestamp

from issuance import wire
from issuance.records import Application
from issuance.states import ApplicationState
from issuance.validation import validate_applicant, validate_application_id, validate_municipality


def application_subject(state: ApplicationState) -> str:
    return subject("issuance", "application", state.value)


def application_changed(a: Application, previous: ApplicationState, at: dt.datetime) -> tuple[str, bytes]:
    msg = ev.ApplicationChanged(application_ref=a.ref, municipality_code=a.municipality_code,
                                state=wire.state_number(a.state), previous_state=wire.state_number(previous),
                                channel=wire.CHANNELS[a.channel], handover_method=wire.METHODS[a.handover_method],
                                at=timestamp(at))
    return application_subject(a.state), msg.SerializeToString()


@dataclass(frozen=True)
class IssuedForm:
    """A decoded and validated form.issued event."""

    municipality_code: str
    application_id: str
    individual_number: str
    name: str
    address: str
    birth_date: str
    sex: int
    issued_at: dt.datetime


def decode_form_issued(sealer: SubjectSealer, data: bytes) -> IssuedForm:
    """The event as issuance may store it, or PoisonEvent: one that does not decode, does not open under the
    platform event key, or carries a value notice itself would refuse is never handled (a retry changes nothing);
    its reason names the field and the rule, never a value."""
    try:
        event = notice_ev.ApplicationFormIssued.FromString(data)
        form = open_form_issued(sealer, event)
    except DecodeError:
        raise PoisonEvent("form.issued: not an ApplicationFormIssued message") from None
    except Exception:  # a wrong key or a tampered seal: the sealer's own error types
        raise PoisonEvent("form.issued: the sealed form does not open under the event key") from None
    try:
        validate_municipality(event.municipality_code)
        validate_application_id(form.application_id)
        validate_individual_number(form.individual_number, "individual_number")
        at = event.issued_at.ToDatetime(tzinfo=dt.UTC)
        validate_applicant(form.name, form.address, form.birth_date, form.sex, at.date() + dt.timedelta(days=1),
                           field="form")
    except InvalidArgument as e:
        raise PoisonEvent(f"form.issued: {e.message}") from None
    except (ValueError, OverflowError):
        raise PoisonEvent("form.issued: issued_at is not a valid time") from None
    return IssuedForm(event.municipality_code, form.application_id, form.individual_number, form.name, form.address,
                      form.birth_date, form.sex, at)
