"""What every resource module shares: the strict request body, the RFC 3339 instant, the Idempotency-Key header,
the calling municipality, and the idempotent write (a retry with the same key replays the first result)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from mynumber_runtime.identity import Caller
from pydantic import BaseModel, ConfigDict, Field

from gateway.callers import municipality
from gateway.idempotency import HEADER, KEY_PATTERN, Idempotency, Result

Instant = Annotated[str, Field(description="RFC 3339 UTC time", json_schema_extra={"format": "date-time"})]
KeyHeader = Annotated[str, Header(alias=HEADER, pattern=KEY_PATTERN, description=(
    "A new unique value per write (a UUID): a retry with the same key gets the first result and changes nothing; "
    "the same key with another request is refused (422)."))]
Municipality = Annotated[Caller, Depends(municipality)]


class Strict(BaseModel):
    """A request body: a field the document does not name is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


def answer(request: Request, result: Result) -> JSONResponse:
    request.state.replayed = result.replayed
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse(result.body, status_code=result.status, headers=headers)


async def write(request: Request, caller: Caller, key: str | None, body: BaseModel,
                call: Callable[[], Awaitable[dict[str, Any]]],
                status: int | Callable[[dict[str, Any]], int] = 200) -> JSONResponse:
    """Run `call` once per Idempotency-Key (its first result replayed to a retry, from any gateway replica)."""
    idem: Idempotency = request.app.state.idempotency

    async def run() -> Result:
        out = await call()
        return Result(status(out) if callable(status) else status, out)

    fingerprint = idem.fingerprint(request.method, request.url.path, body.model_dump(mode="json"))
    return answer(request, await idem.run(str(caller), key, fingerprint, run))
