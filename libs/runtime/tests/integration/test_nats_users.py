"""NATS users per service (`nats_identity`): nobody connects anonymously, each service publishes only its own
events, a consumer reads what it consumes and configures nothing of the producer's, and inboxes are private."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import uuid
from collections.abc import Iterator

import nats
import pytest
from mynumber_runtime import deadletters
from mynumber_runtime.embedded import EmbeddedNats
from mynumber_runtime.nats_identity import SERVICES
from mynumber_runtime.streams import (
    DEADLETTER_STREAM,
    ensure_deadletter_stream,
    ensure_stream,
    open_stream,
    stream_name,
)
from mynumber_runtime.testing.identities import nats_connect, session_nats_secrets
from mynumber_runtime.testing.servers import scratch_dir
from nats.js.api import StreamConfig

NUMBER_ASSIGNED = "mynumber.numbering.v1.number.assigned"


class Violations:
    """The errors the server sent this connection (a refused publish or subscription comes back only here)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def record(self, e: Exception) -> None:
        self.seen.append(str(e))

    def permission(self, subject: str) -> bool:
        # nats-py lower-cases the server's error text.
        return any("permissions violation" in s and subject.lower() in s.lower() for s in self.seen)

    async def wait_permission(self, subject: str) -> bool:
        """The error callback runs as its own task: wait for it (bounded), not for a duration."""
        for _ in range(100):
            if self.permission(subject):
                return True
            await asyncio.sleep(0.02)
        return False


@pytest.fixture(scope="module")
def nats_url() -> Iterator[str]:
    """A server of our own with the platform's users: these probes publish into the services' streams, which
    other tests read from the session's server."""
    root = scratch_dir("mynumber-nats-users-")
    try:
        with EmbeddedNats(root, secrets=session_nats_secrets()) as server:
            yield server.url
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def as_user(user: str, nats_url: str, errors: Violations | None = None) -> nats.NATS:
    return await nats_connect(user, nats_url, error_cb=(errors or Violations()).record, allow_reconnect=False)


async def test_an_anonymous_client_or_a_wrong_password_cannot_connect(nats_url: str) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(nats_url, allow_reconnect=False, max_reconnect_attempts=0)
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(nats_url, user="numbering", password="guessed", allow_reconnect=False,
                           max_reconnect_attempts=0)


async def test_each_service_publishes_its_own_events_into_its_own_stream(nats_url: str) -> None:
    for service in SERVICES:
        nc = await as_user(service, nats_url)
        try:
            js = nc.jetstream(timeout=5)
            assert await ensure_stream(js, service) == stream_name(service)
            ack = await js.publish(f"mynumber.{service}.v1.probe.published", b"x",
                                   headers={"Nats-Msg-Id": f"probe-{uuid.uuid4().hex}"})
            assert ack.stream == stream_name(service)
        finally:
            await nc.close()


async def test_a_service_cannot_publish_another_services_events_nor_its_dead_letters(nats_url: str) -> None:
    errors = Violations()
    nc = await as_user("notice", nats_url, errors)
    try:
        js = nc.jetstream(timeout=1)
        for subject in (NUMBER_ASSIGNED, "mynumber.deadletter.numbering.v1.number.assigned", "mynumber.jpki.x"):
            with pytest.raises(nats.errors.TimeoutError):  # no PubAck: the server never took it
                await js.publish(subject, b"forged", headers={"Nats-Msg-Id": f"f-{uuid.uuid4().hex}"})
            assert await errors.wait_permission(subject)
        # Its own dead letters it may write.
        await nc.publish("mynumber.deadletter.notice.v1.x", b"poison")
        await nc.flush()
        assert not errors.permission("mynumber.deadletter.notice")
    finally:
        await nc.close()


async def test_a_consumer_reads_the_subject_it_consumes_and_cannot_configure_the_producers_stream(
        nats_url: str) -> None:
    producer = await as_user("numbering", nats_url)
    errors = Violations()
    consumer = await as_user("notice", nats_url, errors)
    try:
        pjs = producer.jetstream(timeout=5)
        await ensure_stream(pjs, "numbering")
        mark = uuid.uuid4().hex
        await pjs.publish(NUMBER_ASSIGNED, mark.encode(), headers={"Nats-Msg-Id": f"assigned-{mark}"})
        cjs = consumer.jetstream(timeout=2)
        stream = await open_stream(cjs, "numbering")
        sub = await cjs.pull_subscribe(NUMBER_ASSIGNED, durable=f"notice-probe-{mark[:8]}", stream=stream)
        seen: list[bytes] = []
        while mark.encode() not in seen:
            msgs = await sub.fetch(100, timeout=5)
            for m in msgs:
                seen.append(m.data)
                await m.ack_sync()
        await sub.unsubscribe()
        # Not another subject of the producer, not its configuration, not another service's stream.
        with pytest.raises(nats.errors.TimeoutError):
            await cjs.pull_subscribe("mynumber.numbering.v1.number.changed", durable=f"x{mark[:8]}", stream=stream)
        with pytest.raises(nats.errors.TimeoutError):
            await cjs.update_stream(StreamConfig(name=stream, subjects=["mynumber.numbering.>"], max_msgs=1))
        with pytest.raises(nats.errors.TimeoutError):
            await cjs.delete_stream(stream)
        jpki = await as_user("jpki", nats_url)
        await ensure_stream(jpki.jetstream(timeout=5), "jpki")
        await jpki.close()
        with pytest.raises(nats.errors.TimeoutError):
            await cjs.pull_subscribe("mynumber.jpki.>", stream=stream_name("jpki"))
        assert await errors.wait_permission(f"$JS.API.STREAM.UPDATE.{stream}")
        assert await errors.wait_permission(f"$JS.API.STREAM.DELETE.{stream}")
        assert (await pjs.stream_info(stream)).config.max_msgs != 1
    finally:
        await consumer.close()
        await producer.close()


async def test_no_user_can_read_another_users_inbox(nats_url: str) -> None:
    errors = Violations()
    nc = await as_user("notice", nats_url, errors)
    try:
        for subject in ("_INBOX.>", "_INBOX.numbering.>", "mynumber.>"):
            await nc.subscribe(subject)
            await nc.flush()
            assert await errors.wait_permission(subject), errors.seen
    finally:
        await nc.close()


async def test_a_service_parks_lists_and_removes_its_own_dead_letters_and_cannot_park_anothers(nats_url: str) -> None:
    errors = Violations()
    nc = await as_user("notice", nats_url, errors)
    try:
        js = nc.jetstream(timeout=2)
        await ensure_deadletter_stream(js)
        await ensure_deadletter_stream(js)  # a second start finds it: creates nothing, reconfigures nothing
        mark = uuid.uuid4().hex
        await deadletters.park(js, service="notice", consumer="notice-number-assigned", reason="undecodable",
                               first_failure=dt.datetime.now(dt.UTC), payload=mark.encode(),
                               original_subject=NUMBER_ASSIGNED, original_stream="MYNUMBER_NUMBERING",
                               original_sequence=1, original_msg_id=None)
        mine = [x async for x in deadletters.letters(js, "notice") if x.payload == mark.encode()]
        assert len(mine) == 1
        await deadletters.remove(js, mine[0])
        assert not [x async for x in deadletters.letters(js, "notice") if x.payload == mark.encode()]
        with pytest.raises(nats.errors.TimeoutError):
            await deadletters.park(js, service="numbering", consumer="x", reason="forged",
                                   first_failure=dt.datetime.now(dt.UTC), payload=b"x",
                                   original_subject=NUMBER_ASSIGNED, original_stream="MYNUMBER_NUMBERING",
                                   original_sequence=2, original_msg_id=None)
        assert await errors.wait_permission("mynumber.deadletter.numbering.x")
        with pytest.raises(nats.errors.TimeoutError):
            await js.update_stream(StreamConfig(name=DEADLETTER_STREAM, subjects=["mynumber.deadletter.>"],
                                                max_msgs=1))
    finally:
        await nc.close()
