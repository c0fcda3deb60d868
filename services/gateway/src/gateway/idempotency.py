"""Idempotency keys on every write (draft-ietf-httpapi-idempotency-key-header): a retried POST with the same key
gets the first result, replayed, and changes nothing again; the same key with another request is refused (422);
a key whose first request is still running answers 409. The first result is kept durably (the gateway's own
schema, repository.py) for `ttl`: what a client was told survives a gateway restart, and two replicas agree.

What is kept: the caller's refusals too (a 4xx is the first result: a retry gets the same answer), but not the
platform's failures (502/503/504): those release the key so a retry runs the request again."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer, KeyedHash, derive_key
from mynumber_runtime.db import Units

from gateway import problems as p
from gateway.repository import GatewayStore

log = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
# Printable ASCII without spaces or quotes, 1-128 characters: a UUID, a ULID or the client's own request id.
KEY_PATTERN = r"^[A-Za-z0-9._:~+/=-]{1,128}$"
_KEY = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class Result:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Idempotency:
    def __init__(self, *, units: Units[GatewayStore], master: bytes, clock: Clock, ttl_s: int) -> None:
        self.units = units
        self.clock = clock
        self.ttl = dt.timedelta(seconds=ttl_s)
        self._hash = KeyedHash(derive_key(master, "gateway/idempotency-hash"))
        self._sealer = FieldSealer({1: derive_key(master, "gateway/idempotency-seal")}, current=1)

    def fingerprint(self, method: str, path: str, body: dict[str, Any]) -> bytes:
        return self._hash(method.encode() + b"\n" + path.encode() + b"\n" + canonical(body))

    async def run(self, client: str, key: str | None, fingerprint: bytes,
                  call: Callable[[], Awaitable[Result]]) -> Result:
        if key is None:
            raise p.Problem(p.KEY_REQUIRED, f"{HEADER}: required on every write (a new unique value per request)",
                            errors=[p.FieldError(HEADER, "required on every write")])
        if not _KEY.match(key):
            raise p.Problem(p.INVALID, f"{HEADER}: 1-128 characters of A-Z a-z 0-9 . _ : ~ + / = -",
                            errors=[p.FieldError(HEADER, "1-128 characters of A-Z a-z 0-9 . _ : ~ + / = -")])
        key_hash = self._hash(client.encode() + b"\n" + key.encode())
        now = self.clock.now()
        async with self.units() as store:
            await store.expire(client, key_hash, now - self.ttl)
            claimed = await store.claim(client, key_hash, fingerprint, now)
            row = None if claimed else await store.get(client, key_hash)
        if row is not None:
            return self._replay(client, key_hash, fingerprint, row.fingerprint, row.status_code, row.sealed_response)
        if not claimed:  # the row went between our two statements (expired by another replica): start again
            return await self.run(client, key, fingerprint, call)
        try:
            result = await call()
        except p.Problem as problem:
            if problem.status >= 500:
                await self._release(client, key_hash)
            else:
                await self._complete(client, key_hash, problem.status, problem.body())
            raise
        except BaseException:
            await self._release(client, key_hash)
            raise
        await self._complete(client, key_hash, result.status, result.body)
        return result

    async def purge(self) -> int:
        """Forget every key older than the TTL (its first result is no longer replayed)."""
        async with self.units() as store:
            return await store.purge(self.clock.now() - self.ttl)

    async def purge_forever(self, stop: asyncio.Event, *, interval_s: float = 600.0) -> None:
        """The host loop that keeps the table to a TTL's worth of keys."""
        while not stop.is_set():
            try:
                removed = await self.purge()
                if removed:
                    log.info("idempotency keys expired", extra={"removed": removed})
            except Exception as exc:  # the next round tries again; types only
                log.warning("idempotency purge failed", extra={"error_type": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    def _replay(self, client: str, key_hash: bytes, fingerprint: bytes, stored: bytes, status: int | None,
                sealed: bytes | None) -> Result:
        if stored != fingerprint:
            raise p.Problem(p.KEY_REUSED, f"{HEADER}: this key was used for another request; use a new key",
                            errors=[p.FieldError(HEADER, "one key, one request")])
        if status is None or sealed is None:
            raise p.Problem(p.KEY_IN_PROGRESS, f"{HEADER}: the first request with this key has not finished; "
                                               "retry later", headers={"Retry-After": "1"})
        body = json.loads(self._sealer.open(sealed, self._aad(client, key_hash)))
        if status >= 400:
            raise _stored_problem(status, body)
        return Result(status, body, replayed=True)

    async def _complete(self, client: str, key_hash: bytes, status: int, body: dict[str, Any]) -> None:
        sealed = self._sealer.seal(canonical(body), self._aad(client, key_hash))
        async with self.units() as store:
            await store.complete(client, key_hash, status, sealed)

    async def _release(self, client: str, key_hash: bytes) -> None:
        async with self.units() as store:
            await store.release(client, key_hash)

    @staticmethod
    def _aad(client: str, key_hash: bytes) -> bytes:
        return b"gateway.idempotency_keys:" + client.encode() + b":" + key_hash


class StoredProblem(p.Problem):
    """A first result that was a refusal, replayed as it was sent."""

    stored: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return self.stored


def _stored_problem(status: int, body: dict[str, Any]) -> StoredProblem:
    kind = next((t for t in p.ALL if t.uri == body.get("type")), p.ProblemType("stored", status, ""))
    problem = StoredProblem(kind, str(body.get("detail", "")))
    problem.stored = body
    return problem
