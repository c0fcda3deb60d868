"""Poison events go to the dead-letter stream with their reason, and an operator replays them after a fix."""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa
from mynumber_runtime import operators
from mynumber_runtime.consumer import ConsumerUnhealthy, IdempotentConsumer, PoisonEvent, processed_events_table
from mynumber_runtime.db import create_async_engine, make_metadata
from mynumber_runtime.deadletters import H_CONSUMER, H_REASON, H_SEQUENCE, H_STREAM, H_SUBJECT, letters
from mynumber_runtime.grpc_server import PlatformServer
from mynumber_runtime.host import host
from mynumber_runtime.metrics import Snapshots, exposition
from mynumber_runtime.settings import MetricsSettings
from mynumber_runtime.streams import DEADLETTER_STREAM
from mynumber_runtime.testing.identities import RUNTIME_TEST_USER, grpc_server_settings, nats_connect
from nats.js.api import StreamConfig
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.dialects.postgresql import insert


def samples(text: str, service: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """A /metrics exposition's samples of one service, by name."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for x in family.samples:
            if x.labels.get("mynumber_service") == service:
                out.setdefault(x.name, []).append((x.labels, x.value))
    return out


@pytest.fixture
async def world(new_database, nats_url):
    """A schema, a stream with its subject, and a service name of this test's own."""
    engine = create_async_engine(new_database())
    schema = f"s{uuid.uuid4().hex[:8]}"
    md = make_metadata(schema)
    processed = processed_events_table(md)
    effects = sa.Table("effects", md, sa.Column("k", sa.Text, primary_key=True),
                       sa.Column("n", sa.Integer, nullable=False))
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        await conn.run_sync(md.create_all)
    nc = await nats_connect(RUNTIME_TEST_USER, nats_url)
    js = nc.jetstream()
    stream = f"DL_{uuid.uuid4().hex[:6].upper()}"
    subj = f"runtimetest.{stream.lower()}.happened"
    await js.add_stream(StreamConfig(name=stream, subjects=[subj]))
    service = f"svc{uuid.uuid4().hex[:6]}"
    yield {"engine": engine, "processed": processed, "effects": effects, "js": js, "stream": stream,
           "subject": subj, "service": service}
    await nc.close()
    await engine.dispose()


def make_consumer(w, handler, **kw) -> IdempotentConsumer:
    return IdempotentConsumer(js=w["js"], engine=w["engine"], table=w["processed"], stream=w["stream"],
                              durable="things", filter_subject=w["subject"], handler=handler, service=w["service"],
                              backoff_initial_s=0.01, backoff_max_s=0.05, **kw)


def strict_handler(w, *, fixed: bool):
    """Refuses payloads starting with `bad` until the fix ships (`fixed`)."""

    async def handle(conn, msg):
        if msg.data.startswith(b"bad") and not fixed:
            raise PoisonEvent("payload: kind not known")
        await conn.execute(insert(w["effects"]).values(k=msg.data.decode(), n=1)
                           .on_conflict_do_update(index_elements=["k"], set_={"n": w["effects"].c.n + 1}))

    return handle


async def drain(consumer: IdempotentConsumer) -> None:
    while await consumer.run_once(timeout=0.3):
        pass


async def effects(w) -> dict[str, int]:
    async with w["engine"].connect() as conn:
        return dict((await conn.execute(sa.select(w["effects"].c.k, w["effects"].c.n))).all())


async def run_command(w, consumer: IdempotentConsumer, command: operators.DeadLetterCommand) -> int:
    """The dead-letter command through a service's wiring: host() is handed the consumer's loop."""

    async def serve(stop):
        server = PlatformServer(grpc_server_settings("service:runtimetest"), [])
        await host(w["service"], server, loops=[consumer.run], stop=stop)

    return await operators.run_async(w["service"], command, serve, err=io.StringIO())


async def test_a_poison_event_is_parked_with_its_reason_and_the_stream_moves_on(world):
    w = world
    js = w["js"]
    await js.publish(w["subject"], b"good-1", headers={"Nats-Msg-Id": "p.1"})
    await js.publish(w["subject"], b"bad-2", headers={"Nats-Msg-Id": "p.2"})
    consumer = make_consumer(w, strict_handler(w, fixed=False))
    await drain(consumer)
    assert await effects(w) == {"good-1": 1}
    parked = [x async for x in letters(js, w["service"])]
    assert [(x.consumer, x.reason, x.original_msg_id, x.payload) for x in parked] == [
        ("things", "payload: kind not known", "p.2", b"bad-2")]
    raw = await js.get_msg(DEADLETTER_STREAM, seq=parked[0].id)
    assert raw.subject == f"mynumber.deadletter.{w['service']}.things"
    assert raw.headers[H_SUBJECT] == w["subject"] and raw.headers[H_STREAM] == w["stream"]
    assert raw.headers[H_SEQUENCE] == "2" and raw.headers[H_CONSUMER] == "things"
    assert raw.headers[H_REASON] == "payload: kind not known" and raw.headers["Nats-Msg-Id"]
    assert consumer.dead_lettered == 1 and consumer.failures == 0
    info = await js.consumer_info(w["stream"], "things")
    assert info.num_pending == 0 and info.num_ack_pending == 0  # the original is acknowledged
    await consumer.check()  # a parked poison event is progress, not a failure


async def test_an_undecodable_protobuf_is_poison_too(world):
    w = world
    from google.protobuf import struct_pb2

    async def handle(conn, msg):
        struct_pb2.Struct.FromString(msg.data)

    await w["js"].publish(w["subject"], b"\xff\xff\xff", headers={"Nats-Msg-Id": "u.1"})
    consumer = make_consumer(w, handle)
    await drain(consumer)
    parked = [x async for x in letters(w["js"], w["service"])]
    assert [x.reason for x in parked] == ["payload: not a valid protobuf message"]


async def test_parking_the_same_delivery_twice_keeps_one_letter(world):
    w = world
    await w["js"].publish(w["subject"], b"bad-1", headers={"Nats-Msg-Id": "d.1"})
    consumer = make_consumer(w, strict_handler(w, fixed=False))
    sub = await consumer._subscription()
    (msg,) = await sub.fetch(1, timeout=2)
    await consumer._park(msg, "payload: kind not known")
    msg._ackd = False  # as if the consumer had died between parking and the ack: the redelivery parks it again
    await consumer._park(msg, "payload: kind not known")
    assert len([x async for x in letters(w["js"], w["service"])]) == 1


async def test_an_operator_replays_a_dead_letter_after_the_fix_and_it_is_handled_once(world):
    w = world
    js = w["js"]
    for i, payload in enumerate([b"bad-a", b"bad-b", b"good-c"]):
        await js.publish(w["subject"], payload, headers={"Nats-Msg-Id": f"r.{i}"})
    await drain(make_consumer(w, strict_handler(w, fixed=False)))
    assert len([x async for x in letters(js, w["service"])]) == 2

    out = io.StringIO()
    broken = make_consumer(w, strict_handler(w, fixed=False))
    listed = operators.DeadLetterCommand(action="list", out=out)
    assert await run_command(w, broken, listed) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split("\t") == ["id", "consumer", "first_failure", "original_subject", "reason"]
    assert [ln.split("\t")[1::3] for ln in lines[1:]] == [["things", "payload: kind not known"]] * 2
    assert "bad-a" not in out.getvalue()  # no payload in the listing

    # Replayed before the fix: refused again, parked anew with its reason, exit status 1.
    out = io.StringIO()
    assert await run_command(w, broken, operators.DeadLetterCommand(action="replay", replay_all=True, out=out)) == 1
    assert "poison\tpayload: kind not known" in out.getvalue()
    still = [x async for x in letters(js, w["service"])]
    assert len(still) == 2 and all(x.reason == "payload: kind not known" for x in still)

    # After the fix: one by id, then the rest.
    fixed = make_consumer(w, strict_handler(w, fixed=True))
    out = io.StringIO()
    assert await run_command(w, fixed, operators.DeadLetterCommand(action="replay", letter_id=still[0].id,
                                                                   out=out)) == 0
    assert await effects(w) == {"bad-a": 1, "good-c": 1}
    assert await run_command(w, fixed, operators.DeadLetterCommand(action="replay", replay_all=True,
                                                                   out=io.StringIO())) == 0
    assert await effects(w) == {"bad-a": 1, "bad-b": 1, "good-c": 1}
    assert [x async for x in letters(js, w["service"])] == []
    async with w["engine"].connect() as conn:
        ids = set((await conn.execute(sa.select(w["processed"].c.event_id))).scalars())
    assert {"r.0", "r.1", "r.2"} <= ids  # through the idempotent path, under the original ids


async def test_replaying_an_unknown_letter_is_one_line_and_status_2(world):
    w = world
    err = io.StringIO()

    async def serve(stop):
        server = PlatformServer(grpc_server_settings("service:runtimetest"), [])
        await host(w["service"], server, loops=[make_consumer(w, strict_handler(w, fixed=True)).run], stop=stop)

    code = await operators.run_async(w["service"], operators.DeadLetterCommand(action="replay", letter_id=10**9),
                                     serve, err=err)
    assert code == 2
    assert err.getvalue() == f"{w['service']} dead-letters: no dead letter {10**9} for {w['service']}\n"


async def test_a_handler_that_keeps_failing_makes_the_service_unhealthy_and_keeps_the_event(world):
    w = world
    await w["js"].publish(w["subject"], b"k", headers={"Nats-Msg-Id": "h.1"})
    state = {"down": True}

    async def handle(conn, msg):
        if state["down"]:
            raise ConnectionError("downstream unavailable")
        await conn.execute(sa.insert(w["effects"]).values(k="k", n=1))

    consumer = make_consumer(w, handle, unhealthy_after_failures=3)
    server = PlatformServer(grpc_server_settings("service:runtimetest"), [])
    import asyncio

    stop = asyncio.Event()
    ready = asyncio.Event()
    hosting = asyncio.create_task(host(w["service"], server, loops=[consumer.run], stop=stop, ready=ready))
    await ready.wait()
    try:
        assert "consumer things" in server.checks  # host() joined the consumer's check to the server's
        while consumer.failures < 3:
            await asyncio.sleep(0.02)
        with pytest.raises(ConsumerUnhealthy):
            await consumer.check()
        assert not await server.run_checks()
        info = await w["js"].consumer_info(w["stream"], "things")
        assert info.num_ack_pending + info.num_pending == 1  # kept, not given up
        state["down"] = False
        while not consumer.handled:
            await asyncio.sleep(0.02)
        assert await server.run_checks()
    finally:
        stop.set()
        await hosting
    assert await effects(w) == {"k": 1}
    points = samples(exposition().decode(), w["service"])
    assert sum(v for _, v in points["mynumber_consumer_failures_total"]) >= 3
    assert sum(v for _, v in points["mynumber_consumer_handled_total"]) == 1
    assert sum(v for _, v in points["mynumber_consumer_redeliveries_total"]) >= 3
    assert "mynumber_consumer_pending" in points and "mynumber_consumer_healthy" in points
    labels = {k for ps in points.values() for ls, _ in ps for k in ls}
    assert labels <= {"mynumber_service", "messaging_consumer_group_name", "error_type"}


async def test_dead_letters_consumer_backlog_and_redeliveries_move_on_the_services_metrics_endpoint(world):
    """Scraped over HTTP as Prometheus does: the dead-letter gauge counts what was parked, the backlog what waits,
    the redelivery counter the retries of an event whose handling failed once."""
    import asyncio
    import urllib.request

    from mynumber_runtime.embedded import free_port

    w = world
    js = w["js"]
    failed_once: set[bytes] = set()
    release = asyncio.Event()

    async def handle(conn, msg):
        if msg.data.startswith(b"bad"):
            raise PoisonEvent("payload: kind not known")
        if msg.data.startswith(b"flaky") and msg.data not in failed_once:
            failed_once.add(msg.data)
            raise ConnectionError("downstream unavailable")
        if msg.data.startswith(b"slow"):
            await release.wait()  # holds the consumer: what is published after it waits

    consumer = make_consumer(w, handle, lag_refresh_s=0.05)
    port = free_port()
    stop, ready = asyncio.Event(), asyncio.Event()
    hosting = asyncio.create_task(host(
        w["service"], PlatformServer(grpc_server_settings("service:runtimetest"), []), loops=[consumer.run],
        stop=stop, ready=ready, metrics=MetricsSettings(listen=f"127.0.0.1:{port}"),
        gauges=Snapshots(interval_s=0.05)))
    await ready.wait()

    def scrape() -> dict[str, list[tuple[dict[str, str], float]]]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            return samples(r.read().decode(), w["service"])

    async def until(check) -> dict[str, list[tuple[dict[str, str], float]]]:
        for _ in range(200):
            got = await asyncio.to_thread(scrape)
            if check(got):
                return got
            await asyncio.sleep(0.05)
        raise AssertionError(f"metrics never matched: {got}")

    def total(got, name: str) -> float:
        return sum(v for _, v in got.get(name, []))

    try:
        await until(lambda m: total(m, "mynumber_deadletters") == 0 and "mynumber_deadletters" in m)
        await js.publish(w["subject"], b"bad-1", headers={"Nats-Msg-Id": "m.1"})
        await js.publish(w["subject"], b"flaky-2", headers={"Nats-Msg-Id": "m.2"})
        got = await until(lambda m: total(m, "mynumber_deadletters") == 1
                          and total(m, "mynumber_consumer_redeliveries_total") >= 1
                          and total(m, "mynumber_consumer_handled_total") == 1)
        [(labels, _)] = got["mynumber_deadletters"]
        assert labels["messaging_consumer_group_name"] == "things"
        await js.publish(w["subject"], b"slow-3", headers={"Nats-Msg-Id": "m.3"})
        for i in range(4, 9):
            await js.publish(w["subject"], f"later-{i}".encode(), headers={"Nats-Msg-Id": f"m.{i}"})
        await until(lambda m: total(m, "mynumber_consumer_pending") >= 5)
        release.set()
        await until(lambda m: total(m, "mynumber_consumer_pending") == 0)
    finally:
        release.set()
        stop.set()
        await asyncio.wait_for(hosting, 30)
    with pytest.raises(OSError):  # the metrics listener stopped with the service
        scrape()
