"""The numbering service's events: subjects, and the codecs of their payloads, whose personal data is sealed under
the platform event key. The producer (numbering) builds them; consumers (notice, ...) open them with the same code,
without depending on the numbering package."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from mynumber.numbering.v1 import events_pb2 as ev
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber_runtime.crypto import SubjectSealer
from mynumber_runtime.streams import subject
from mynumber_runtime.timestamps import timestamp as _ts

NUMBER_ASSIGNED = subject("numbering", "number", "assigned")
NUMBER_CHANGED = subject("numbering", "number", "changed")
RESIDENT_CODE_CHANGED = subject("numbering", "resident_code", "changed")
NUMBER_MOVED = subject("numbering", "number", "moved")


class EventSealer(SubjectSealer):
    """The platform event sealer, with the SealedIdentity message of the numbering events."""

    def seal_identities(self, subj: str, identities: Sequence[ev.SealedIdentity]) -> list[bytes]:
        return self.seal_many(subj, [i.SerializeToString() for i in identities])

    def open_identity(self, subj: str, sealed: bytes) -> ev.SealedIdentity:
        return ev.SealedIdentity.FromString(self.open(subj, sealed))


def number_assigned(sealer: EventSealer, at: dt.datetime, municipality_codes: Sequence[str],
                    resident_codes: Sequence[str], numbers: Sequence[str]) -> ev.NumberAssigned:
    """One event for a whole transaction; the personal data is sealed once, as a whole."""
    plain = ev.AssignedNumbers(municipality_codes=municipality_codes, resident_codes=resident_codes,
                               individual_numbers=numbers)
    return ev.NumberAssigned(sealed_assignments=sealer.seal(NUMBER_ASSIGNED, plain.SerializeToString()),
                             assigned_at=_ts(at), count=len(numbers))


def open_number_assigned(sealer: EventSealer, event: ev.NumberAssigned) -> ev.AssignedNumbers:
    out = ev.AssignedNumbers()
    out.ParseFromString(sealer.open(NUMBER_ASSIGNED, event.sealed_assignments))
    return out


def number_changed(sealer: EventSealer, at: dt.datetime, municipality_code: str, resident_code: str, new: str,
                   old: str, reason: int) -> ev.NumberChanged:
    identity = ev.SealedIdentity(resident_code=resident_code, individual_number=new, previous=old)
    (sealed,) = sealer.seal_identities(NUMBER_CHANGED, [identity])
    return ev.NumberChanged(municipality_code=municipality_code, sealed_identity=sealed,
                            reason=pb.ChangeReason.ValueType(reason), changed_at=_ts(at))


def resident_code_changed(sealer: EventSealer, at: dt.datetime, municipality_code: str, new_code: str, old_code: str,
                          number: str) -> ev.ResidentCodeChanged:
    identity = ev.SealedIdentity(resident_code=new_code, individual_number=number, previous=old_code)
    (sealed,) = sealer.seal_identities(RESIDENT_CODE_CHANGED, [identity])
    return ev.ResidentCodeChanged(municipality_code=municipality_code, sealed_identity=sealed, changed_at=_ts(at))


def number_moved(sealer: EventSealer, at: dt.datetime, former: str, destination: str, resident_code: str,
                 number: str) -> ev.NumberMoved:
    identity = ev.SealedIdentity(resident_code=resident_code, individual_number=number)
    (sealed,) = sealer.seal_identities(NUMBER_MOVED, [identity])
    return ev.NumberMoved(from_municipality_code=former, to_municipality_code=destination, sealed_identity=sealed,
                          moved_at=_ts(at))
