"""The issuance resources of a municipality's system: file a 個人番号カード交付申請 (any channel the seed names), read
one with its history, list the municipality's applications a page at a time (cursor), withdraw one. The photo is
sent as base64 in the JSON body and judged by issuance (decoded, never trusted by its name). Another municipality's
application is unknown (404), exactly as one that does not exist."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway import problems as p
from gateway.issuance_client import IssuanceClient
from gateway.resources import Instant, KeyHeader, Municipality, Strict, write

APPLICATIONS_PATH = "/v1/issuance/applications"
# issuance takes photos up to 7 MB; base64 makes that 4/3 larger, plus the rest of the body.
MAX_APPLICATION_BODY = 10 * 1024 * 1024
Channel = Literal["mail", "online", "counter", "employer_bulk", "employer_visit"]
HandoverMethod = Literal["at_collection", "at_application", "at_application_residence", "employer_bulk",
                         "staff_visit"]
State = Literal["accepted", "ordered", "personalised", "handed_over", "withdrawn", "superseded", "refused"]
Ref = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the platform's reference of the application")]


class Applicant(Strict):
    name: str = Field(min_length=1, max_length=100, description="氏名 as the register holds it")
    address: str = Field(min_length=1, max_length=200, description="住所 as the register holds it")
    birth_date: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="生年月日, YYYY-MM-DD")
    sex: Literal["male", "female"]


class ApplicationRequest(Strict):
    application_id: str = Field(pattern=r"^[0-9]{23}$", description="the 23-digit 申請書ID printed on the form")
    channel: Channel = Field(description="how the application came in (seed: mail, online, counter, employer)")
    handover_method: HandoverMethod = Field(description="交付方法 ①-⑤ of the seed")
    applicant: Applicant = Field(description="the person's 4 facts today: they must match the form")
    photo: str = Field(min_length=1, max_length=MAX_APPLICATION_BODY,
                       description="the face photo, JPEG, base64 (RFC 4648 §4); docs/issuance.md gives the limits")


class Application(BaseModel):
    application_ref: str
    channel: Channel
    handover_method: HandoverMethod
    state: State
    submitted_at: Instant
    updated_at: Instant
    photo_width: int
    photo_height: int


class StateChange(BaseModel):
    state: State
    at: Instant


class ApplicationWithHistory(Application):
    history: list[StateChange] = Field(description="every state the application went through, oldest first")


class ApplicationPage(BaseModel):
    applications: list[Application] = Field(description="newest first")
    next_cursor: str | None = Field(description="the cursor of the next page; null on the last")


READ = (*p.COMMON, p.NOT_FOUND)
WRITE = (*p.COMMON, *p.WRITE, p.NOT_FOUND, p.CONFLICT)
router = APIRouter(prefix=APPLICATIONS_PATH, tags=["issuance"])


def _issuance(request: Request) -> IssuanceClient:
    client: IssuanceClient = request.app.state.issuance
    return client


def _photo(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise p.Problem(p.INVALID, "photo: must be base64 (RFC 4648 §4)",
                        errors=[p.FieldError("photo", "must be base64 (RFC 4648 §4)")]) from None


@router.post("", status_code=201, response_model=Application, responses=p.responses(*WRITE),
             summary="File a 個人番号カード交付申請")
async def submit_application(body: ApplicationRequest, request: Request, caller: Municipality,
                             idempotency_key: KeyHeader) -> JSONResponse:
    """Accepted only on a form notice issued to this municipality's resident, still current for the person, whose
    facts match; one live application per person (409 otherwise). An unknown form and another municipality's
    form are refused alike."""
    photo = _photo(body.photo)
    return await write(request, caller, idempotency_key, body, lambda: _issuance(request).submit(
        caller, application_id=body.application_id, channel=body.channel, handover_method=body.handover_method,
        applicant=body.applicant.model_dump(), photo=photo), status=201)


@router.get("", response_model=ApplicationPage, responses=p.responses(*p.COMMON),
            summary="The municipality's applications, a page at a time")
async def list_applications(request: Request, caller: Municipality, state: State | None = None,
                            limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                            cursor: Annotated[str, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]*$")] = ""
                            ) -> ApplicationPage:
    """Newest first. Send the page's `next_cursor` (and the same `state`) for the next page."""
    return ApplicationPage(**await _issuance(request).list(caller, state=state, limit=limit, cursor=cursor))


@router.get("/{application_ref}", response_model=ApplicationWithHistory, responses=p.responses(*READ),
            summary="One application and its history")
async def get_application(application_ref: Ref, request: Request, caller: Municipality) -> ApplicationWithHistory:
    return ApplicationWithHistory(**await _issuance(request).get(caller, application_ref))


class Withdrawal(Strict):
    """The applicant's 取下げ (no fields: the path names the application)."""


@router.post("/{application_ref}/withdrawal", response_model=Application, responses=p.responses(*WRITE),
             summary="Withdraw a live application (取下げ)")
async def withdraw_application(application_ref: Ref, request: Request, caller: Municipality,
                               idempotency_key: KeyHeader, body: Withdrawal | None = None) -> JSONResponse:
    """The person may then apply again."""
    return await write(request, caller, idempotency_key, body or Withdrawal(),
                       lambda: _issuance(request).withdraw(caller, application_ref))
