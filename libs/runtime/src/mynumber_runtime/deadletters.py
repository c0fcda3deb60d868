"""Dead letters: events a consumer can never handle (undecodable, failing validation), parked in the
`MYNUMBER_DEADLETTER` stream instead of being dropped, until an operator replays them after a fix.

A letter is the original payload, byte for byte, with headers that say where it came from and why it was parked;
none of them carries personal data (the reason is a fixed text chosen by the code, never a value). Its id is its
sequence in the dead-letter stream. Service S's durable D parks its letters on `mynumber.deadletter.<S>.<D>`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from mynumber_runtime.streams import DEADLETTER_STREAM, deadletter_subject

H_SUBJECT = "Mynumber-Original-Subject"
H_STREAM = "Mynumber-Original-Stream"
H_SEQUENCE = "Mynumber-Original-Sequence"
H_MSG_ID = "Mynumber-Original-Msg-Id"
H_CONSUMER = "Mynumber-Consumer"
H_REASON = "Mynumber-Reason"
H_FIRST_FAILURE = "Mynumber-First-Failure"

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
MAX_REASON = 200


def clean_reason(reason: str) -> str:
    """A header value is one line: control characters out, length bounded."""
    return _UNSAFE.sub(" ", reason).strip()[:MAX_REASON] or "unspecified"


@dataclass(frozen=True)
class DeadLetter:
    id: int  # the sequence in MYNUMBER_DEADLETTER
    service: str
    consumer: str
    reason: str
    first_failure: str  # ISO 8601, UTC
    original_subject: str
    original_stream: str
    original_sequence: int
    original_msg_id: str | None
    payload: bytes

    @property
    def event_id(self) -> str:
        """The id the consumer records as handled: the same as for the original delivery (consumer.event_id), so
        a replay of an event that did get handled meanwhile changes nothing."""
        return self.original_msg_id or f"{self.original_stream}:{self.original_sequence}"


def _msg_id(original_stream: str, original_sequence: int, replayed_from: int | None) -> str:
    # Derived from the original position: parking the same delivery twice (a crash before the ack) is dropped by
    # the server. A letter that fails again on replay is a new letter, named after the one it replaces.
    base = f"deadletter.{original_stream}.{original_sequence}"
    return base if replayed_from is None else f"{base}.replay.{replayed_from}"


async def park(js: JetStreamContext, *, service: str, consumer: str, reason: str, first_failure: dt.datetime | str,
               payload: bytes, original_subject: str, original_stream: str, original_sequence: int,
               original_msg_id: str | None, replayed_from: int | None = None) -> None:
    first = first_failure if isinstance(first_failure, str) else first_failure.astimezone(dt.UTC).isoformat()
    headers = {
        "Nats-Msg-Id": _msg_id(original_stream, original_sequence, replayed_from),
        H_SUBJECT: original_subject,
        H_STREAM: original_stream,
        H_SEQUENCE: str(original_sequence),
        H_CONSUMER: consumer,
        H_REASON: clean_reason(reason),
        H_FIRST_FAILURE: first,
    }
    if original_msg_id:
        headers[H_MSG_ID] = original_msg_id
    # `stream=` makes the server refuse the publish unless it lands in the dead-letter stream.
    await js.publish(deadletter_subject(service, consumer), payload, headers=headers, stream=DEADLETTER_STREAM)


def _letter(service: str, seq: int, headers: dict[str, str], payload: bytes) -> DeadLetter:
    return DeadLetter(
        id=seq, service=service, consumer=headers.get(H_CONSUMER, ""), reason=headers.get(H_REASON, ""),
        first_failure=headers.get(H_FIRST_FAILURE, ""), original_subject=headers.get(H_SUBJECT, ""),
        original_stream=headers.get(H_STREAM, ""), original_sequence=int(headers.get(H_SEQUENCE, "0") or 0),
        original_msg_id=headers.get(H_MSG_ID), payload=payload,
    )


async def letters(js: JetStreamContext, service: str) -> AsyncIterator[DeadLetter]:
    """Every letter of one service, oldest first (read by subject, so a service sees only its own)."""
    wanted = f"mynumber.deadletter.{service}.>"
    seq = 1
    while True:
        try:
            raw = await js.get_msg(DEADLETTER_STREAM, seq=seq, subject=wanted, next=True)
        except NotFoundError:
            return
        if raw.seq is None:
            return
        yield _letter(service, raw.seq, dict(raw.headers or {}), raw.data or b"")
        seq = raw.seq + 1


async def letter(js: JetStreamContext, service: str, letter_id: int) -> DeadLetter | None:
    """One letter by id, or None when there is none of this service's under that id."""
    try:
        raw = await js.get_msg(DEADLETTER_STREAM, seq=letter_id)
    except NotFoundError:
        return None
    if not (raw.subject or "").startswith(f"mynumber.deadletter.{service}."):
        return None
    return _letter(service, letter_id, dict(raw.headers or {}), raw.data or b"")


async def counts(js: JetStreamContext, service: str) -> dict[str, int]:
    """How many letters each of a service's consumers has parked, by durable name (the `mynumber.deadletters`
    gauge; one stream-info call, no message read)."""
    prefix = f"mynumber.deadletter.{service}."
    try:
        info = await js.stream_info(DEADLETTER_STREAM, subjects_filter=prefix + ">")
    except NotFoundError:
        return {}
    return {subject.removeprefix(prefix): int(n) for subject, n in (info.state.subjects or {}).items()}


async def remove(js: JetStreamContext, letter: DeadLetter) -> None:
    await js.delete_msg(DEADLETTER_STREAM, letter.id)
