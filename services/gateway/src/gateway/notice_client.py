"""notice over gRPC, as the gateway calls it: on behalf of the verified municipality, with a deadline, its errors
mapped (upstream.py). Proto in, plain values out; enum names are the proto's without their prefix, lower-cased."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber.notice.v1 import notice_pb2_grpc as pb_grpc
from mynumber_runtime.identity import Caller

from gateway.issuance_client import rest_names
from gateway.upstream import mapped_errors, metadata, rfc3339

SEXES = rest_names(pb.Sex, "SEX_")
RESIDENCE_KINDS = rest_names(pb.ResidenceKind, "RESIDENCE_KIND_")
RESIDENCE_SOURCES = rest_names(pb.ResidenceSource, "RESIDENCE_SOURCE_")
RETURN_REASONS = rest_names(pb.ReturnReason, "RETURN_REASON_")
MOVE_KINDS = rest_names(pb.MoveKind, "MOVE_KIND_")
PREFERENCES = rest_names(pb.Preference, "PREFERENCE_")
_NAMES = {name: {v: k for k, v in table.items()} for name, table in (
    ("kind", RESIDENCE_KINDS), ("source", RESIDENCE_SOURCES), ("return_reason", RETURN_REASONS),
    ("status", rest_names(pb.MailingStatus, "MAILING_STATUS_")), ("mailing_kind", rest_names(pb.MailingKind,
                                                                                                "MAILING_KIND_")),
    ("destination", rest_names(pb.Destination, "DESTINATION_")), ("mail_action", rest_names(pb.MailAction,
                                                                                             "MAIL_ACTION_")))}


def mailing(m: pb.Mailing) -> dict[str, Any]:
    return {"mailing_id": m.mailing_id, "household_id": m.household_id, "status": _NAMES["status"].get(m.status),
            "kind": _NAMES["mailing_kind"].get(m.kind), "destination": _NAMES["destination"].get(m.destination),
            "return_reason": _NAMES["return_reason"].get(m.return_reason), "items": m.items,
            "hold_until": rfc3339(m, "hold_until"), "fee_yen": m.fee_yen}


@dataclass
class NoticeClient:
    channel: grpc.aio.Channel
    deadline_s: float

    def __post_init__(self) -> None:
        self.stub = pb_grpc.NoticeServiceStub(self.channel)

    def _opts(self, caller: Caller) -> dict[str, Any]:
        return {"timeout": self.deadline_s, "metadata": metadata(caller)}

    async def submit_mailing_list(self, caller: Caller, households: list[dict[str, Any]]) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.SubmitMailingList(pb.SubmitMailingListRequest(
                municipality_code=caller.id, households=[pb.Household(
                    household_id=h["household_id"], address=h["address"], postal_code=h["postal_code"],
                    members=[pb.Member(resident_code=m["resident_code"], name=m["name"],
                                       birth_date=m["birth_date"], sex=SEXES[m["sex"]]) for m in h["members"]])
                    for h in households]), **self._opts(caller))
        return {"residents": r.residents, "envelopes_prepared": r.envelopes_prepared,
                "refused": [{"household_index": e.household_index, "member_index": e.member_index,
                             "field": e.field, "rule": e.reason} for e in r.refused]}

    async def register_residence(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.RegisterResidence(pb.RegisterResidenceRequest(
                municipality_code=caller.id, resident_code=body["resident_code"],
                kind=RESIDENCE_KINDS[body["kind"]], address=body["address"], postal_code=body["postal_code"],
                documents=body["documents"], hold_at_office=body["hold_at_office"],
                source=RESIDENCE_SOURCES[body["source"]], sharing_consent=body["sharing_consent"]),
                **self._opts(caller))
        return {"destination": _NAMES["destination"].get(r.destination),
                "mail_action": _NAMES["mail_action"].get(r.mail_action),
                "rerouted_mailing_ids": list(r.rerouted_mailing_ids),
                "recalled_mailing_ids": list(r.recalled_mailing_ids)}

    async def residence(self, caller: Caller, resident_code: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.GetResidence(pb.GetResidenceRequest(
                municipality_code=caller.id, resident_code=resident_code), **self._opts(caller))
        return {"kind": _NAMES["kind"].get(r.kind), "address": r.address, "hold_at_office": r.hold_at_office,
                "source": _NAMES["source"].get(r.source), "sharing_consent": r.sharing_consent}

    async def mailings(self, caller: Caller, *, limit: int, cursor: str) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.ListMailings(pb.ListMailingsRequest(
                municipality_code=caller.id, page_size=limit, page_token=cursor), **self._opts(caller))
        return {"mailings": [mailing(m) for m in r.mailings], "next_cursor": r.next_page_token or None}

    async def record_delivery(self, caller: Caller, mailing_id: str, delivered: bool,
                              return_reason: str | None) -> dict[str, Any]:
        with mapped_errors():
            r = await self.stub.RecordDelivery(pb.RecordDeliveryRequest(
                municipality_code=caller.id, mailing_id=mailing_id, delivered=delivered,
                return_reason=RETURN_REASONS[return_reason] if return_reason else 0), **self._opts(caller))
        return mailing(r.mailing)

    async def record_move(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        member = body.get("member")
        with mapped_errors():
            r = await self.stub.RecordMove(pb.RecordMoveRequest(
                municipality_code=caller.id, resident_code=body["resident_code"], kind=MOVE_KINDS[body["kind"]],
                new_address=body["new_address"], new_postal_code=body["new_postal_code"],
                new_household_id=body["new_household_id"],
                former_household_may_receive=body["former_household_may_receive"],
                preference=PREFERENCES[body["preference"]] if body.get("preference") else 0,
                member=pb.Member(resident_code=member["resident_code"], name=member["name"],
                                 birth_date=member["birth_date"], sex=SEXES[member["sex"]]) if member else None,
                destination_municipality_code=body["destination_municipality_code"]), **self._opts(caller))
        return {"steps": list(r.steps), "new_mailing_id": r.new_mailing_id or None}
