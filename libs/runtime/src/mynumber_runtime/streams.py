"""Event subjects and streams: `mynumber.<svc>.v1.<aggregate>.<event>`, one stream per emitting service."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError


def subject(service: str, aggregate: str, event: str, *, version: int = 1) -> str:
    return f"mynumber.{service}.v{version}.{aggregate}.{event}"


def stream_name(service: str) -> str:
    return "MYNUMBER_" + service.upper().replace("-", "_")


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
    try:
        await js.stream_info(config.name)  # type: ignore[arg-type]
        await js.update_stream(config)
    except NotFoundError:
        await js.add_stream(config)
    return str(config.name)
