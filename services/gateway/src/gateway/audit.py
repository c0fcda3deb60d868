"""Two ASGI middlewares around every request: the audit line and the body size limit.

The audit line (logger `gateway.audit`, one per call) says who (the certificate's identity: a municipality code,
an operator's or a terminal's id, never a person), what (method and the route's template, never the path itself,
which may carry a 住民票コード), which person by keyed hash (`person_ref`, under a key of the gateway's own: one
person gives one ref, a ref names no one), the 事務 named (`purpose`), the outcome (status, problem type, whether an
idempotent result was replayed) and the duration. No request or response field is ever logged (and the runtime's
log filter masks digit runs)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import HTTPException
from mynumber_runtime.errors import Unauthenticated
from mynumber_runtime.identity import Caller, caller_from_certificate
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import problems as p
from gateway.https import tls_of

# Paths without parameters that are not API routes (their scope names no route).
FIXED_PATHS = frozenset({"/v1/openapi.json"})

audit_log = logging.getLogger("gateway.audit")


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        state: dict[str, Any] = scope.setdefault("state", {})

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            caller = state.get("caller") or _identity(scope)
            audit_log.info("request", extra={
                "client": str(caller) if caller is not None else "unidentified",
                "client_kind": caller.kind if caller is not None else "unidentified",
                "http_method": scope.get("method"), "route": _template(scope),
                "status": status["code"], "problem": state.get("problem"),
                "replayed": bool(state.get("replayed")), "purpose": state.get("purpose"),
                "person_ref": state.get("person_ref"),
                "duration_ms": round((time.perf_counter() - started) * 1000, 3)})


def _identity(scope: Scope) -> Caller | None:
    """The certificate's identity when no route asked for it (the OpenAPI document, an unknown path)."""
    chain = tls_of(scope).get("client_cert_chain") or []
    try:
        return caller_from_certificate(chain[0].encode()) if chain else None
    except (Unauthenticated, ValueError):
        return None


def _template(scope: Scope) -> str:
    """The matched route's template; a path only when it is a fixed one (never one with a parameter)."""
    route = getattr(scope.get("route"), "path", None)
    if route:
        return str(route)
    return str(scope.get("path")) if scope.get("path") in FIXED_PATHS else "unmatched"


class BodyLimitMiddleware:
    """413 for a body over the limit: at once when Content-Length says so, else as soon as the bytes read pass it
    (a chunked upload is cut off there, never buffered whole)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = max_body_bytes
        # Paths with a limit of their own (a bulk register is larger than one resident's request).
        self.overrides = dict(overrides or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.overrides.get(str(scope.get("path")), self.default)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            problem = p.Problem(p.TOO_LARGE, f"the body may hold at most {limit} bytes")
            if not declared.isdigit():
                problem = p.Problem(p.MALFORMED, "Content-Length: must be a number of bytes")
            scope.setdefault("state", {})["problem"] = problem.type.slug
            body = json.dumps(problem.body()).encode()
            await send({"type": "http.response.start", "status": problem.status,
                        "headers": [(b"content-type", p.MEDIA_TYPE.encode()),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # FastAPI passes an HTTPException from the body read on as it is; the app maps it to a problem.
                    raise HTTPException(413)
            return message

        await self.app(scope, receive if declared is not None else counting, send)
