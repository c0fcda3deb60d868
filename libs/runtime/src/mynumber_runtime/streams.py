"""Event subjects and streams: `mynumber.<svc>.v1.<aggregate>.<event>`, one stream per emitting service, and the
one dead-letter stream every consumer parks its poison events in (`mynumber.deadletter.<svc>.<durable>`)."""

from __future__ import annotations

import contextlib

from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

DEADLETTER_STREAM = "MYNUMBER_DEADLETTER"
DEADLETTER_SUBJECTS = "mynumber.deadletter.>"


def subject(service: str, aggregate: str, event: str, *, version: int = 1) -> str:
    return f"mynumber.{service}.v{version}.{aggregate}.{event}"


def stream_name(service: str) -> str:
    return "MYNUMBER_" + service.upper().replace("-", "_")


def deadletter_subject(service: str, durable: str) -> str:
    """Where service S's durable D parks what it can never handle. S's NATS user may publish only below
    `mynumber.deadletter.<S>.>`, so no service can forge another's dead letters."""
    return f"mynumber.deadletter.{service}.{durable}"


async def ensure_stream(js: JetStreamContext, service: str, *, duplicate_window_s: float = 600.0) -> str:
    """Create (or update) the stream that holds every event a service emits. Idempotent.

    Found by subject first: after a region failover the stream holding `mynumber.<svc>.>` is the promoted mirror,
    under another name, and must be used as it is."""
    try:
        existing = await js.find_stream_name_by_subject(f"mynumber.{service}.>")
    except NotFoundError:
        existing = None
    if existing and existing != stream_name(service):
        return str(existing)
    config = StreamConfig(
        name=stream_name(service),
        subjects=[f"mynumber.{service}.>"],
        storage=StorageType.FILE,
        # The window within which a re-published outbox row (same Nats-Msg-Id) is dropped by the server.
        duplicate_window=duplicate_window_s,
    )
    await _create_or_update(js, config)
    return str(config.name)


async def ensure_deadletter_stream(js: JetStreamContext, *, duplicate_window_s: float = 600.0) -> str:
    """The dead-letter stream (idempotent). File storage and no age limit: a dead letter stays until an operator
    replays it (`python -m <svc> dead-letters replay`); an event is never dropped by a limit."""
    config = StreamConfig(
        name=DEADLETTER_STREAM,
        subjects=[DEADLETTER_SUBJECTS],
        storage=StorageType.FILE,
        # A consumer that dies between parking a letter and acking the original parks it again on redelivery:
        # the Nats-Msg-Id (from the original stream and sequence) makes the server drop the second copy.
        duplicate_window=duplicate_window_s,
    )
    # Created if missing, never updated: a service's NATS user may not reconfigure the stream every service parks
    # its letters in (its limits are the operator's, `mynumber_runtime.nats_identity`).
    try:
        await js.stream_info(DEADLETTER_STREAM)
    except NotFoundError:
        with contextlib.suppress(BadRequestError):  # another service created it a moment ago
            await js.add_stream(config)
    return DEADLETTER_STREAM


async def _create_or_update(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.stream_info(config.name)  # type: ignore[arg-type]
        await js.update_stream(config)
    except NotFoundError:
        await js.add_stream(config)


async def open_stream(js: JetStreamContext, service: str, *, duplicate_window_s: float = 600.0) -> str:
    """The stream holding another service's events, for a consumer: found by subject (a promoted mirror after a
    failover), else created as its producer would create it, because a consumer may start first. Never updated:
    a consumer's NATS user may not configure the producer's stream (`mynumber_runtime.nats_identity`)."""
    try:
        return str(await js.find_stream_name_by_subject(f"mynumber.{service}.>"))
    except NotFoundError:
        pass
    config = StreamConfig(name=stream_name(service), subjects=[f"mynumber.{service}.>"], storage=StorageType.FILE,
                          duplicate_window=duplicate_window_s)
    with contextlib.suppress(BadRequestError):  # the producer created it a moment ago (name already in use)
        await js.add_stream(config)
    return str(config.name)
