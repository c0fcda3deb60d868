"""The fault test of issue 9: PostgreSQL killed with SIGKILL in the middle of bulk numbering.

The platform runs as `make run` runs it (the devstack launcher, its own free ports and offset, a temporary data
folder, stopped by its pid). A municipality sends its mailing list (one household per resident, so one envelope per
resident), then numbers the whole register through the bulk stream; once part of it is written, PostgreSQL's
postmaster gets SIGKILL. The launcher must notice and restart it; the client retries what failed (it sends the
register again: numbering is idempotent by construction, the same 住民票コード always gives the same number).
Afterwards: every resident has exactly one number, exactly one envelope, and no event was dead-lettered."""

from __future__ import annotations

import asyncio
import csv
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from mynumber.notice.v1 import notice_pb2 as npb
from mynumber.notice.v1 import notice_pb2_grpc as npb_grpc
from mynumber_devstack.__main__ import free_offsets
from mynumber_runtime.devca import DevCA
from mynumber_runtime.embedded import free_port
from mynumber_runtime.grpc_server import client_channel
from mynumber_runtime.testing.servers import scratch_dir
from stdnum.jp import in_

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
MUNICIPALITY = "131016"  # 千代田区
RESIDENTS = 20_000
KILL_AFTER = 2_000  # numbers written before PostgreSQL is killed: well inside the bulk


class Platform:
    """The devstack launcher as a child, its output collected line by line."""

    def __init__(self, data: Path) -> None:
        self.data = data
        offset, http_offset = free_offsets()  # every service port (gRPC, metrics, HTTP) free
        self.ports = {"pg": free_port(), "nats": free_port(), "offset": offset, "http_offset": http_offset}
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mynumber_devstack", "run", "--data-dir", str(data),
             "--pg-port", str(self.ports["pg"]), "--nats-port", str(self.ports["nats"]),
             "--port-offset", str(self.ports["offset"]), "--http-port-offset", str(self.ports["http_offset"])],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, prefix: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith(prefix) for line in self.lines):
            assert self.proc.poll() is None, "the launcher exited:\n" + "\n".join(self.lines[-40:])
            assert time.monotonic() < deadline, f"no {prefix!r} line:\n" + "\n".join(self.lines[-40:])
            time.sleep(0.1)

    def target(self, grpc_port: int) -> str:
        return f"127.0.0.1:{grpc_port + self.ports['offset']}"

    def env(self) -> dict[str, str]:
        """What the CLI needs to reach this platform (the offset; the data folder for its certificates)."""
        return {**os.environ, "MYNUMBER_PORT_OFFSET": str(self.ports["offset"]), "MYNUMBER_DATA_DIR": str(self.data)}

    def stop(self) -> str:
        # The launcher must outlive the fault: had it gone, the platform went with it.
        code = self.proc.poll()
        assert code is None, f"the launcher exited by itself (code {code}):\n" + "\n".join(self.lines[-60:])
        os.kill(self.proc.pid, signal.SIGINT)  # Ctrl-C, to the launcher's own pid
        try:
            self.proc.wait(90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return "\n".join(self.lines)

    def pg(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host="127.0.0.1", port=self.ports["pg"], user="postgres", dbname="mynumber",
                               autocommit=True, connect_timeout=5)

    def postmaster_pid(self) -> int:
        return int((self.data / "pg" / "pgdata" / "postmaster.pid").read_text().split()[0])


@pytest.fixture
def platform() -> Iterator[Platform]:
    data = scratch_dir("mynumber-fault-")
    p = Platform(data)
    try:
        p.wait_for_line("ready.", timeout=180)
        yield p
    finally:
        try:
            p.stop()
        finally:
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()
            shutil.rmtree(data, ignore_errors=True)


CLIENT = f"municipality:{MUNICIPALITY}"


def mynumber(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    """The operator tool acting as the municipality, its certificate from the platform's dev CA."""
    return subprocess.run([str(BIN / "mynumber"), "--as", CLIENT, *args], capture_output=True, text=True,
                          timeout=600, env=platform.env())


def notice_channel(platform: Platform):  # type: ignore[no-untyped-def]
    """mTLS to notice as the municipality."""
    c = DevCA(platform.data / "devca").issue(CLIENT)
    return client_channel(platform.target(50053), ca_file=c.ca_file, cert_file=c.cert_file, key_file=c.key_file)


def register_codes(platform: Platform, path: Path) -> list[str]:
    path.write_text(mynumber(platform, "synth-register", MUNICIPALITY, "--count", str(RESIDENTS), "--seed",
                             "20260").stdout)
    with path.open(newline="") as f:
        return [row[1] for row in list(csv.reader(f))[1:]]


async def submit_mailing_list(platform: Platform, codes: list[str]) -> None:
    """One household per resident: one envelope per resident once their number is known."""
    async with notice_channel(platform) as ch:
        stub = npb_grpc.NoticeServiceStub(ch)
        for start in range(0, len(codes), 2000):
            await stub.SubmitMailingList(npb.SubmitMailingListRequest(municipality_code=MUNICIPALITY, households=[
                npb.Household(household_id=f"HH{code}", address="東京都千代田区永田町1-7-1", postal_code="1000014",
                              members=[npb.Member(resident_code=code, name="試験 花子", birth_date="1990-04-01",
                                                  sex=npb.SEX_FEMALE)])
                for code in codes[start:start + 2000]]), timeout=120)


async def list_mailings(platform: Platform) -> list[npb.Mailing]:
    out: list[npb.Mailing] = []
    async with notice_channel(platform) as ch:
        token = None
        while token != "":
            reply = await npb_grpc.NoticeServiceStub(ch).ListMailings(
                npb.ListMailingsRequest(municipality_code=MUNICIPALITY, page_token=token or ""), timeout=120)
            out += reply.mailings
            token = reply.next_page_token
    return out


async def dead_letters(platform: Platform) -> int:
    """Messages in the dead-letter stream (none if no consumer ever made it)."""
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(f"nats://127.0.0.1:{platform.ports['nats']}", **nats_credentials(platform))
    try:
        try:
            info = await nc.jetstream().stream_info("MYNUMBER_DEADLETTER")
        except NotFoundError:
            return 0
        return int(info.state.messages)
    finally:
        await nc.close()


def nats_credentials(platform: Platform) -> dict[str, object]:
    """The operator's NATS login (SRE tools): its password file in the data folder, replies on its own inbox."""
    from mynumber_runtime.nats_identity import OPERATOR, inbox_prefix

    password = platform.data / "secrets" / "nats" / f"{OPERATOR}.password"
    return {"user": OPERATOR, "password": password.read_text().strip(), "inbox_prefix": inbox_prefix(OPERATOR)}


def numbers_written(platform: Platform) -> int:
    try:
        with platform.pg() as conn:
            row = conn.execute("SELECT count(*) FROM numbering.numbers WHERE municipality_code = %s",
                               (MUNICIPALITY,)).fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:  # schema not there yet, or the server restarting
        return 0


def test_postgres_killed_mid_bulk_is_restarted_and_every_resident_gets_one_number_and_one_envelope(platform, tmp_path):
    register = tmp_path / "register.csv"
    codes = register_codes(platform, register)
    assert len(set(codes)) == RESIDENTS
    asyncio.run(submit_mailing_list(platform, codes))

    # The bulk, as a client: killed PostgreSQL under it once part of the register is written.
    bulk = subprocess.Popen([str(BIN / "mynumber"), "--as", CLIENT, "bulk-assign", str(register)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=platform.env())
    deadline = time.monotonic() + 300
    while (written := numbers_written(platform)) < KILL_AFTER:
        assert bulk.poll() is None, f"the bulk ended before the kill: {bulk.communicate()}"
        assert time.monotonic() < deadline, "the bulk did not get going"
        time.sleep(0.05)
    os.kill(platform.postmaster_pid(), signal.SIGKILL)
    assert written < RESIDENTS, "the bulk finished before PostgreSQL could be killed during it: use more residents"
    out, errs = bulk.communicate(timeout=600)

    # The launcher noticed, said so in one line each, and brought PostgreSQL back.
    platform.wait_for_line("devstack: postgres restarted", timeout=120)
    assert any(line.startswith("devstack: postgres exited (killed by SIGKILL); restarting in")
               for line in platform.lines)

    # The client retries until the whole register went through (the same register again: idempotent).
    attempts = [(bulk.returncode, errs.strip().splitlines()[-1:] if errs.strip() else out.strip())]
    for _ in range(10):
        done = mynumber(platform, "bulk-assign", str(register), "--out", str(tmp_path / "out.csv"))
        attempts.append((done.returncode, done.stderr.strip().splitlines()[-1:] or done.stdout.strip()))
        if done.returncode == 0 and f"received {RESIDENTS}," in done.stdout and "refused 0" in done.stdout:
            break
        time.sleep(1)  # the server is still recovering: try again shortly (the retry policy, not an assertion)
    else:
        raise AssertionError(f"the register never went through: {attempts}")
    assert "Traceback" not in "".join(str(a) for a in attempts)

    # Exactly one number each: all 20,000 now "already" assigned, to distinct valid numbers; and one row each.
    again = mynumber(platform, "bulk-assign", str(register), "--out", str(tmp_path / "final.csv"))
    assert f"received {RESIDENTS}, assigned 0, already assigned {RESIDENTS}, refused 0" in again.stdout, again
    with (tmp_path / "final.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    numbers = [r["individual_number"] for r in rows]
    assert len(rows) == RESIDENTS and {r["status"] for r in rows} == {"already"}
    assert len(set(numbers)) == RESIDENTS and all(in_.is_valid(n) for n in numbers)
    with platform.pg() as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT resident_code_hash) FROM numbering.numbers "
                           "WHERE municipality_code = %s AND status = 1", (MUNICIPALITY,)).fetchone()
    assert row == (RESIDENTS, RESIDENTS)

    # Exactly one envelope each, once notice has caught up with every number.assigned event.
    deadline = time.monotonic() + 300
    while len(mailings := asyncio.run(list_mailings(platform))) < RESIDENTS and time.monotonic() < deadline:
        time.sleep(1)
    by_household: dict[str, list[npb.Mailing]] = {}
    for m in mailings:
        by_household.setdefault(m.household_id, []).append(m)
    assert set(by_household) == {f"HH{c}" for c in codes}
    assert all(len(ms) == 1 and ms[0].items == 1 for ms in by_household.values())
    # Numbered today (after 2020-05-25): a 個人番号通知書 each, prepared, to the household's address.
    assert {(m.status, m.kind, m.destination) for m in mailings} == {
        (npb.MAILING_STATUS_PREPARED, npb.MAILING_KIND_NOTIFICATION_LETTER, npb.DESTINATION_ADDRESS)}

    # And nothing was given up: no event was dead-lettered.
    assert asyncio.run(dead_letters(platform)) == 0
