"""RFC 9457 problem details: every error the gateway answers is one of the types below (docs/gateway.md lists them
with their URIs). A problem names the field and the rule it broke, never the value sent, and never an internal
detail; a service's typed gRPC error keeps its machine-readable reason (`reason`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:mynumber:gateway:problem:"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return TYPE_BASE + self.slug


MALFORMED = ProblemType("malformed-request", 400, "The request could not be read")
KEY_REQUIRED = ProblemType("idempotency-key-required", 400, "A write needs an Idempotency-Key header")
UNAUTHENTICATED = ProblemType("unauthenticated", 401, "The client certificate names no platform identity")
FORBIDDEN = ProblemType("forbidden", 403, "This client may not use this resource")
PURPOSE_REQUIRED = ProblemType("purpose-required", 400, "A use of the number must name its 事務 (Purpose-Of-Use)")
PURPOSE_REFUSED = ProblemType("purpose-not-permitted", 403,
                              "The purpose registry does not let this client use the number for this 事務")
NOT_FOUND = ProblemType("not-found", 404, "No such resource for this client")
METHOD = ProblemType("method-not-allowed", 405, "The resource does not support this method")
CONFLICT = ProblemType("conflict", 409, "The request conflicts with the resource's state")
KEY_IN_PROGRESS = ProblemType("idempotency-key-in-progress", 409, "A request with this Idempotency-Key is running")
TOO_LARGE = ProblemType("payload-too-large", 413, "The request body is too large")
MEDIA = ProblemType("unsupported-media-type", 415, "The request body must be application/json")
INVALID = ProblemType("invalid-request", 422, "The request broke a rule")
KEY_REUSED = ProblemType("idempotency-key-reused", 422, "This Idempotency-Key was used for another request")
RATE_LIMITED = ProblemType("rate-limited", 429, "This client's rate limit is reached; retry after Retry-After")
RATE = ProblemType("too-many-requests", 429, "The service behind the gateway is overloaded")
INTERNAL = ProblemType("internal", 500, "The gateway failed")
UPSTREAM = ProblemType("upstream-error", 502, "A platform service failed")
UNAVAILABLE = ProblemType("unavailable", 503, "A platform service is unavailable; retry later")
TIMEOUT = ProblemType("upstream-timeout", 504, "A platform service did not answer in time; retry later")

ALL = (MALFORMED, KEY_REQUIRED, UNAUTHENTICATED, FORBIDDEN, PURPOSE_REQUIRED, PURPOSE_REFUSED, NOT_FOUND, METHOD,
       CONFLICT, KEY_IN_PROGRESS, TOO_LARGE, MEDIA, INVALID, KEY_REUSED, RATE_LIMITED, RATE, INTERNAL, UPSTREAM,
       UNAVAILABLE, TIMEOUT)


@dataclass(frozen=True)
class FieldError:
    field: str
    rule: str


@dataclass
class Problem(Exception):
    """Raised anywhere in a request; the app's handler answers it as application/problem+json."""

    type: ProblemType
    detail: str
    reason: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @property
    def status(self) -> int:
        return self.type.status

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type.uri, "title": self.type.title, "status": self.status,
                               "detail": self.detail}
        if self.reason:
            out["reason"] = self.reason
        if self.errors:
            out["errors"] = [{"field": e.field, "rule": e.rule} for e in self.errors]
        return out


class FieldErrorModel(BaseModel):
    field: str
    rule: str


class ProblemModel(BaseModel):
    """The OpenAPI schema of every error body (RFC 9457 members plus `reason` and `errors`)."""

    model_config = ConfigDict(title="Problem", extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    reason: str | None = None
    errors: list[FieldErrorModel] | None = None


def responses(*types: ProblemType) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem types a route may answer (several types may share a status)."""
    out: dict[int | str, dict[str, Any]] = {}
    for t in types:
        entry = out.setdefault(t.status, {"description": "", "content": {MEDIA_TYPE: {"schema": {
            "$ref": "#/components/schemas/Problem"}}}})
        entry["description"] = "; ".join(filter(None, [entry["description"], f"{t.title} ({t.uri})"]))
        if t.status == 429:
            # Both 429 types say when to come back (the rate limit's refill, or the service's back-off).
            entry["headers"] = {"Retry-After": {"required": True, "description": "seconds to wait before a retry",
                                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
    return out


# What every route may answer whatever it does: the door's own refusals and the upstream's failures.
COMMON = (MALFORMED, UNAUTHENTICATED, FORBIDDEN, TOO_LARGE, MEDIA, INVALID, RATE_LIMITED, RATE, UPSTREAM, UNAVAILABLE,
          TIMEOUT)
WRITE = (KEY_REQUIRED, KEY_IN_PROGRESS, KEY_REUSED)
