"""Bulk assignment as an asynchronous job: a register's residents numbered through numbering's AssignNumbers
stream while the client polls the job's progress, then reads the result file (one entry per resident, in the
order sent: the number, or why it was refused).

The job runs in the gateway that accepted it; its progress and result file are in the database, so any replica
answers the polls. A job whose gateway stopped before it finished is `failed` with reason `INTERRUPTED` (or, if the
process died, stays `running` with no progress: `stalled` once `updated_at` is older than a minute); submitting
the register again is safe, since numbering is idempotent per 住民票コード (those already numbered come back as
already assigned)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from typing import Any

from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer, derive_key
from mynumber_runtime.db import Units
from mynumber_runtime.identity import Caller

from gateway import problems as p
from gateway.numbering_client import NumberingClient, assign_many
from gateway.repository import GatewayStore, JobRow

log = logging.getLogger(__name__)
STALLED_AFTER = dt.timedelta(minutes=1)


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class BulkJobs:
    def __init__(self, *, units: Units[GatewayStore], numbering: NumberingClient, master: bytes, clock: Clock,
                 chunk: int = 1000, deadline_s: float = 3600.0) -> None:
        self.units = units
        self.numbering = numbering
        self.clock = clock
        self.chunk = chunk
        self.deadline_s = deadline_s
        self._sealer = FieldSealer({1: derive_key(master, "gateway/bulk-results")}, current=1)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, caller: Caller, codes: list[str]) -> dict[str, Any]:
        job_id = str(uuid.uuid4())
        async with self.units() as store:
            await store.create_job(job_id, str(caller), len(codes), self.clock.now())
        task = asyncio.create_task(self._run(job_id, caller, codes))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"job_id": job_id, "status": "running", "total": len(codes),
                "status_url": f"/v1/numbering/bulk-assignments/{job_id}"}

    async def _run(self, job_id: str, caller: Caller, codes: list[str]) -> None:
        results: list[dict[str, Any] | None] = [None] * len(codes)
        status, reason = "completed", None
        try:
            async for answer in assign_many(self.numbering, caller, codes, chunk=self.chunk,
                                            deadline_s=self.deadline_s):
                refused = {index: (r, f, rule) for index, r, f, rule in answer.errors}
                for offset, (number, new) in enumerate(zip(answer.numbers, answer.newly_assigned, strict=False)):
                    index = answer.first_index + offset
                    if index in refused:
                        r, f, rule = refused[index]
                        results[index] = {"index": index, "error": {"reason": r, "field": f or None, "rule": rule}}
                    else:
                        results[index] = {"index": index, "individual_number": number, "newly_assigned": new}
                async with self.units() as store:
                    await store.update_job(job_id, self.clock.now(), counts=answer.progress)
        except p.Problem as problem:
            status, reason = "failed", problem.reason or problem.type.slug.upper()
        except asyncio.CancelledError:
            status, reason = "failed", "INTERRUPTED"
        except Exception as exc:  # types only: the text may quote a value
            log.error("bulk job failed", extra={"error_type": type(exc).__name__})
            status, reason = "failed", "INTERNAL"
        done = [r for r in results if r is not None]
        sealed = self._sealer.seal(json.dumps(done).encode(), job_id.encode())
        async with self.units() as store:
            await store.update_job(job_id, self.clock.now(), status=status, failure_reason=reason,
                                   sealed_results=sealed)

    async def _job(self, caller: Caller, job_id: str) -> JobRow:
        async with self.units() as store:
            row = await store.job(str(caller), job_id)
        if row is None:
            raise p.Problem(p.NOT_FOUND, "job_id: no such bulk assignment job for this client")
        return row

    async def view(self, caller: Caller, job_id: str) -> dict[str, Any]:
        row = await self._job(caller, job_id)
        status = row.status
        if status == "running" and self.clock.now() - row.updated_at > STALLED_AFTER:
            status = "stalled"
        return {"job_id": row.job_id, "status": status, "total": row.total, "failure_reason": row.failure_reason,
                "progress": {"received": row.received, "assigned": row.assigned,
                             "already_assigned": row.already_assigned, "failed": row.failed},
                "created_at": _stamp(row.created_at), "updated_at": _stamp(row.updated_at),
                "results_url": f"/v1/numbering/bulk-assignments/{job_id}/results"
                if row.sealed_results is not None else None}

    async def results(self, caller: Caller, job_id: str, cursor: int, limit: int) -> dict[str, Any]:
        row = await self._job(caller, job_id)
        if row.sealed_results is None:
            raise p.Problem(p.CONFLICT, "job_id: the job has not finished; poll its status first",
                            headers={"Retry-After": "1"})
        items = json.loads(self._sealer.open(row.sealed_results, job_id.encode()))
        page = items[cursor:cursor + limit]
        return {"items": page, "next_cursor": cursor + limit if cursor + limit < len(items) else None}

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
