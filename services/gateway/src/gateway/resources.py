"""What every resource module shares: the strict request body, the RFC 3339 instant, the Idempotency-Key header,
the calling municipality, the use of a number for a 事務 (purposes.py), and the idempotent write (a retry with the
same key replays the first result)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from mynumber_runtime.crypto import KeyedHash
from mynumber_runtime.identity import Caller
from pydantic import BaseModel, ConfigDict, Field

from gateway import problems as p
from gateway.callers import municipality
from gateway.idempotency import HEADER, KEY_PATTERN, Idempotency, Result
from gateway.purposes import CODE, PurposeRefused, Registry, today

Instant = Annotated[str, Field(description="RFC 3339 UTC time", json_schema_extra={"format": "date-time"})]
KeyHeader = Annotated[str, Header(alias=HEADER, pattern=KEY_PATTERN, description=(
    "A new unique value per write (a UUID): a retry with the same key gets the first result and changes nothing; "
    "the same key with another request is refused (422)."))]
Municipality = Annotated[Caller, Depends(municipality)]
PURPOSE_HEADER = "Purpose-Of-Use"
ACTING_FOR_HEADER = "Acting-For"


@dataclass(frozen=True)
class NumberUse:
    """Whom a use of the number is for (the calling municipality, or the member a 一部事務組合 acts for) and the
    registry code of the 事務 it serves."""

    acting: Caller
    purpose: str


def number_use(request: Request, caller: Municipality,
               purpose: Annotated[str | None, Header(alias=PURPOSE_HEADER, pattern=CODE.pattern, description=(
                   "The 事務 this use of the number serves: a code of the purpose registry (docs/gateway.md, "
                   "番号法 第9条). Required."))] = None,
               acting_for: Annotated[str | None, Header(alias=ACTING_FOR_HEADER, pattern=r"^[0-9]{6}$", description=(
                   "A 一部事務組合's member municipality it acts for (団体コード); no one else sends it."))] = None,
               ) -> NumberUse:
    if purpose is None:
        raise p.Problem(p.PURPOSE_REQUIRED, f"{PURPOSE_HEADER}: required on a use of the number (a registry code)",
                        errors=[p.FieldError(PURPOSE_HEADER, "required")])
    registry: Registry = request.app.state.purposes
    member = acting_for or caller.id
    try:
        registry.check(caller.id, member, purpose, today())
    except PurposeRefused as refused:
        field, _, rule = str(refused).partition(": ")
        raise p.Problem(p.PURPOSE_REFUSED, str(refused), errors=[p.FieldError(field, rule)]) from None
    request.state.purpose = purpose  # for the audit line
    # A union reaches its member's residents as that member (the gateway's audit line names the union).
    acting = caller if member == caller.id else Caller("municipality", member)
    return NumberUse(acting, purpose)


Use = Annotated[NumberUse, Depends(number_use)]


class Strict(BaseModel):
    """A request body: a field the document does not name is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


def about_person(request: Request, resident_code: str) -> None:
    """Name the person the call is about in the audit line, by keyed hash (never the 住民票コード itself)."""
    ref: KeyedHash = request.app.state.person_ref
    request.state.person_ref = ref(resident_code.encode()).hex()


def answer(request: Request, result: Result) -> JSONResponse:
    request.state.replayed = result.replayed
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse(result.body, status_code=result.status, headers=headers)


async def write(request: Request, caller: Caller, key: str | None, body: BaseModel,
                call: Callable[[], Awaitable[dict[str, Any]]],
                status: int | Callable[[dict[str, Any]], int] = 200) -> JSONResponse:
    """Run `call` once per Idempotency-Key (its first result replayed to a retry, from any gateway replica)."""
    idem: Idempotency = request.app.state.idempotency
    code = getattr(body, "resident_code", None) or getattr(body, "old_resident_code", None)
    if isinstance(code, str):
        about_person(request, code)

    async def run() -> Result:
        out = await call()
        return Result(status(out) if callable(status) else status, out)

    fingerprint = idem.fingerprint(request.method, request.url.path, body.model_dump(mode="json"))
    return answer(request, await idem.run(str(caller), key, fingerprint, run))
