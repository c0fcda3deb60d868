"""The REST app: routes, problem+json for every error, the request size limit, the audit line, and the OpenAPI 3.1
document at /v1/openapi.json (committed as services/gateway/openapi.json; a test holds the two equal)."""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from mynumber_runtime.crypto import KeyedHash
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway import problems as p
from gateway.audit import AuditMiddleware, BodyLimitMiddleware
from gateway.bulk import BulkJobs
from gateway.bulk_api import BULK_PATH
from gateway.bulk_api import router as bulk_router
from gateway.idempotency import HEADER, Idempotency
from gateway.issuance_api import APPLICATIONS_PATH, MAX_APPLICATION_BODY
from gateway.issuance_api import router as issuance_router
from gateway.issuance_client import IssuanceClient
from gateway.notice_api import MAILING_LISTS_PATH, MAX_MAILING_LIST_BODY
from gateway.notice_api import router as notice_router
from gateway.notice_client import NoticeClient
from gateway.numbering_api import router as numbering_router
from gateway.numbering_client import NumberingClient
from gateway.purposes import Registry
from gateway.purposes import load as load_purposes
from gateway.ratelimit import RateLimiter, RateLimitMiddleware

log = logging.getLogger("gateway")
OPENAPI_PATH = "/v1/openapi.json"
VERSION = "1.0.0"
DESCRIPTION = (
    "The one REST door of the My Number platform for municipal systems. Every call presents a client certificate "
    "from the platform's CA (mutual TLS): the caller is who it names (`urn:mynumber:municipality:<code>`), never a "
    "header. Every write needs an `Idempotency-Key`. Every error is `application/problem+json` (RFC 9457) whose "
    "`type` is one of the `urn:mynumber:gateway:problem:*` URIs listed in docs/gateway.md.")


def problem_response(request: Request, problem: p.Problem) -> JSONResponse:
    request.state.problem = problem.type.slug
    return JSONResponse(problem.body(), status_code=problem.status, media_type=p.MEDIA_TYPE,
                        headers=problem.headers or None)


def _from_validation(exc: RequestValidationError) -> p.Problem:
    """Pydantic's errors, reduced to field and rule: never its `input` (the value sent) or its `ctx`."""
    errors: list[p.FieldError] = []
    for e in exc.errors():
        loc = [str(part) for part in e.get("loc", ())]
        kind = e.get("type", "")
        if kind == "json_invalid":
            return p.Problem(p.MALFORMED, "the body is not valid JSON")
        if loc[:1] == ["header"] and loc[-1:] == [HEADER] and kind == "missing":
            return p.Problem(p.KEY_REQUIRED, f"{HEADER}: required on every write (a new unique value per request)",
                             errors=[p.FieldError(HEADER, "required on every write")])
        where = loc[0] if loc else ""
        name = ".".join(loc[1:]) if where in ("body", "path", "query", "header") else ".".join(loc)
        rule = _RULES.get(kind) or str(e.get("msg", "invalid"))
        errors.append(p.FieldError(name or where or "body", rule))
    if any(e.field == "body" and e.rule == _RULES["missing"] for e in errors):
        return p.Problem(p.MALFORMED, "a JSON body is required", errors=errors)
    first = errors[0] if errors else p.FieldError("body", "invalid")
    return p.Problem(p.INVALID, f"{first.field}: {first.rule}", errors=errors)


# Pydantic's messages for these name the rule without the value; the rest are fixed texts here.
_RULES = {"missing": "required", "extra_forbidden": "not a known field", "string_type": "must be a string",
          "model_attributes_type": "must be a JSON object", "dict_type": "must be a JSON object",
          "literal_error": "not one of the allowed values (see the OpenAPI document)",
          "string_pattern_mismatch": "does not match the pattern the OpenAPI document gives",
          "string_too_long": "too long (see the OpenAPI document)"}


def create_app(*, numbering: NumberingClient | None = None, issuance: IssuanceClient | None = None,
               notice: NoticeClient | None = None,
               idempotency: Idempotency | None = None, bulk: BulkJobs | None = None,
               purposes: Registry | None = None, person_key: bytes | None = None, max_body_bytes: int = 64 * 1024,
               max_bulk_body_bytes: int = 1024 * 1024, rate_limiter: RateLimiter | None = None) -> FastAPI:
    app = FastAPI(title="My Number platform gateway", version=VERSION, description=DESCRIPTION,
                  openapi_url=OPENAPI_PATH, docs_url=None, redoc_url=None,
                  generate_unique_id_function=lambda route: route.name)
    app.state.numbering = numbering
    app.state.issuance = issuance
    app.state.notice = notice
    app.state.purposes = purposes or load_purposes()
    # The audit line's person reference; an app built without the gateway's key (the OpenAPI dump) gets a fresh one.
    app.state.person_ref = KeyedHash(person_key or os.urandom(32))
    app.state.idempotency = idempotency
    app.state.bulk = bulk
    app.include_router(numbering_router)
    app.include_router(bulk_router)
    app.include_router(issuance_router)
    app.include_router(notice_router)

    @app.exception_handler(p.Problem)
    async def _problem(request: Request, exc: p.Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, _from_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: p.NOT_FOUND, 405: p.METHOD, 413: p.TOO_LARGE, 415: p.MEDIA}.get(exc.status_code, p.MALFORMED)
        detail = {404: "no such resource", 405: "this resource does not support this method"}.get(
            exc.status_code, kind.title)
        return problem_response(request, p.Problem(kind, detail))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # Types only: an exception's text may quote a value.
        log.error("unhandled error", extra={"error_type": type(exc).__name__})
        return problem_response(request, p.Problem(p.INTERNAL, "the gateway failed; the call may be retried"))

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes,
                       overrides={BULK_PATH: max_bulk_body_bytes, APPLICATIONS_PATH: MAX_APPLICATION_BODY,
                                  MAILING_LISTS_PATH: MAX_MAILING_LIST_BODY})
    if rate_limiter is not None:  # before the body is read, inside the audit line
        app.add_middleware(RateLimitMiddleware, limiter=rate_limiter)
    app.add_middleware(AuditMiddleware)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, openapi_version="3.1.0", description=app.description,
                      routes=app.routes)
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = p.ProblemModel.model_json_schema(
        ref_template="#/components/schemas/{model}")
    defs = components["schemas"]["Problem"].pop("$defs", {})
    components["schemas"].update(defs)
    components["securitySchemes"] = {"clientCertificate": {
        "type": "mutualTLS", "description": "a client certificate from the platform's CA naming the caller"}}
    doc["security"] = [{"clientCertificate": []}]
    app.openapi_schema = doc
    return doc
