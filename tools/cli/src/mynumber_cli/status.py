"""`mynumber status`: each service's health (grpc.health.v1 over mTLS, as the CLI's identity) and the counts its
`/metrics` shows: numbers, envelopes by state, certificates by status, outbox backlog, consumer backlog, dead
letters. What the figures mean and what to do about them: docs/operations.md.

Ports follow `make run`'s: each base port plus `MYNUMBER_PORT_OFFSET` (tools/devstack moves them the same way).
"""

from __future__ import annotations

import asyncio
import os
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import click
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from mynumber_runtime.grpc_server import client_channel
from prometheus_client.parser import text_string_to_metric_families

from mynumber_cli.base import GRPC_PORTS, CliError, Ctx, service_target

# Who the CLI is when asked for status on a local run without --as: an operator (health and /metrics need no
# particular grant; the certificate only proves the caller is one of ours).
DEFAULT_IDENTITY = "operator:status"


@dataclass(frozen=True)
class ServicePorts:
    name: str
    grpc_port: int
    metrics_port: int


# `/metrics` of each service under `make run` (tools/devstack/src/mynumber_devstack/__main__.py SERVICES), before
# MYNUMBER_PORT_OFFSET moves them as it moves the gRPC ports (base.GRPC_PORTS).
METRICS_PORTS = {"numbering": 9451, "notice": 9453, "jpki": 9454, "issuance": 9455, "gateway": 9456}
SERVICES = tuple(ServicePorts(name, port, METRICS_PORTS[name]) for name, port in GRPC_PORTS.items())

Samples = list[tuple[str, dict[str, str], float]]


def port_offset() -> int:
    raw = os.environ.get("MYNUMBER_PORT_OFFSET") or "0"
    try:
        return int(raw)
    except ValueError:
        raise click.UsageError("MYNUMBER_PORT_OFFSET is not a number") from None


async def _health(c: Ctx, target: str) -> str:
    creds = c.credentials()
    async with client_channel(target, ca_file=creds.ca_file, cert_file=creds.cert_file,
                              key_file=creds.key_file) as ch:
        try:
            r = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(),
                                                           timeout=min(c.timeout, 10.0))
        except grpc.aio.AioRpcError as e:
            return str(e.code().name)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(r.status))


def _scrape(url: str, timeout: float) -> Samples:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        text = r.read().decode("utf-8")
    return [(s.name, dict(s.labels), float(s.value)) for f in text_string_to_metric_families(text) for s in f.samples]


def _pick(samples: Samples, name: str, **labels: str) -> Iterable[tuple[dict[str, str], float]]:
    return ((ls, v) for n, ls, v in samples if n == name and all(ls.get(k) == x for k, x in labels.items()))


def _by(samples: Samples, name: str, keys: tuple[str, ...], **labels: str) -> str:
    groups: dict[str, float] = defaultdict(float)
    for ls, v in _pick(samples, name, **labels):
        groups["/".join(ls.get(k, "?") for k in keys)] += v
    if not groups:
        return "-"
    return ", ".join(f"{k} {int(v)}" for k, v in sorted(groups.items()))


def report(name: str, samples: Samples) -> list[tuple[str, str]]:
    """The figures shown for one service, as (what, value) rows."""
    svc = {"mynumber_service": name}
    rows: list[tuple[str, str]] = []
    if name == "numbering":
        rows.append(("numbers", _by(samples, "mynumber_numbering_numbers", ("status",))))
    if name == "notice":
        rows.append(("envelopes", _by(samples, "mynumber_notice_envelopes", ("state",))))
    if name == "jpki":
        rows.append(("certificates", _by(samples, "mynumber_jpki_certificates", ("ca_kind", "status"))))
    if name == "issuance":
        rows.append(("applications", _by(samples, "mynumber_issuance_applications", ("state",))))
    rows.append(("outbox backlog", _by(samples, "mynumber_outbox_backlog", ("mynumber_service",), **svc)
                 .removeprefix(f"{name} ")))
    consumer = ("messaging_consumer_group_name",)
    if any(True for _ in _pick(samples, "mynumber_consumer_pending", **svc)):
        rows.append(("consumer backlog", _by(samples, "mynumber_consumer_pending", consumer, **svc)))
    if any(True for _ in _pick(samples, "mynumber_deadletters", **svc)):
        rows.append(("dead letters", _by(samples, "mynumber_deadletters", consumer, **svc)))
    calls = list(_pick(samples, "rpc_server_calls_total"))
    failed = sum(v for ls, v in calls if ls.get("rpc_grpc_status") != "OK")
    rows.append(("rpc calls", f"{int(sum(v for _, v in calls))} ({int(failed)} failed)"))
    return rows


async def _one(c: Ctx, svc: ServicePorts, host: str | None, offset: int) -> tuple[list[str], str | None]:
    """The lines for one service, and what is wrong with it (None when it serves and shows its metrics)."""
    # gRPC where the other commands find it (MYNUMBER_<SVC>_TARGET, else `make run`'s port); metrics beside it.
    target = f"{host}:{svc.grpc_port + offset}" if host else service_target(svc.name)
    metrics = f"{target.rpartition(':')[0]}:{svc.metrics_port + offset}"
    health = await _health(c, target)
    lines = [f"{svc.name:<10} {health:<16} gRPC {target}  metrics http://{metrics}/metrics"]
    problem = None if health == "SERVING" else f"{svc.name} {health}"
    try:
        samples = await asyncio.to_thread(_scrape, f"http://{metrics}/metrics", min(c.timeout, 10.0))
    except (urllib.error.URLError, OSError, ValueError) as e:
        why = getattr(e, "reason", None) or type(e).__name__
        lines.append(f"  {'metrics':<18} unreachable ({why})")
        return lines, problem or f"{svc.name} metrics unreachable"
    lines += [f"  {what:<18} {value}" for what, value in report(svc.name, samples)]
    return lines, problem


@click.command()
@click.option("--service", "names", multiple=True, type=click.Choice([s.name for s in SERVICES]),
              help="only this service (repeatable; default: all)")
@click.option("--host", default=None, help="where the services listen (default: 127.0.0.1, or each service's "
                                           "MYNUMBER_<SERVICE>_TARGET)")
@click.pass_obj
def status(c: Ctx, names: tuple[str, ...], host: str | None) -> None:
    """Health and counts of every service (exit 2 when one is not serving or cannot be reached)."""
    if not (c.identity or c.ca or c.cert or c.key):
        c.identity = DEFAULT_IDENTITY
    c.credentials()  # a usage error (no dev CA, half the TLS files) before any call
    offset = port_offset()
    chosen = [s for s in SERVICES if not names or s.name in names]

    async def run() -> list[tuple[list[str], str | None]]:
        return list(await asyncio.gather(*(_one(c, s, host, offset) for s in chosen)))

    problems = []
    for lines, problem in asyncio.run(run()):
        click.echo("\n".join(lines))
        if problem:
            problems.append(problem)
    if problems:
        raise CliError("not all services are well: " + "; ".join(problems))
