"""Metrics: OpenTelemetry instruments exported in the Prometheus text format on `/metrics`.

One MeterProvider per process, read by the Prometheus reader into a private registry (`install()`, idempotent:
`service_main` installs it with the service's resource, `host()` makes sure of it for services run in-process by
tests). `MetricsServer` serves that registry on a small asyncio HTTP server of the service's own event loop, bound
where `MetricsSettings.listen` says (127.0.0.1 unless told), stopped with the service.

Gauges that need a query (rows in the outbox, numbers issued, envelopes by state) never query at scrape time: a
`Snapshots` loop runs each query every `interval_s` and the gauge's callback reads the last result, so a scrape
costs nothing and a slow database slows nobody's scrape.

Labels carry method names, status codes, caller kinds, states and durable names: never a value from a request or
an event (no personal data; low cardinality).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from mynumber_runtime.faults import summary
from mynumber_runtime.settings import MetricsSettings

log = logging.getLogger(__name__)

_registry: CollectorRegistry | None = None

# Seconds: from a fast unary call to a long bulk stream (the SDK's default buckets are for milliseconds).
DURATION_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


def install(resource: Resource | None = None) -> CollectorRegistry:
    """The process's MeterProvider with a Prometheus reader; the registry `/metrics` serves. Idempotent: the
    first call wins (OpenTelemetry allows one global provider per process)."""
    global _registry
    if _registry is None:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        registry = CollectorRegistry()
        # No scope labels: the metric's name says where it comes from; fewer labels, fewer series.
        reader = PrometheusMetricReader(registry=registry, scope_info_enabled=False)
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader],
                                                 resource=resource or Resource.create({})))
        _registry = registry
    return _registry


def exposition() -> bytes:
    """The current metrics in the Prometheus text format."""
    return generate_latest(install())


Labels = tuple[tuple[str, str], ...]
Fetch = Callable[[], Awaitable[Mapping[Labels, float]]]

# One observable gauge per name for the process, reading every running `Snapshots` that has it: OpenTelemetry
# keeps the first instrument of a name (and its callbacks), and tests run several services in one process.
_live: weakref.WeakSet[Snapshots] = weakref.WeakSet()
_gauges: set[str] = set()


def _gauge(name: str, description: str, unit: str) -> None:
    if name in _gauges:
        return
    _gauges.add(name)

    def observe(_: CallbackOptions) -> Iterable[Observation]:
        return [Observation(v, dict(labels)) for snaps in list(_live)
                for labels, v in list(snaps.values.get(name, {}).items())]

    metrics.get_meter(__name__).create_observable_gauge(name, callbacks=[observe], description=description,
                                                        unit=unit)


class Snapshots:
    """Observable gauges fed by queries run every `interval_s` by `run()` (a host loop), not at scrape time.

    `add(name, fetch)`: `fetch()` returns {labels: value}, labels a tuple of (key, value) pairs (`()` for none).
    A query that fails keeps the last values and says so once, until it works again. Values are exported while
    `run()` runs (a stopped service's last values do not linger in the process)."""

    def __init__(self, *, interval_s: float = 15.0) -> None:
        self.interval_s = interval_s
        self._fetch: dict[str, Fetch] = {}
        self.values: dict[str, dict[Labels, float]] = {}
        self._failing: set[str] = set()
        self._chores: list[Callable[[], Awaitable[None]]] = []
        self.refreshes = 0

    def add(self, name: str, fetch: Fetch, *, description: str = "", unit: str = "") -> None:
        if name in self._fetch:
            raise ValueError(f"gauge {name} is added twice")
        self._fetch[name] = fetch
        _gauge(name, description, unit)

    def also(self, chore: Callable[[], Awaitable[None]]) -> None:
        """Run `chore()` on every refresh too: it updates values an existing instrument reads (e.g. a consumer's
        backlog, which its own loop cannot refresh while a handler is stuck). Its failures are its own business."""
        self._chores.append(chore)

    def __contains__(self, name: str) -> bool:
        return name in self._fetch

    async def refresh(self) -> None:
        for chore in self._chores:
            with contextlib.suppress(Exception):
                await chore()
        for name, fetch in self._fetch.items():
            try:
                self.values[name] = dict(await fetch())
            except Exception as exc:
                if name not in self._failing:
                    self._failing.add(name)
                    log.warning("metric %s: its query fails (%s); the last values are kept", name, summary(exc))
                continue
            if name in self._failing:
                self._failing.discard(name)
                log.info("metric %s: its query works again", name)
        self.refreshes += 1

    async def run(self, stop: asyncio.Event) -> None:
        _live.add(self)
        try:
            while not stop.is_set():
                await self.refresh()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval_s)
        finally:
            _live.discard(self)


def labelled(keys: str | tuple[str, ...], fetch: Callable[[], Awaitable[Mapping[Any, int]]]) -> Fetch:
    """A repository's grouped count ({status: n}, or {(kind, status): n} for several keys) as a gauge's fetch."""
    names = (keys,) if isinstance(keys, str) else keys

    async def run() -> dict[Labels, float]:
        out: dict[Labels, float] = {}
        for group, n in (await fetch()).items():
            values = group if isinstance(group, tuple) else (group,)
            out[tuple(zip(names, (str(v) for v in values), strict=True))] = float(n)
        return out

    return run


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("metrics.listen is host:port, e.g. 127.0.0.1:9451")
    return host.strip("[]"), int(port)


class MetricsServer:
    """`GET /metrics` (Prometheus text format) on a plain-HTTP listener; anything else is 404. Runs on the
    service's event loop; `start()` returns the port (useful with port 0), `stop()` closes it."""

    def __init__(self, settings: MetricsSettings) -> None:
        self.settings = settings
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        install()
        host, port = split_listen(self.settings.listen)
        self._server = await asyncio.start_server(self._handle, host, port, reuse_address=True)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request = await reader.readuntil(b"\r\n\r\n")
            line = request.split(b"\r\n", 1)[0].split()
            path = line[1].split(b"?", 1)[0] if len(line) >= 2 else b""
            if len(line) >= 2 and line[0] in (b"GET", b"HEAD") and path == b"/metrics":
                body = exposition()
                head = (f"HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE_LATEST}\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
                writer.write(head + (body if line[0] == b"GET" else b""))
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
