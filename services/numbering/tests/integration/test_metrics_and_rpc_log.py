"""The real entry point (`python -m numbering`) serves /metrics on loopback: per-method request counts by outcome
and caller kind move with calls, the database-fed gauges follow the registry, and every RPC leaves one log line
with its method, caller kind, outcome, duration and trace id, but no number and no 住民票コード."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator

import grpc
import pytest
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_runtime.testing.identities import credentials, grpc_channel
from prometheus_client.parser import text_string_to_metric_families

from .conftest import MUNICIPALITY, make_settings
from .test_numbering_api import new_code, req

ASSIGN = "/mynumber.numbering.v1.NumberingService/AssignNumber"
GRPC_BASE, METRICS_BASE = 50051, 9451  # `make run`'s numbering ports, which `mynumber status` adds the offset to


def free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_offset() -> int:
    """An offset that puts numbering's gRPC and metrics ports on free ports (as `make run` with that offset)."""
    for offset in random.sample(range(1000, 9000), 200):
        if free(GRPC_BASE + offset) and free(METRICS_BASE + offset):
            return offset
    raise RuntimeError("no free offset")


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none yet)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


class Service:
    def __init__(self, offset: int, log_file, proc: subprocess.Popen[bytes]) -> None:
        self.offset, self.log_file, self.proc = offset, log_file, proc
        self.grpc_port, self.metrics_port = GRPC_BASE + offset, METRICS_BASE + offset


@pytest.fixture(scope="module")
def service(tmp_path_factory, new_database, nats_url) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("numbering-metrics")
    settings = make_settings(tmp, new_database(), nats_url)
    offset, log_file = pick_offset(), tmp / "numbering.log"
    grpc_port, metrics_port = GRPC_BASE + offset, METRICS_BASE + offset
    env = dict(os.environ, NUMBERING_DATABASE__URL=settings.database.url, NUMBERING_NATS__URL=nats_url,
               NUMBERING_NATS__USER="numbering", NUMBERING_NATS__PASSWORD_FILE=str(settings.nats.password_file),
               NUMBERING_GRPC__LISTEN=f"127.0.0.1:{grpc_port}",
               NUMBERING_GRPC__TLS_CERT_FILE=str(settings.grpc.tls_cert_file),
               NUMBERING_GRPC__TLS_KEY_FILE=str(settings.grpc.tls_key_file),
               NUMBERING_GRPC__TLS_CLIENT_CA_FILE=str(settings.grpc.tls_client_ca_file),
               NUMBERING_METRICS__LISTEN=f"127.0.0.1:{metrics_port}", NUMBERING_METRICS__REFRESH_INTERVAL_S="0.2",
               NUMBERING_KEYS_FILE=str(settings.keys_file), NUMBERING_EVENTS_KEY_FILE=str(settings.events_key_file),
               NUMBERING_LOG_FILE=str(log_file), NUMBERING_REGION_NAME=f"t{uuid.uuid4().hex[:6]}")
    proc = subprocess.Popen([sys.executable, "-m", "numbering", "--migrate"], env=env, stderr=subprocess.DEVNULL)
    try:
        yield Service(offset, log_file, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


async def channel_to(service: Service, caller: str = f"municipality:{MUNICIPALITY}") -> grpc.aio.Channel:
    ch = grpc_channel(caller, f"127.0.0.1:{service.grpc_port}")
    await asyncio.wait_for(ch.channel_ready(), 60)
    return ch


async def eventually(check, timeout: float = 20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.2)


async def test_request_counts_move_per_method_and_outcome_with_the_caller_kind(service):
    async with await channel_to(service) as ch:
        stub = pb_grpc.NumberingServiceStub(ch)
        before = scrape(service.metrics_port)
        for _ in range(2):
            await stub.AssignNumber(req(new_code()))
        bad = new_code()
        with pytest.raises(grpc.aio.AioRpcError):  # a wrong check digit
            await stub.AssignNumber(req(bad[:-1] + str((int(bad[-1]) + 1) % 10)))
    name = "rpc_server_calls_total"
    ok = {"rpc_method": ASSIGN, "rpc_grpc_status": "OK", "mynumber_caller_kind": "municipality"}
    refused = {**ok, "rpc_grpc_status": "INVALID_ARGUMENT"}

    def counted() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        # A refusal is counted as its RPC ends, just after the client got the status: wait for it, bounded.
        after = scrape(service.metrics_port)
        assert value(after, name, **refused) - value(before, name, **refused) == 1
        return after

    after = await eventually(counted)
    assert value(after, name, **ok) - value(before, name, **ok) == 2
    durations = "rpc_server_duration_seconds_count"
    assert value(after, durations, **ok) - value(before, durations, **ok) == 2
    # Labels are method, status and caller kind: never the caller's id (a municipality code) nor a value.
    assert not any(MUNICIPALITY in v for (_, ls) in after for _, v in ls)


async def test_numbers_and_bulk_throughput_follow_the_registry(service):
    before = scrape(service.metrics_port)
    codes = [new_code() for _ in range(30)]

    async def chunks():
        yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=codes[:20])
        yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=[*codes[15:], "1"])

    async with await channel_to(service) as ch:
        async for _ in pb_grpc.NumberingServiceStub(ch).AssignNumbers(chunks()):
            pass
    after = scrape(service.metrics_port)
    bulk = "mynumber_numbering_bulk_items_total"
    assert value(after, bulk, outcome="assigned") - value(before, bulk, outcome="assigned") == 30
    assert value(after, bulk, outcome="already_assigned") - value(before, bulk, outcome="already_assigned") == 5
    assert value(after, bulk, outcome="failed") - value(before, bulk, outcome="failed") == 1
    floor = value(before, "mynumber_numbering_numbers", status="active") + 30

    def numbers_counted() -> None:
        now = scrape(service.metrics_port)
        assert value(now, "mynumber_numbering_numbers", status="active") >= floor
        assert any(n == "mynumber_outbox_backlog" and ("mynumber_service", "numbering") in ls for n, ls in now)

    await eventually(numbers_counted)


async def test_every_rpc_leaves_one_log_line_without_personal_data(service):
    code = new_code()
    async with await channel_to(service) as ch:
        number = (await pb_grpc.NumberingServiceStub(ch).AssignNumber(req(code))).individual_number
    async with await channel_to(service, "service:notice") as ch:  # not on AssignNumber's allow-list
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.NumberingServiceStub(ch).AssignNumber(req(new_code()))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    def lines() -> list[dict]:
        entries = [json.loads(x) for x in service.log_file.read_text(encoding="utf-8").splitlines() if x.strip()]
        rpc = [e for e in entries if e.get("logger") == "mynumber_runtime.rpc" and e.get("rpc_method") == ASSIGN]
        assert {(e["caller_kind"], e["outcome"]) for e in rpc} >= {("municipality", "OK"),
                                                                   ("service", "PERMISSION_DENIED")}
        return rpc

    rpc = await eventually(lines)
    for e in rpc:
        assert isinstance(e["duration_ms"], float) and e["duration_ms"] >= 0
        assert len(e["trace_id"]) == 32 and set(e) >= {"rpc_method", "caller_kind", "outcome", "duration_ms"}
    text = service.log_file.read_text(encoding="utf-8")
    assert number not in text and code not in text and MUNICIPALITY not in text.replace('"municipality"', "")


def mynumber(offset: int, *args: str) -> subprocess.CompletedProcess[str]:
    """`mynumber` as an operator types it, with a certificate of its own (here from the tests' CA)."""
    c = credentials("operator:sre")
    return subprocess.run([sys.executable, "-c", "from mynumber_cli.main import cli; cli()",
                           "--tls-ca", str(c.ca_file), "--tls-cert", str(c.cert_file), "--tls-key", str(c.key_file),
                           *args], env=dict(os.environ, MYNUMBER_PORT_OFFSET=str(offset)), capture_output=True,
                          text=True, timeout=60)


async def test_status_shows_health_and_the_counts_of_a_running_service(service):
    async with await channel_to(service) as ch:
        await pb_grpc.NumberingServiceStub(ch).AssignNumber(req(new_code()))

    def counted() -> subprocess.CompletedProcess[str]:
        run = mynumber(service.offset, "status", "--service", "numbering")
        assert run.returncode == 0, run.stderr
        return run

    run = await eventually(counted)
    lines = run.stdout.splitlines()
    assert lines[0].split()[:2] == ["numbering", "SERVING"]
    assert f"127.0.0.1:{service.grpc_port}" in lines[0] and f"127.0.0.1:{service.metrics_port}" in lines[0]
    figures = {line[:20].strip(): line[20:].strip() for line in lines[1:]}
    active = int(figures["numbers"].split("active ")[1].split(",")[0])
    assert active >= 1 and figures["outbox backlog"].isdigit()
    assert int(figures["rpc calls"].split()[0]) >= 1


def test_status_of_a_service_that_is_not_running_is_one_line_and_exit_2():
    run = mynumber(pick_offset(), "status", "--service", "numbering")
    assert run.returncode == 2
    assert run.stdout.split()[:2] == ["numbering", "UNAVAILABLE"]
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert "numbering UNAVAILABLE" in run.stderr
