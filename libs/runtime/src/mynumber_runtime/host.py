"""Running a service process: the part every service's `__main__` shares.

`host()` starts the gRPC server and the background loops (outbox relay, consumers), says ready, waits for the stop
event, then shuts down in order: no new calls, loops finish their batch, NATS drains, the pool closes.
`run_until_signalled()` turns SIGINT/SIGTERM into that stop event. `service_main()` is a service's whole command
line: `--migrate`, `--migrate-only`, logging and tracing, then serve until signalled; and the operator's
`dead-letters list` / `dead-letters replay [--all | --id N]`, which run the service's own wiring (its settings,
credentials and handlers) but, instead of serving, work on its dead letters (operators.py) and exit.

Every `IdempotentConsumer` among the loops (its bound `run`) is found here: its `check()` joins the server's
health checks, and the dead-letter commands use it. A service's wiring needs no change for either.

Metrics (metrics.py): `/metrics` is served where `metrics.listen` says, beside the gRPC server and stopped with it;
the loops' outbox relays and consumers feed the `mynumber.outbox.backlog` and `mynumber.deadletters` gauges
without any wiring, and a service adds its own database-fed gauges to `gauges`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from nats.aio.client import Client as Nats

from mynumber_runtime import deadletters, operators
from mynumber_runtime.consumer import IdempotentConsumer
from mynumber_runtime.grpc_server import HealthCheck, PlatformServer
from mynumber_runtime.metrics import Labels, MetricsServer, Snapshots
from mynumber_runtime.outbox import OutboxRelay
from mynumber_runtime.settings import MetricsSettings, ServiceSettings

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
Cleanup = Callable[[], Awaitable[None]]
S = TypeVar("S", bound=ServiceSettings)


def nats_check(nc: Nats) -> HealthCheck:
    async def check() -> None:
        if not nc.is_connected:
            raise ConnectionError("NATS is not connected")

    return check


async def host(name: str, server: PlatformServer, *, loops: Sequence[Loop] = (), cleanup: Sequence[Cleanup] = (),
               ready: asyncio.Event | None = None, stop: asyncio.Event | None = None,
               log: logging.Logger | None = None, metrics: MetricsSettings | None = None,
               gauges: Snapshots | None = None, **log_extra: object) -> None:
    log = log or logging.getLogger(name)
    stop = stop or asyncio.Event()
    owners = [getattr(loop, "__self__", None) for loop in loops]
    consumers = [c for c in owners if isinstance(c, IdempotentConsumer)]
    relays = [r for r in owners if isinstance(r, OutboxRelay)]
    if (command := operators.pending_command()) is not None:
        # An operator's command run through the service's wiring: no server, no loops.
        try:
            await command.run(name, consumers)
        finally:
            for step in cleanup:
                await step()
        return
    for c in consumers:
        # Unhealthy while its handler keeps failing: the events wait, and someone is told (issue 9).
        server.checks.setdefault(f"consumer {c.durable}", c.check)
    metrics = metrics or MetricsSettings()
    if gauges is None:
        gauges = Snapshots(interval_s=metrics.refresh_interval_s)
    _platform_gauges(name, gauges, relays, consumers)
    metrics_server = MetricsServer(metrics) if metrics.listen else None
    # Metrics first: whoever sees the gRPC port answer can scrape too (tests, `mynumber status` right after start).
    metrics_port = await metrics_server.start() if metrics_server else None
    try:
        port = await server.start()
    except BaseException:
        if metrics_server is not None:
            await metrics_server.stop()
        raise
    tasks = [asyncio.create_task(loop(stop)) for loop in [*loops, gauges.run]]
    log.info("%s serving", name, extra={"port": port, "metrics_port": metrics_port, **log_extra})
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        log.info("%s stopping", name)
        stop.set()
        await server.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        if metrics_server is not None:
            await metrics_server.stop()
        for step in cleanup:
            await step()


def _platform_gauges(name: str, gauges: Snapshots, relays: Sequence[OutboxRelay],
                     consumers: Sequence[IdempotentConsumer]) -> None:
    """The gauges every service has, from its loops: outbox rows not yet published, dead letters parked."""
    if relays and "mynumber.outbox.backlog" not in gauges:
        async def backlog() -> dict[Labels, float]:
            return {(("mynumber.service", name),): float(sum([await r.backlog() for r in relays]))}

        gauges.add("mynumber.outbox.backlog", backlog, description="outbox rows not yet published to NATS")
    for c in consumers:
        gauges.also(c.refresh_lag)  # mynumber.consumer.pending stays current while a handler hangs
    if consumers and "mynumber.deadletters" not in gauges:
        js = consumers[0].js

        async def letters() -> dict[Labels, float]:
            counts = await deadletters.counts(js, name)
            # Every consumer shows, at 0 when it has parked nothing (a gauge that appears only once >0 alerts late).
            durables = {c.durable for c in consumers} | set(counts)
            return {(("mynumber.service", name), ("messaging.consumer.group.name", d)): float(counts.get(d, 0))
                    for d in sorted(durables)}

        gauges.add("mynumber.deadletters", letters,
                   description="dead letters parked and not yet replayed, by consumer")


def run_until_signalled(serve: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """asyncio.run(serve(stop)) where SIGINT and SIGTERM set `stop`."""

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def service_main(name: str, settings_type: type[S], migrations: Path,
                 serve: Callable[[S, asyncio.Event], Awaitable[None]], *, description: str | None = None) -> None:
    """`python -m <service> [--migrate | --migrate-only]`: settings from the environment, JSON logs, traces, the
    schema upgrade when asked, then `serve(settings, stop)` until SIGINT/SIGTERM.
    `python -m <service> dead-letters {list | replay [--all | --id N]}`: see operators.py."""
    from mynumber_runtime.db import migrate
    from mynumber_runtime.logs import configure_logging
    from mynumber_runtime.telemetry import configure_telemetry

    parser = argparse.ArgumentParser(prog=f"mynumber-{name}", description=description)
    parser.add_argument("--migrate", action="store_true", help="upgrade the database schema first")
    parser.add_argument("--migrate-only", action="store_true", help="upgrade the database schema and exit")
    operators.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args()
    settings = settings_type()
    configure_logging(name, level=settings.log_level, file=settings.log_file)
    configure_telemetry(name, otlp_endpoint=settings.otlp_endpoint, console=settings.trace_console,
                        region=settings.region_name)
    if args.command == operators.COMMAND:
        raise SystemExit(operators.run_command(name, args, lambda stop: serve(settings, stop)))
    if args.migrate or args.migrate_only:
        migrate(settings.database.resolved_url(), migrations)
        if args.migrate_only:
            return
    run_until_signalled(lambda stop: serve(settings, stop))
