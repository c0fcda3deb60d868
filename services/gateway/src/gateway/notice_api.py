"""The notice resources of a municipality's system: the 送付先情報 (mailing list of households), a 居所 for an
evacuee or a DV victim (an envelope already prepared is re-routed, one at the vendor or in the post recalled), the
post office's report of delivery or return, and a move after numbering. A resident or an envelope another
municipality holds is unknown (404), exactly as one that does not exist (notice's tenancy rule)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from gateway import problems as p
from gateway.notice_client import NoticeClient
from gateway.numbering_api import PathCode, ResidentCode
from gateway.resources import KeyHeader, Municipality, Strict, about_person, write

MAILING_LISTS_PATH = "/v1/notice/mailing-lists"
MAX_HOUSEHOLDS = 2000
# A mailing list of 2,000 households of a few members each, in kanji.
MAX_MAILING_LIST_BODY = 4 * 1024 * 1024
PostalCode = Annotated[str, Field(pattern=r"^[0-9]{7}$", description="郵便番号, 7 digits")]
Address = Annotated[str, Field(min_length=1, max_length=200, description="住所")]
Date = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="YYYY-MM-DD")]
MailingId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the envelope's id")]
Sex = Literal["male", "female"]
ResidenceKind = Literal["evacuee", "dv_victim"]
ResidenceSource = Literal["application", "municipal_records", "confirmed_with_person"]
ReturnReason = Literal["no_such_address", "refused", "hold_expired"]
MoveKind = Literal["tenkyo", "tenshutsu", "tennyu"]
Preference = Literal["endorse", "new_issue"]
Document = Literal["application", "identity_copy", "address_proof", "disaster_proof", "dv_proof"]


class Member(Strict):
    resident_code: ResidentCode
    name: str = Field(min_length=1, max_length=100, description="氏名")
    birth_date: Date
    sex: Sex


class Household(Strict):
    household_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                              description="the register's household key (世帯番号), never a person's data")
    address: Address
    postal_code: PostalCode
    members: list[Member] = Field(min_length=1, max_length=50)


class MailingListRequest(Strict):
    households: list[Household] = Field(min_length=1, max_length=MAX_HOUSEHOLDS)


class RefusedMember(BaseModel):
    household_index: int
    member_index: int
    field: str
    rule: str


class MailingListResult(BaseModel):
    residents: int = Field(description="residents accepted")
    envelopes_prepared: int
    refused: list[RefusedMember] = Field(description="members refused, by position, with the field and rule")


class ResidenceRequest(Strict):
    resident_code: ResidentCode
    kind: ResidenceKind = Field(description="別紙1 (evacuee) or 別紙2 (DV, stalking, child abuse victim)")
    address: Address = Field(description="the 居所")
    postal_code: PostalCode
    documents: list[Document] = Field(default_factory=list, max_length=10,
                                      description="the kinds of document received (dv_proof: 支援措置 or a 保護命令)")
    hold_at_office: bool = Field(default=False, description="the card is held at the office instead of mailed")
    source: ResidenceSource
    sharing_consent: bool = Field(default=False, description="the person agrees the 居所 is shared (別紙1 2(2))")


class ResidenceRegistered(BaseModel):
    destination: Literal["address", "residence", "office"]
    mail_action: Literal["nothing_in_transit", "rerouted", "recalled", "already_delivered", "held_at_office",
                         "recall_at_post_office"]
    rerouted_mailing_ids: list[str]
    recalled_mailing_ids: list[str]


class Residence(BaseModel):
    kind: ResidenceKind
    address: str
    hold_at_office: bool
    source: ResidenceSource | None
    sharing_consent: bool


class DeliveryRequest(Strict):
    delivered: bool = Field(description="true: delivered; false: returned, with the post office's reason")
    return_reason: ReturnReason | None = None

    @model_validator(mode="after")
    def _reason(self) -> DeliveryRequest:
        if self.delivered == (self.return_reason is not None):
            raise p.Problem(p.INVALID, "return_reason: required for a return, and only for a return",
                            errors=[p.FieldError("return_reason", "required for a return, and only for a return")])
        return self


class Mailing(BaseModel):
    mailing_id: str
    household_id: str
    status: str
    kind: str
    destination: str | None
    return_reason: ReturnReason | None
    items: int
    hold_until: str | None
    fee_yen: int


class MailingPage(BaseModel):
    mailings: list[Mailing] = Field(description="oldest first")
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


class MoveRequest(Strict):
    resident_code: ResidentCode
    kind: MoveKind = Field(description="転居 within, 転出 (by the former municipality), 転入 (by the destination)")
    new_address: Address
    new_postal_code: PostalCode
    new_household_id: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")
    former_household_may_receive: bool = False
    preference: Preference | None = None
    member: Member | None = Field(default=None, description="転入 only: the 4 facts, if no mailing list sent them")
    destination_municipality_code: str = Field(default="", pattern=r"^([0-9]{6})?$",
                                               description="転出 only: where the resident moves to")


class MoveRecorded(BaseModel):
    steps: list[str] = Field(description="what notice did, in order (the seed's chart ① boxes)")
    new_mailing_id: str | None


READ = (*p.COMMON, p.NOT_FOUND)
WRITE = (*p.COMMON, *p.WRITE, p.NOT_FOUND, p.CONFLICT)
router = APIRouter(prefix="/v1/notice", tags=["notice"])


def _notice(request: Request) -> NoticeClient:
    client: NoticeClient = request.app.state.notice
    return client


@router.post("/mailing-lists", response_model=MailingListResult, responses=p.responses(*WRITE),
             summary="Send the 送付先情報: households and their members")
async def submit_mailing_list(body: MailingListRequest, request: Request, caller: Municipality,
                              idempotency_key: KeyHeader) -> JSONResponse:
    """Up to 2,000 households per call. A member refused is named by position with the field and the rule; the
    rest are accepted."""
    households = [h.model_dump() for h in body.households]
    return await write(request, caller, idempotency_key, body,
                       lambda: _notice(request).submit_mailing_list(caller, households))


@router.post("/residences", response_model=ResidenceRegistered, responses=p.responses(*WRITE),
             summary="Register a 居所 for an evacuee or a DV victim")
async def register_residence(body: ResidenceRequest, request: Request, caller: Municipality,
                             idempotency_key: KeyHeader) -> JSONResponse:
    """The card goes to the 居所 (or is held at the office). An envelope already prepared is re-routed; one already
    at the vendor or in the post is recalled."""
    return await write(request, caller, idempotency_key, body,
                       lambda: _notice(request).register_residence(caller, body.model_dump()))


@router.get("/residences/{resident_code}", response_model=Residence, responses=p.responses(*READ),
            summary="A resident's registered 居所")
async def get_residence(resident_code: PathCode, request: Request, caller: Municipality) -> Residence:
    """A DV victim's 居所 only to the municipality that registered it; to anyone else it is unknown (404)."""
    about_person(request, resident_code)
    return Residence(**await _notice(request).residence(caller, resident_code))


@router.get("/mailings", response_model=MailingPage, responses=p.responses(*p.COMMON),
            summary="The municipality's envelopes, a page at a time")
async def list_mailings(request: Request, caller: Municipality, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                        cursor: Annotated[str, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]*$")] = ""
                        ) -> MailingPage:
    """Oldest first. Send the page's `next_cursor` for the next page."""
    return MailingPage(**await _notice(request).mailings(caller, limit=limit, cursor=cursor))


@router.post("/mailings/{mailing_id}/delivery", response_model=Mailing, responses=p.responses(*WRITE),
             summary="Record the post office's report: delivered, or returned with its reason")
async def record_delivery(mailing_id: MailingId, body: DeliveryRequest, request: Request, caller: Municipality,
                          idempotency_key: KeyHeader) -> JSONResponse:
    return await write(request, caller, idempotency_key, body, lambda: _notice(request).record_delivery(
        caller, mailing_id, body.delivered, body.return_reason))


@router.post("/moves", response_model=MoveRecorded, responses=p.responses(*WRITE),
             summary="Record a move after numbering (転居, 転出, 転入)")
async def record_move(body: MoveRequest, request: Request, caller: Municipality,
                      idempotency_key: KeyHeader) -> JSONResponse:
    return await write(request, caller, idempotency_key, body,
                       lambda: _notice(request).record_move(caller, body.model_dump()))
