"""The notice service's sealed event: subject and codec of `form.issued`, whose form (the 申請書ID, the number and
the 4 facts it was printed for) is sealed under the platform event key. notice builds it; issuance opens it with
the same code, without depending on the notice package."""

from __future__ import annotations

import datetime as dt

from mynumber.notice.v1 import events_pb2 as ev
from mynumber_runtime.crypto import SubjectSealer
from mynumber_runtime.streams import subject
from mynumber_runtime.timestamps import timestamp as _ts

FORM_ISSUED = subject("notice", "form", "issued")


def form_issued(sealer: SubjectSealer, at: dt.datetime, municipality_code: str,
                form: ev.IssuedForm) -> ev.ApplicationFormIssued:
    return ev.ApplicationFormIssued(municipality_code=municipality_code,
                                    sealed_form=sealer.seal(FORM_ISSUED, form.SerializeToString()),
                                    issued_at=_ts(at))


def open_form_issued(sealer: SubjectSealer, event: ev.ApplicationFormIssued) -> ev.IssuedForm:
    out = ev.IssuedForm()
    out.ParseFromString(sealer.open(FORM_ISSUED, event.sealed_form))
    return out
