"""Anchors of an audit hash chain: the chain's head, signed and kept outside the database, so that removing the
newest entries is found.

A hash chain (audit.py) shows any edit, removal or reorder *inside* the chain, but whoever can delete rows can also
delete the newest ones: the shorter chain still verifies. As X-Road's and EJBCA's signed log heads do, the head
(table, seq, hash, when) is signed and published away from the database: an `AnchorPublisher` among the service's
loops publishes the head, whenever it moved, to JetStream subject `mynumber.<svc>.v1.<table>.anchored`, MAC'd with
HMAC-SHA256 under `derive_key(master, "<svc>/audit-anchor")`. `verify_chain(..., anchor=latest_anchor(...))` then
requires the chain to reach the anchored seq with the anchored hash. What can still go unseen: entries appended
after the last anchor (at most `interval_s` of them) and, for someone holding the service's master key, anything.

Retention: the service's stream (streams.py) sets no age or count limit, so anchors stay; but an operator may give
the stream limits (max_age, max_bytes) and only the latest anchor matters. So the publisher also re-publishes the
current head every `republish_s` while the chain is idle, with a fresh `at`: the latest anchor is always younger
than `republish_s`, and any age limit longer than that keeps one (docs/deploy.md says so). Within the stream's
duplicate window a re-publication is dropped (`Nats-Msg-Id: audit-anchor:<table>:<seq>`), which is harmless: the
anchor it repeats is then younger than the window.

A NATS outage never stops the loop: it retries with a bounded exponential back-off and says so once per change.
Anchors carry only sequence numbers and hashes, never personal data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mynumber_runtime.crypto import derive_key
from mynumber_runtime.faults import keep_running
from mynumber_runtime.streams import subject

log = logging.getLogger(__name__)

ANCHOR_VERSION = 1


class AnchorSettings(BaseModel):
    """How often a service anchors its audit chain (`<PREFIX>AUDIT_ANCHOR__INTERVAL_S`, ...)."""

    model_config = ConfigDict(extra="forbid")

    # Seconds between looks at the chain head: at most this long of newest entries can go unseen if removed.
    interval_s: float = 60.0
    # Seconds after which an unchanged head is anchored again (retention, see the module docstring).
    republish_s: float = 6 * 3600.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    publish_timeout_s: float = 10.0


class AnchorRefused(Exception):
    """The message on the anchor subject is not an anchor this service signed (forged, altered or garbled)."""


# Where a verifier gets the latest anchor: a bound `latest_anchor` (functools.partial), or a test's stand-in.
AnchorLookup = Callable[[], Awaitable["Anchor | None"]]


def anchor_key(master: bytes, service: str) -> bytes:
    return derive_key(master, f"{service}/audit-anchor")


def anchor_subject(service: str, table: str) -> str:
    return subject(service, table, "anchored")


def anchor_message_id(table: str, seq: int) -> str:
    return f"audit-anchor:{table}:{seq}"


@dataclass(frozen=True)
class Anchor:
    table: str
    seq: int
    head_hash: bytes
    at: dt.datetime

    def _body(self) -> dict[str, Any]:
        return {"v": ANCHOR_VERSION, "table": self.table, "seq": self.seq, "hash": self.head_hash.hex(),
                "at": self.at.astimezone(dt.UTC).isoformat(timespec="microseconds")}

    def mac(self, key: bytes) -> bytes:
        return hmac.new(key, _canonical(self._body()), hashlib.sha256).digest()

    def signed(self, key: bytes) -> bytes:
        """The published form: canonical JSON of the fields and their MAC."""
        return _canonical({**self._body(), "mac": self.mac(key).hex()})

    @classmethod
    def verified(cls, data: bytes, key: bytes, *, table: str) -> Anchor:
        """The anchor in `data` if its MAC holds under `key` and it names `table`; else AnchorRefused."""
        try:
            doc = json.loads(data)
            mac = bytes.fromhex(doc.pop("mac"))
            anchor = cls(table=str(doc["table"]), seq=int(doc["seq"]), head_hash=bytes.fromhex(doc["hash"]),
                         at=dt.datetime.fromisoformat(doc["at"]))
            version = doc["v"]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AnchorRefused("the audit anchor is not a signed anchor (unreadable)") from exc
        if version != ANCHOR_VERSION or not hmac.compare_digest(mac, anchor.mac(key)):
            raise AnchorRefused("the audit anchor's signature does not verify: forged or altered")
        if anchor.table != table:
            raise AnchorRefused(f"the audit anchor is for table {anchor.table!r}, not {table!r}")
        return anchor


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


async def latest_anchor(js: JetStreamContext, service: str, table: str, key: bytes) -> Anchor | None:
    """The newest anchor of `table`, verified; None when none was ever published. AnchorRefused when the newest
    message on the subject is not a valid anchor: a forged anchor is never taken, nor silently skipped."""
    subj = anchor_subject(service, table)
    try:
        # By subject: after a region failover the promoted mirror holds the anchors (streams.ensure_stream).
        stream = await js.find_stream_name_by_subject(subj)
        msg = await js.get_last_msg(stream, subj)
    except NotFoundError:
        return None
    return Anchor.verified(msg.data or b"", key, table=table)


async def chain_head(conn: AsyncConnection, table: sa.Table) -> tuple[int, bytes] | None:
    """The newest entry's (seq, hash), None for an empty log: what an anchor signs and the next append chains from."""
    row = (await conn.execute(sa.select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1))).first()
    return (int(row.seq), bytes(row.hash)) if row else None


class AnchorPublisher:
    """Publishes the signed head of one audit table whenever it moved (and every `republish_s` when it did not)."""

    def __init__(self, *, engine: AsyncEngine, table: sa.Table, js: JetStreamContext, service: str, key: bytes,
                 settings: AnchorSettings | None = None,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.engine = engine
        self.table = table
        self.js = js
        self.service = service
        self.key = key
        self.settings = settings or AnchorSettings()
        self.now = now
        self.subject = anchor_subject(service, table.name)
        self.published = 0
        self.failures = 0
        self.last: Anchor | None = None
        self._last_at = 0.0

    async def run_once(self) -> Anchor | None:
        """Anchor the head if it moved or is due again; the anchor published, else None."""
        async with self.engine.connect() as conn:
            head = await chain_head(conn, self.table)
        if head is None:
            return None  # nothing to anchor yet
        seq, digest = head
        last = self.last
        if (last is not None and (last.seq, last.head_hash) == head
                and time.monotonic() - self._last_at < self.settings.republish_s):
            return None
        anchor = Anchor(table=self.table.name, seq=seq, head_hash=digest, at=self.now())
        await self.js.publish(self.subject, anchor.signed(self.key), timeout=self.settings.publish_timeout_s,
                              headers={"Nats-Msg-Id": anchor_message_id(self.table.name, seq)})
        self.last, self._last_at = anchor, time.monotonic()
        self.published += 1
        return anchor

    async def run(self, stop: asyncio.Event) -> None:
        async def step() -> bool:
            await self.run_once()
            return False

        def failed() -> None:
            self.failures += 1

        s = self.settings
        await keep_running(step, stop, log=log, what=f"audit anchor {self.subject}: publishing fails",
                           idle_s=s.interval_s, backoff_initial_s=s.backoff_initial_s, backoff_max_s=s.backoff_max_s,
                           on_failure=failed)
