"""Rate limits per client: a token bucket per verified client identity (the certificate's `kind:id`, never a
header), refilled at the identity's rate up to its burst. A call that finds the bucket empty is refused with 429
`rate-limited` and `Retry-After` (whole seconds until a token is back), counted in `mynumber.gateway.rate_limited`
(by caller kind, and the municipality code for a municipality: never an operator's or a terminal's id) and named
in the audit line (problem `rate-limited`).

The limits (settings.RateLimitSettings) are per caller kind with an override per identity, and are the whole
platform's: each replica holds its own buckets with the limit divided by the replica count (docs/gateway.md says
why not a bucket shared in the database). One call takes one token whatever it carries: a bulk register of 50,000
residents is one submission, one token.

The check runs before the body is read (an ASGI middleware inside the audit one): a throttled client costs the
gateway a certificate look-up and nothing more."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from mynumber_runtime.errors import Unauthenticated
from mynumber_runtime.identity import Caller, caller_from_certificate
from mynumber_runtime.telemetry import meter
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import problems as p
from gateway.https import tls_of
from gateway.settings import Limit, RateLimitSettings

# Labels: the caller's kind, and for a municipality its code (a public 全国地方公共団体コード, ~1,800 values);
# an operator's id is a person's name and a terminal's id is unbounded, so neither is ever a label.
_refused = meter(__name__).create_counter("mynumber.gateway.rate_limited",
                                          description="calls refused by the per-client rate limit")

# Buckets that have been idle long enough to be full again are dropped when there are more than this many.
_SWEEP_ABOVE = 10_000


@dataclass(slots=True)
class TokenBucket:
    """`rate` tokens per second up to `capacity`; starts full. `take(now)` takes one token and returns 0, or takes
    nothing and returns the seconds until one is there."""

    rate: float
    capacity: float
    tokens: float
    at: float

    def take(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def full_at(self) -> float:
        return self.at + (self.capacity - self.tokens) / self.rate


class RateLimiter:
    """The buckets of one gateway replica. `monotonic` is injectable (a fake clock in the unit tests)."""

    def __init__(self, settings: RateLimitSettings, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.monotonic = monotonic
        self.buckets: dict[str, TokenBucket] = {}

    def limit_of(self, caller: Caller) -> Limit:
        s = self.settings
        return s.overrides.get(str(caller)) or s.kinds.get(caller.kind) or s.other

    def per_replica(self, limit: Limit) -> tuple[float, float]:
        """(rate, burst) this replica grants: the platform's limit divided by the replica count (a burst of at
        least one call, or the client could never call)."""
        n = self.settings.replicas
        return limit.rate_per_s / n, max(1.0, float(math.floor(limit.burst / n)))

    def admit(self, caller: Caller) -> float:
        """0 when the call may run (a token taken); else the seconds the caller should wait."""
        if not self.settings.enabled:
            return 0.0
        now = self.monotonic()
        name = str(caller)
        bucket = self.buckets.get(name)
        if bucket is None:
            if len(self.buckets) >= _SWEEP_ABOVE:
                self._sweep(now)
            rate, burst = self.per_replica(self.limit_of(caller))
            bucket = self.buckets[name] = TokenBucket(rate, burst, burst, now)
        return bucket.take(now)

    def _sweep(self, now: float) -> None:
        # A bucket full again is the same as no bucket: forgetting it changes no answer.
        for name in [n for n, b in self.buckets.items() if b.full_at() <= now]:
            del self.buckets[name]


def retry_after(wait_s: float) -> str:
    """Retry-After in whole seconds (RFC 9110 delay-seconds), never 0 for a refused call."""
    return str(max(1, math.ceil(wait_s)))


def caller_in(scope: Scope) -> Caller | None:
    """The verified certificate's identity (None: no certificate, or one naming no platform identity: the route
    answers 401 then)."""
    chain = tls_of(scope).get("client_cert_chain") or []
    try:
        return caller_from_certificate(chain[0].encode()) if chain else None
    except (Unauthenticated, ValueError):
        return None


def metric_labels(caller: Caller) -> dict[str, str]:
    labels = {"caller_kind": caller.kind}
    if caller.kind == "municipality":
        labels["municipality"] = caller.id
    return labels


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        caller = caller_in(scope)
        if caller is None:
            await self.app(scope, receive, send)
            return
        state["caller"] = caller  # the routes and the audit line read it (one certificate parse per call)
        wait = self.limiter.admit(caller)
        if not wait:
            await self.app(scope, receive, send)
            return
        _refused.add(1, metric_labels(caller))
        problem = p.Problem(p.RATE_LIMITED, "this client's rate limit is reached; retry after the time given",
                            headers={"Retry-After": retry_after(wait)})
        state["problem"] = problem.type.slug
        body = json.dumps(problem.body()).encode()
        await send({"type": "http.response.start", "status": problem.status,
                    "headers": [(b"content-type", p.MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
                                (b"retry-after", problem.headers["Retry-After"].encode())]})
        await send({"type": "http.response.body", "body": body})
