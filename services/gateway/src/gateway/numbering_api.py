"""The numbering resources of a municipality's system (付番, look-up, history, number change after a leak,
住民票コード change). The municipality is the one the client certificate names: a request never says which
municipality it acts for, and a person another register holds is answered exactly like an unknown one (numbering's
tenancy rule decides; the gateway adds nothing that could tell them apart)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway import problems as p
from gateway.numbering_client import NumberingClient
from gateway.resources import Instant, KeyHeader, Municipality, Strict, Use, about_person, write

RESIDENT_CODE = r"^[0-9]{11}$"
ResidentCode = Annotated[str, Field(pattern=RESIDENT_CODE, description="住民票コード: 11 digits (body + check digit)")]
IndividualNumber = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="個人番号: 12 digits")]
PathCode = Annotated[str, Path(pattern=RESIDENT_CODE, description="住民票コード: 11 digits")]


class AssignmentRequest(Strict):
    resident_code: ResidentCode


class Assignment(BaseModel):
    individual_number: IndividualNumber
    newly_assigned: bool = Field(description="false when the resident already had this number")
    assigned_at: Instant


class CurrentNumber(BaseModel):
    individual_number: IndividualNumber
    assigned_at: Instant


class NumberRecord(BaseModel):
    individual_number: IndividualNumber
    status: Literal["active", "retired"]
    issued_at: Instant
    retired_at: Instant | None
    retired_reason: Literal["leaked_on_request", "leaked_ex_officio"] | None
    issuing_region: int = Field(ge=0, le=9, description="0: a first number; 1-9: the region that issued a change")


class NumberHistory(BaseModel):
    records: list[NumberRecord] = Field(description="every number the person has held, the current one first")


class NumberChangeRequest(Strict):
    resident_code: ResidentCode
    reason: Literal["leaked_on_request", "leaked_ex_officio"] = Field(
        description="番号法 第7条2項: leaked and at risk of fraudulent use, on the person's request or ex officio")
    reason_detail: str = Field(default="", max_length=200,
                               description="free text for the record (e.g. a case number); never personal data")


class NumberChange(BaseModel):
    individual_number: IndividualNumber = Field(description="the new number")
    changed_at: Instant


class ResidentCodeChangeRequest(Strict):
    old_resident_code: ResidentCode
    new_resident_code: ResidentCode


class ResidentCodeChange(BaseModel):
    individual_number: IndividualNumber = Field(description="the person's number, unchanged")
    changed_at: Instant


READ = (*p.COMMON, p.NOT_FOUND)
PURPOSE = (p.PURPOSE_REQUIRED, p.PURPOSE_REFUSED)
WRITE = (*p.COMMON, *p.WRITE, p.NOT_FOUND, p.CONFLICT)
router = APIRouter(prefix="/v1/numbering", tags=["numbering"])


def _numbering(request: Request) -> NumberingClient:
    client: NumberingClient = request.app.state.numbering
    return client


@router.post("/assignments", status_code=201, response_model=Assignment, summary="Assign a resident's 個人番号",
             responses={200: {"model": Assignment, "description": "the resident already had this number"},
                        **p.responses(*WRITE)})
async def assign(body: AssignmentRequest, request: Request, caller: Municipality,
                 idempotency_key: KeyHeader) -> JSONResponse:
    """番号法 第8条: the number of a resident of the calling municipality's register. The same 住民票コード always
    gets the same number (201 the first time, 200 after)."""
    return await write(request, caller, idempotency_key, body,
                        lambda: _numbering(request).assign(caller, body.resident_code),
                        status=lambda out: 201 if out["newly_assigned"] else 200)


@router.get("/residents/{resident_code}/number", response_model=CurrentNumber,
            responses=p.responses(*READ, *PURPOSE), summary="Look up a resident's current 個人番号")
async def lookup(resident_code: PathCode, request: Request, use: Use) -> CurrentNumber:
    """For the municipality whose register holds the person; anyone else's person is unknown (404). The call names
    the 事務 it serves (`Purpose-Of-Use`), which the purpose registry must allow the caller (番号法 第9条)."""
    about_person(request, resident_code)
    return CurrentNumber(**await _numbering(request).lookup(use.acting, resident_code, use.purpose))


@router.get("/residents/{resident_code}/history", response_model=NumberHistory,
            responses=p.responses(*READ, *PURPOSE), summary="List every 個人番号 a resident has held")
async def history(resident_code: PathCode, request: Request, use: Use) -> NumberHistory:
    """As the look-up: for the 事務 `Purpose-Of-Use` names."""
    about_person(request, resident_code)
    return NumberHistory(**await _numbering(request).history(use.acting, resident_code, use.purpose))


@router.post("/number-changes", response_model=NumberChange, responses=p.responses(*WRITE),
             summary="Change a leaked 個人番号 (番号法 第7条2項)")
async def change_number(body: NumberChangeRequest, request: Request, caller: Municipality,
                        idempotency_key: KeyHeader) -> JSONResponse:
    """Retires the leaked number (kept in the history, never issued again) and issues a new one."""
    return await write(request, caller, idempotency_key, body, lambda: _numbering(request).change_number(
        caller, body.resident_code, body.reason, body.reason_detail))


@router.post("/resident-code-changes", response_model=ResidentCodeChange, responses=p.responses(*WRITE),
             summary="Record a new 住民票コード (住基法 第30条の4); the number stays")
async def change_resident_code(body: ResidentCodeChangeRequest, request: Request, caller: Municipality,
                               idempotency_key: KeyHeader) -> JSONResponse:
    return await write(request, caller, idempotency_key, body, lambda: _numbering(request).change_resident_code(
        caller, body.old_resident_code, body.new_resident_code))
