"""issuance's /metrics: applications counted by state from its database, its form.issued consumer (a poison event
is dead-lettered and the next form is still learnt), and its RPCs by outcome; scraped as Prometheus does. And its
access log's head, signed and published on JetStream (the audit anchor)."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator

import grpc
import pytest
from mynumber_events.notice import FORM_ISSUED
from mynumber_runtime.anchor import AnchorSettings, anchor_key, latest_anchor
from mynumber_runtime.audit import chain_head
from mynumber_runtime.db import create_async_engine
from mynumber_runtime.embedded import free_port
from mynumber_runtime.settings import MetricsSettings
from mynumber_runtime.testing.identities import nats_connect
from prometheus_client.parser import text_string_to_metric_families

from .conftest import Running, make_settings, request, running_issuance

pytestmark = pytest.mark.integration
Samples = list[tuple[str, dict[str, str], float]]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for n, ls, v in samples if n == name and labels.items() <= ls.items())


async def until(port: int, check, timeout: float = 30.0) -> Samples:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = await asyncio.to_thread(scrape, port)
        if check(got):
            return got
        assert asyncio.get_running_loop().time() < deadline, "the metrics never showed it"
        await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def metered(tmp_path_factory: pytest.TempPathFactory, database_url: str, nats_url: str
                  ) -> AsyncIterator[Running]:
    settings = make_settings(tmp_path_factory.mktemp("issuance-metrics"), database_url, nats_url)
    settings.metrics = MetricsSettings(listen=f"127.0.0.1:{free_port()}", refresh_interval_s=0.2)
    settings.audit_anchor = AnchorSettings(interval_s=0.2)
    async with running_issuance(settings, nats_url) as running:
        yield running


async def test_applications_by_state_consumer_and_rpcs_are_exposed(metered: Running) -> None:
    port = int(metered.settings.metrics.listen.rsplit(":", 1)[1])
    durable = metered.settings.consumer_name
    nc = await nats_connect("notice", metered.nats_url)
    await nc.jetstream().publish(FORM_ISSUED, b"\xff not an event")  # poison: dead-lettered, never retried
    await nc.close()
    form_id, _ = await metered.known_form()  # and the consumer goes on to the next form
    await metered.stub().SubmitApplication(request(form_id))
    with pytest.raises(grpc.aio.AioRpcError):
        await metered.stub().SubmitApplication(request(form_id, application_id="12"))
    await until(port, lambda s: total(s, "mynumber_issuance_applications", state="accepted") >= 1
                and total(s, "mynumber_consumer_dead_lettered_total", messaging_consumer_group_name=durable) >= 1
                and total(s, "mynumber_consumer_pending", messaging_consumer_group_name=durable) == 0)
    await until(port, lambda s: total(s, "rpc_server_calls_total", rpc_grpc_status="INVALID_ARGUMENT",
                                      mynumber_caller_kind="municipality") >= 1
                and total(s, "rpc_server_calls_total", rpc_grpc_status="OK") >= 1)


async def test_the_access_log_head_is_anchored_on_jetstream(metered: Running) -> None:
    from issuance.models import access_log

    form_id, _ = await metered.known_form()
    await metered.stub().SubmitApplication(request(form_id))
    key = anchor_key(bytes.fromhex(metered.settings.keys_file.read_text()), "issuance")
    engine = create_async_engine(metered.settings.database.resolved_url())
    nc = await nats_connect("operator", metered.nats_url)
    try:
        async with engine.connect() as conn:
            seq, digest = await chain_head(conn, access_log)  # type: ignore[misc]
        for _ in range(150):
            anchor = await latest_anchor(nc.jetstream(), "issuance", "access_log", key)
            if anchor is not None and anchor.seq >= seq:
                break
            await asyncio.sleep(0.1)
        assert anchor is not None and anchor.seq >= seq
        if anchor.seq == seq:
            assert anchor.head_hash == digest
    finally:
        await nc.close()
        await engine.dispose()
