"""Bulk assignment resources: submit a register (asynchronous job, 202), poll its progress, read its result file a
page at a time (cursor). A job is its client's: another client's job is unknown (404)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway import problems as p
from gateway.bulk import BulkJobs
from gateway.numbering_api import WRITE, IndividualNumber, ResidentCode
from gateway.resources import Instant, KeyHeader, Municipality, Strict, write

BULK_PATH = "/v1/numbering/bulk-assignments"
MAX_ITEMS = 50_000
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                            description="the job's id (a UUID)")]


class BulkAssignmentRequest(Strict):
    resident_codes: list[ResidentCode] = Field(min_length=1, max_length=MAX_ITEMS,
                                               description="住民票コード of the register's residents, in order")


class BulkJobAccepted(BaseModel):
    job_id: str
    status: Literal["running"]
    total: int
    status_url: str


class Progress(BaseModel):
    received: int
    assigned: int
    already_assigned: int
    failed: int


class BulkJob(BaseModel):
    job_id: str
    status: Literal["running", "stalled", "completed", "failed"]
    total: int
    failure_reason: str | None = Field(description="why a failed job stopped (e.g. UNAVAILABLE, INTERRUPTED)")
    progress: Progress
    created_at: Instant
    updated_at: Instant
    results_url: str | None = Field(description="the result file, once the job has finished")


class ItemError(BaseModel):
    reason: str
    field: str | None
    rule: str


class BulkItem(BaseModel):
    index: int = Field(description="the resident's position in the request, from 0")
    individual_number: IndividualNumber | None = None
    newly_assigned: bool | None = None
    error: ItemError | None = None


class BulkResults(BaseModel):
    items: list[BulkItem]
    next_cursor: int | None = Field(description="the cursor of the next page; null on the last")


router = APIRouter(prefix=BULK_PATH, tags=["numbering"])


def _jobs(request: Request) -> BulkJobs:
    jobs: BulkJobs = request.app.state.bulk
    return jobs


@router.post("", status_code=202, response_model=BulkJobAccepted, responses=p.responses(*WRITE),
             summary="Number a register as an asynchronous job")
async def submit_bulk(body: BulkAssignmentRequest, request: Request, caller: Municipality,
                      idempotency_key: KeyHeader) -> JSONResponse:
    """Up to 50,000 residents per job. Poll `status_url`; a retry with the same key gets the same job."""
    return await write(request, caller, idempotency_key, body,
                        lambda: _jobs(request).start(caller, list(body.resident_codes)), status=202)


@router.get("/{job_id}", response_model=BulkJob, responses=p.responses(*p.COMMON, p.NOT_FOUND),
            summary="A bulk job's status and progress")
async def bulk_status(job_id: JobId, request: Request, caller: Municipality) -> BulkJob:
    return BulkJob(**await _jobs(request).view(caller, job_id))


@router.get("/{job_id}/results", response_model=BulkResults,
            responses=p.responses(*p.COMMON, p.NOT_FOUND, p.CONFLICT), summary="A finished bulk job's result file")
async def bulk_results(job_id: JobId, request: Request, caller: Municipality,
                       cursor: Annotated[int, Query(ge=0, le=MAX_ITEMS)] = 0,
                       limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> BulkResults:
    return BulkResults(**await _jobs(request).results(caller, job_id, cursor, limit))
