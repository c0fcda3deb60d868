"""An append-only, hash-chained log (access records, CA events).

Each entry's hash covers the previous entry's hash and the entry's canonical JSON, so removing, reordering or
editing any entry breaks every hash after it. Appends are serialised per table with a transaction-scoped
advisory lock; they join the caller's transaction, so the record commits with the change it records.
Entries name people only by keyed hashes, never by personal data.

A chain alone cannot show that its newest entries were removed: what is left still verifies. Given the latest
signed anchor of the head (anchor.py, published outside the database), `verify_chain` also requires the chain to
reach the anchored seq with the anchored hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from mynumber_runtime.anchor import Anchor, AnchorLookup, AnchorRefused, chain_head
from mynumber_runtime.faults import summary
from mynumber_runtime.identity import current_caller_or_none

GENESIS = b"\x00" * 32


def audit_table(metadata: sa.MetaData, name: str = "audit_log") -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        # A keyed hash (hex) of the person or object touched; never the plain value.
        sa.Column("subject_ref", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("details", JSONB, nullable=False),
        sa.Column("prev_hash", sa.LargeBinary, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.Index(f"ix_{name}_subject_ref", "subject_ref"),
    )


def entry_hash(prev: bytes, seq: int, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
               details: Mapping[str, Any]) -> bytes:
    body = json.dumps(
        [seq, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), actor, action, subject_ref, purpose,
         details],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    ).encode()
    return hashlib.sha256(prev + body).digest()


async def append(conn: AsyncConnection, table: sa.Table, *, at: dt.datetime, actor: str, action: str,
                 subject_ref: str, purpose: str, details: Mapping[str, Any] | None = None) -> int:
    details = dict(details or {})
    # The 事務 the caller declared through its delegate (identity.PURPOSE_KEY), checked by the gateway against its
    # purpose registry: every entry of the call records it, whichever service and method wrote the entry.
    caller = current_caller_or_none()
    if caller is not None and caller.purpose is not None:
        details["purpose_of_use"] = caller.purpose
    await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"{table.schema}.{table.name}"))))
    last = await chain_head(conn, table)
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    digest = entry_hash(prev, seq, at, actor, action, subject_ref, purpose, details)
    await conn.execute(sa.insert(table).values(seq=seq, at=at, actor=actor, action=action, subject_ref=subject_ref,
                                               purpose=purpose, details=details, prev_hash=prev, hash=digest))
    return seq


@dataclass
class ChainReport:
    entries: int
    ok: bool
    first_bad_seq: int | None = None
    problem: str | None = None
    # The seq of the anchor checked against; None when no anchor was given.
    anchored_seq: int | None = None
    # Said when the check is weaker than asked: no anchor to check the newest entries against, and why.
    note: str | None = None


async def verify_chain(conn: AsyncConnection, table: sa.Table, *, batch: int = 10_000,
                       anchor: Anchor | None = None) -> ChainReport:
    """Every entry chains from the genesis; with an `anchor`, the chain also reaches its seq with its hash."""
    report = await _walk(conn, table, batch, anchor)
    report.anchored_seq = anchor.seq if anchor is not None else None
    if report.ok and anchor is not None and report.entries < anchor.seq:
        report.ok, report.first_bad_seq = False, report.entries + 1
        report.problem = (f"entries after seq {report.entries} were removed "
                          f"(the chain ends before the anchored head, seq {anchor.seq})")
    return report


async def verify_anchored(conn: AsyncConnection, table: sa.Table,
                          anchors: AnchorLookup | None, *,
                          batch: int = 10_000) -> ChainReport:
    """`verify_chain` against the latest anchor from `anchors` (e.g. a bound `anchor.latest_anchor`). A refused
    (forged) anchor fails the check; a missing or unreadable one is said in `note`, never passed over in silence:
    then the removal of the newest entries cannot be ruled out."""
    note, anchor = None, None
    if anchors is None:
        note = "not checked against an anchor: none configured"
    else:
        try:
            anchor = await anchors()
        except AnchorRefused as exc:
            report = await verify_chain(conn, table, batch=batch)
            report.note = str(exc)
            if report.ok:
                report.ok, report.problem = False, str(exc)
            return report
        except Exception as exc:  # NATS away: the chain is still worth checking
            note = f"not checked against an anchor: the latest anchor could not be read ({summary(exc)})"
        else:
            if anchor is None:
                note = "not checked against an anchor: none has been published"
    report = await verify_chain(conn, table, batch=batch, anchor=anchor)
    if note is not None:
        report.note = note + "; removal of the newest entries cannot be ruled out"
    return report


async def _walk(conn: AsyncConnection, table: sa.Table, batch: int, anchor: Anchor | None) -> ChainReport:
    prev, expected_seq, count = GENESIS, 1, 0
    while True:
        rows = (await conn.execute(
            sa.select(table).where(table.c.seq >= expected_seq).order_by(table.c.seq).limit(batch))).all()
        if not rows:
            return ChainReport(entries=count, ok=True)
        for r in rows:
            if r.seq != expected_seq:
                return ChainReport(count, False, expected_seq, "an entry is missing")
            if bytes(r.prev_hash) != prev:
                return ChainReport(count, False, r.seq, "prev_hash does not match the previous entry")
            digest = entry_hash(prev, r.seq, r.at, r.actor, r.action, r.subject_ref, r.purpose, r.details)
            if digest != bytes(r.hash):
                return ChainReport(count, False, r.seq, "entry was altered")
            if anchor is not None and r.seq == anchor.seq and not hmac.compare_digest(digest, anchor.head_hash):
                # The chain was rebuilt from here on (unkeyed hashes can be recomputed): the anchor was not.
                return ChainReport(count, False, r.seq, "the anchored entry was altered")
            prev, expected_seq, count = digest, expected_seq + 1, count + 1


async def entries_for(conn: AsyncConnection, table: sa.Table, subject_ref: str) -> Sequence[Any]:
    """Who touched a person's data (the マイナポータル access-record view)."""
    return ((await conn.execute(
        sa.select(table.c.seq, table.c.at, table.c.actor, table.c.action, table.c.purpose)
        .where(table.c.subject_ref == subject_ref).order_by(table.c.seq))).all())
