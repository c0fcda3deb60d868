"""notice's /metrics: envelopes counted by state from its database, its number.assigned consumer's backlog and dead
letters, and its RPCs by method, outcome and caller kind; scraped over HTTP as Prometheus does."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator

import pytest
from mynumber_events.numbering import NUMBER_ASSIGNED
from mynumber_runtime.embedded import free_port
from mynumber_runtime.settings import MetricsSettings
from mynumber_runtime.testing.identities import nats_connect
from prometheus_client.parser import text_string_to_metric_families

from .conftest import Running, make_settings, running_notice

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
async def notice(tmp_path_factory: pytest.TempPathFactory, database_url: str, nats_url: str
                 ) -> AsyncIterator[Running]:
    """conftest's notice, with its metrics on a known loopback port and refreshed every 0.2 s."""
    settings = make_settings(tmp_path_factory.mktemp("notice-metrics"), database_url, nats_url)
    settings.metrics = MetricsSettings(listen=f"127.0.0.1:{free_port()}", refresh_interval_s=0.2)
    async with running_notice(settings, nats_url) as running:
        yield running


def port_of(notice: Running) -> int:
    return int(notice.settings.metrics.listen.rsplit(":", 1)[1])


async def test_envelopes_are_counted_by_state_as_they_move(notice):
    port = port_of(notice)
    before = await asyncio.to_thread(scrape, port)
    await notice.posted_household(2)
    got = await until(port, lambda m: total(m, "mynumber_notice_envelopes", state="posted")
                      >= total(before, "mynumber_notice_envelopes", state="posted") + 1)
    submit = "/mynumber.notice.v1.NoticeService/SubmitMailingList"
    assert total(got, "rpc_server_calls_total", rpc_method=submit, rpc_grpc_status="OK",
                 mynumber_caller_kind="municipality") >= 1
    assert total(got, "mynumber_outbox_backlog", mynumber_service="notice") >= 0
    assert any(n == "mynumber_outbox_backlog" for n, _, _ in got)


async def test_a_poison_number_assigned_shows_as_a_dead_letter_of_notices_consumer(notice):
    port = port_of(notice)
    durable = {"mynumber_service": "notice", "messaging_consumer_group_name": notice.settings.consumer_name}
    await until(port, lambda m: any(n == "mynumber_deadletters" and durable.items() <= ls.items() for n, ls, _ in m))
    # Drained first: the stream may hold other modules' events, which this consumer parks too (other keys).
    await until(port, lambda m: total(m, "mynumber_consumer_pending", **durable) == 0)
    before = await asyncio.to_thread(scrape, port)
    nc = await nats_connect("numbering", notice.nats_url)
    try:
        await nc.jetstream().publish(NUMBER_ASSIGNED, b"\xff not a protobuf message")
    finally:
        await nc.close()
    await until(port, lambda m: total(m, "mynumber_deadletters", **durable)
                > total(before, "mynumber_deadletters", **durable))
    assert any(n == "mynumber_consumer_pending" and durable.items() <= ls.items()
               for n, ls, _ in await asyncio.to_thread(scrape, port))
