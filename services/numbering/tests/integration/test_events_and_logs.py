"""Events leave through the outbox sealed; the service's own log lines never carry a number."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid

import grpc
import nats
import pytest
from cryptography.exceptions import InvalidTag
from google.protobuf.message import DecodeError
from mynumber.numbering.v1 import events_pb2 as ev
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_codes import ResidentCodeRule
from mynumber_events import numbering as events
from mynumber_runtime.embedded import free_port
from mynumber_runtime.streams import stream_name
from mynumber_runtime.testing.identities import grpc_channel, nats_connect
from stdnum.jp import in_

from .clear_text import found, found_in_bytes, normalized
from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY, make_settings
from .test_numbering_api import new_code, req

RULE = ResidentCodeRule()


async def read_events(nats_url: str, subject: str) -> list[bytes]:
    nc = await nats_connect("operator", nats_url)
    js = nc.jetstream()
    sub = await js.pull_subscribe(subject, stream=stream_name("numbering"))
    out = []
    try:
        while True:
            try:
                msgs = await sub.fetch(200, timeout=0.5)
            except (nats.errors.TimeoutError, TimeoutError):
                return out
            out += [m.data for m in msgs]
    finally:
        await nc.close()


async def wait_for_event(nats_url: str, subject: str, match) -> bytes:
    for _ in range(40):  # the relay polls every 0.2 s; give it up to ~20 s on a loaded machine
        for data in await read_events(nats_url, subject):
            if match(data):
                return data
        await asyncio.sleep(0.5)
    raise AssertionError(f"no matching event on {subject}")


async def test_number_assigned_is_published_with_the_number_sealed(numbering):
    code = new_code()
    number = (await numbering.stub().AssignNumber(req(code))).individual_number
    sealer = events.EventSealer(numbering.events_key)

    def ours(data: bytes) -> bool:  # other test modules' services publish on this server under other keys
        try:
            return code in events.open_number_assigned(sealer, ev.NumberAssigned.FromString(data)).resident_codes
        except (InvalidTag, DecodeError):  # another key's event, or another test's poison
            return False

    data = await wait_for_event(numbering.nats_url, events.NUMBER_ASSIGNED, ours)  # it arrived: now search it
    assert found_in_bytes(data, [number, code]) == []
    plain = events.open_number_assigned(sealer, ev.NumberAssigned.FromString(data))
    assert (list(plain.municipality_codes), list(plain.resident_codes), list(plain.individual_numbers)) == (
        [MUNICIPALITY], [code], [number])
    with pytest.raises(InvalidTag):  # sealed for its subject: not readable as another event type
        sealer.open(events.NUMBER_CHANGED, ev.NumberAssigned.FromString(data).sealed_assignments)


async def test_number_changed_is_published_with_old_and_new_sealed(numbering):
    code = new_code()
    old = (await numbering.stub().AssignNumber(req(code))).individual_number
    new = (await numbering.stub().ChangeNumber(pb.ChangeNumberRequest(
        municipality_code=MUNICIPALITY, resident_code=code, reason=pb.CHANGE_REASON_LEAKED_EX_OFFICIO))
    ).individual_number
    sealer = events.EventSealer(numbering.events_key)

    def ours(data: bytes) -> bool:
        try:
            return sealer.open_identity(events.NUMBER_CHANGED, ev.NumberChanged.FromString(data).sealed_identity
                               ).resident_code == code
        except (InvalidTag, DecodeError):  # another key's event, or another test's poison
            return False

    data = await wait_for_event(numbering.nats_url, events.NUMBER_CHANGED, ours)  # it arrived: now search it
    assert found_in_bytes(data, [old, new, code]) == []
    e = ev.NumberChanged.FromString(data)
    identity = sealer.open_identity(events.NUMBER_CHANGED, e.sealed_identity)
    assert (identity.individual_number, identity.previous) == (new, old)
    assert e.reason == pb.CHANGE_REASON_LEAKED_EX_OFFICIO and e.municipality_code == MUNICIPALITY


async def our_events(nats_url: str, sealer: events.EventSealer) -> dict[str, list[bytes]]:
    """The number.assigned and number.changed events sealed under `sealer`'s key (the stream is shared by the
    services of other test modules, each under its own key)."""

    def assigned(data: bytes) -> bool:
        try:
            events.open_number_assigned(sealer, ev.NumberAssigned.FromString(data))
            return True
        except (InvalidTag, DecodeError):
            return False

    def changed(data: bytes) -> bool:
        try:
            sealer.open_identity(events.NUMBER_CHANGED, ev.NumberChanged.FromString(data).sealed_identity)
            return True
        except (InvalidTag, DecodeError):
            return False

    return {events.NUMBER_ASSIGNED: [d for d in await read_events(nats_url, events.NUMBER_ASSIGNED) if assigned(d)],
            events.NUMBER_CHANGED: [d for d in await read_events(nats_url, events.NUMBER_CHANGED) if changed(d)]}


async def test_no_number_or_code_appears_in_the_service_logs_or_in_clear_in_its_events(tmp_path, new_database,
                                                                                        nats_url):
    """The real entry point (`python -m numbering --migrate`) at DEBUG, through successes and every kind of
    failure. What it writes to stderr (where a container's logs go) and to its log file is read back: first that
    it logged every RPC, then that no number or code used appears in it in any form. Its events are counted
    first, then searched the same way."""
    settings = make_settings(tmp_path, new_database(), nats_url)
    log_file, stderr_file = tmp_path / "numbering.log", tmp_path / "numbering.stderr"
    port = free_port()
    env = dict(os.environ, NUMBERING_DATABASE__URL=settings.database.url, NUMBERING_NATS__URL=nats_url,
               NUMBERING_NATS__USER="numbering", NUMBERING_NATS__PASSWORD_FILE=str(settings.nats.password_file),
               NUMBERING_GRPC__LISTEN=f"127.0.0.1:{port}",
               NUMBERING_GRPC__TLS_CERT_FILE=str(settings.grpc.tls_cert_file),
               NUMBERING_GRPC__TLS_KEY_FILE=str(settings.grpc.tls_key_file),
               NUMBERING_GRPC__TLS_CLIENT_CA_FILE=str(settings.grpc.tls_client_ca_file),
               NUMBERING_KEYS_FILE=str(settings.keys_file), NUMBERING_EVENTS_KEY_FILE=str(settings.events_key_file),
               NUMBERING_LOG_FILE=str(log_file), NUMBERING_LOG_LEVEL="DEBUG",
               NUMBERING_REGION_NAME=f"t{uuid.uuid4().hex[:6]}")
    sealer = events.EventSealer(bytes.fromhex(settings.events_key_file.read_text()))
    issued: list[str] = []
    codes = [new_code() for _ in range(50)]
    bad_check = codes[0][:-1] + str((int(codes[0][-1]) + 1) % 10)
    unknown = new_code()
    rpcs = 0
    with stderr_file.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "numbering", "--migrate"], env=env, stderr=stderr)
        try:
            async with grpc_channel(f"municipality:{MUNICIPALITY}", f"127.0.0.1:{port}") as ch:
                await asyncio.wait_for(ch.channel_ready(), 60)
                stub = pb_grpc.NumberingServiceStub(ch)
                for c in codes[:5]:
                    issued.append((await stub.AssignNumber(req(c))).individual_number)

                async def bulk():
                    yield pb.AssignNumbersRequest(municipality_code=MUNICIPALITY, resident_codes=[*codes[5:], "1"])

                async for r in stub.AssignNumbers(bulk()):
                    issued += [n for n in r.individual_numbers if n]
                issued.append((await stub.ChangeNumber(pb.ChangeNumberRequest(
                    municipality_code=MUNICIPALITY, resident_code=codes[0],
                    reason=pb.CHANGE_REASON_LEAKED_ON_REQUEST))).individual_number)
                rpcs += 7
                grouped = f"{issued[1][:4]} {issued[1][4:8]} {issued[1][8:]}"
                failures = [
                    stub.AssignNumber(req(bad_check)),
                    stub.ChangeNumber(pb.ChangeNumberRequest(municipality_code=MUNICIPALITY, resident_code=codes[1],
                                                             reason=pb.CHANGE_REASON_LEAKED_ON_REQUEST,
                                                             reason_detail=f"leaked {issued[1]}")),
                    stub.ChangeNumber(pb.ChangeNumberRequest(municipality_code=MUNICIPALITY, resident_code=codes[2],
                                                             reason=pb.CHANGE_REASON_LEAKED_ON_REQUEST,
                                                             reason_detail=f"leaked {grouped}")),
                    pb_grpc.SectorCodeServiceStub(ch).IssueSectorCode(pb.IssueSectorCodeRequest(
                        agency_code="AG", individual_number=issued[2])),
                    stub.LookupNumber(pb.LookupNumberRequest(municipality_code=MUNICIPALITY, resident_code=unknown)),
                    stub.LookupNumber(pb.LookupNumberRequest(municipality_code=OTHER_MUNICIPALITY,
                                                             resident_code=codes[3])),
                ]
                for f in failures:
                    with pytest.raises(grpc.aio.AioRpcError):
                        await f
                rpcs += len(failures)
            # The events must have arrived before their absence of clear text means anything: 5 single
            # assignments, 1 bulk chunk, 1 change.
            for _ in range(40):
                published = await our_events(nats_url, sealer)
                if [len(v) for v in published.values()] == [6, 1]:
                    break
                await asyncio.sleep(0.5)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    assert len(issued) == 51
    assert [len(v) for v in published.values()] == [6, 1]
    secrets = [*issued, *codes, bad_check, unknown]
    assert not [s for data in (*published[events.NUMBER_ASSIGNED], *published[events.NUMBER_CHANGED])
                for s in found_in_bytes(data, secrets)]
    stderr_lines = [line for line in stderr_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    file_lines = log_file.read_text(encoding="utf-8").splitlines()
    # Anchors: the service really wrote its logs where they are read, one line per RPC at least.
    for lines in (stderr_lines, file_lines):
        records = [json.loads(line) for line in lines]
        assert sum(r.get("logger") == "mynumber_runtime.rpc" for r in records) >= rpcs > 0
        assert any(r["msg"] == "numbering serving" for r in records)
        assert any(r["msg"] == "numbering stopping" for r in records)
    text = "\n".join(stderr_lines + file_lines)
    assert found(text, secrets) == []
    runs = re.findall(r"(?<!\d)\d{12}(?!\d)", normalized(text))
    assert [r for r in runs if in_.is_valid(r)] == []
