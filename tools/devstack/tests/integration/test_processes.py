"""The real children and the launcher's refusals: processes, process groups, ports and a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import psycopg
import pytest
from mynumber_devstack.__main__ import free_offsets
from mynumber_devstack.ports import NATS_BASE_PORT, PG_BASE_PORT, Port, in_use
from mynumber_devstack.processes import ServerProcess, ServiceProcess, group_members
from mynumber_devstack.supervisor import Backoff, Supervisor
from mynumber_runtime.embedded import EmbeddedPostgres, free_port
from mynumber_runtime.testing.servers import scratch_dir

pytestmark = pytest.mark.integration

# A stand-in for a service: listens on its port and forks a worker that inherits the listening socket, as a
# process pool would. Killing only the parent leaves the port held: the "address in use" of the first restart.
SERVICE = textwrap.dedent("""
    import os, socket, sys, time
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen()
    if sys.argv[2:] == ["fork"] and os.fork() == 0:
        time.sleep(600)
    print("listening", file=sys.stderr, flush=True)
    time.sleep(600)
""")


def wait_until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def launcher(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MYNUMBER_")}
    return subprocess.run([sys.executable, "-m", "mynumber_devstack", "run", *args], capture_output=True, text=True,
                          timeout=60, env={**clean, **(env or {})})


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s


def service(port: int, sink: list[str]) -> ServiceProcess:
    class Sink:
        def write(self, text: str) -> None:
            sink.append(text)

        def flush(self) -> None:
            pass

    return ServiceProcess("fake", [sys.executable, "-c", SERVICE, str(port), "fork"], env=dict(os.environ),
                          ports=[Port(port, "fake gRPC")], color="", sink=Sink(), width=4)  # type: ignore[arg-type]


def test_a_port_in_use_is_refused_before_start_with_one_line_naming_it_and_exit_code_2(listener, tmp_path):
    port = listener.getsockname()[1]
    done = launcher("--data-dir", str(tmp_path / "data"), "--pg-port", str(port), "--nats-port", str(free_port()))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"devstack: port {port} (PostgreSQL) is already in use by another process: stop it, or run with another "
        "MYNUMBER_PORT_OFFSET"]
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "data").exists()  # refused before anything started


def test_the_offset_moves_postgres_and_nats_so_a_second_platform_is_told_the_port_is_taken(listener, tmp_path):
    port = listener.getsockname()[1]
    for base, purpose in ((PG_BASE_PORT, "PostgreSQL"), (NATS_BASE_PORT, "NATS")):
        offset = port - base
        done = launcher("--data-dir", str(tmp_path / "data"),
                        env={"MYNUMBER_PORT_OFFSET": str(offset), "MYNUMBER_HTTP_PORT_OFFSET": "0"})
        assert done.returncode == 2 and f"port {port} ({purpose}) is already in use" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_a_grpc_port_taken_by_another_program_is_named_with_its_service(tmp_path):
    # notice's gRPC port taken, under an offset that keeps every other port of the platform valid and free (a
    # random ephemeral port could push the metrics ports, 9451+, below 1, which is refused first).
    offset, _ = free_offsets()
    port = 50053 + offset
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen()
    with listener:
        done = launcher("--data-dir", str(tmp_path / "data"), "--pg-port", str(free_port()), "--nats-port",
                        str(free_port()), "--port-offset", str(offset), "--http-port-offset", "0")
    assert done.returncode == 2 and f"port {port} (notice gRPC) is already in use" in done.stderr


def test_a_malformed_offset_is_a_usage_error_without_traceback(tmp_path):
    done = launcher("--data-dir", str(tmp_path / "data"), env={"MYNUMBER_PORT_OFFSET": "two"})
    assert done.returncode == 2 and "Traceback" not in done.stderr and "--port-offset" in done.stderr


def test_a_killed_service_is_restarted_on_its_port_although_its_worker_held_the_port():
    port, said, lines = free_port(), list[str](), list[str]()
    child = service(port, lines)
    sup = Supervisor([child], backoff=Backoff(initial=0.05), say=said.append)
    sup.start_all()
    try:
        wait_until(lambda: in_use(port))
        first = child.pid
        assert first is not None and len(group_members(first)) == 2  # the service and its worker
        os.kill(first, signal.SIGKILL)  # the worker lives on, holding the listening socket
        wait_until(lambda: sup.check() is not None and child.pid not in (None, first))
        assert said[0].startswith("fake exited (killed by SIGKILL); restarting in")
        assert said[-1] == "fake restarted"
        assert not group_members(first)  # the old worker is gone: the port was free for the new start
        wait_until(lambda: sum("listening" in line for line in lines) == 2)
        assert child.exit_code() is None
    finally:
        sup.stop_all()
    assert not in_use(port)


def test_services_die_with_a_launcher_killed_hard_and_free_their_ports(tmp_path):
    """The launcher SIGKILLed (no chance to stop anything): its services must not outlive it holding ports."""
    port = free_port()
    script = tmp_path / "launcher.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, threading
        from mynumber_devstack.ports import Port
        from mynumber_devstack.processes import ServiceProcess
        child = ServiceProcess("fake", [sys.executable, "-c", {SERVICE!r}, "{port}"], env=dict(os.environ),
                               ports=[Port({port}, "fake gRPC")], color="", sink=sys.stdout, width=4)
        child.start()
        print(child.pid, flush=True)
        threading.Event().wait()
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        pid = int(proc.stdout.readline())
        wait_until(lambda: in_use(port))
    finally:
        proc.kill()
        proc.wait()
    # The kernel sent the service SIGTERM when its launcher died (PR_SET_PDEATHSIG): the port is free again.
    wait_until(lambda: not in_use(port))
    wait_until(lambda: not group_members(pid))


def test_postgres_killed_with_sigkill_is_restarted_by_the_supervisor_and_serves_the_same_data():
    root = scratch_dir("mynumber-devstack-pg-")
    pg = EmbeddedPostgres(root)  # durable: a crash keeps what was committed
    said: list[str] = []
    sup = Supervisor([ServerProcess("postgres", pg, ports=[Port(pg.port, "PostgreSQL")], banner="")],
                     backoff=Backoff(initial=0.05), say=said.append)
    sup.start_all()
    try:
        dsn = {"host": "127.0.0.1", "port": pg.port, "user": "postgres", "dbname": "mynumber", "autocommit": True}
        with psycopg.connect(**dsn) as conn:  # type: ignore[arg-type]
            conn.execute("CREATE TABLE kept (id int)")
            conn.execute("INSERT INTO kept VALUES (1)")
        holder = psycopg.connect(**dsn)  # type: ignore[arg-type]  # a backend that outlives its postmaster for a while
        assert pg.proc is not None
        os.kill(pg.proc.pid, signal.SIGKILL)
        def restarted() -> bool:
            sup.check()
            return said[-1:] == ["postgres restarted"]

        wait_until(restarted, timeout=60)
        holder.close()
        with psycopg.connect(**dsn) as conn:  # type: ignore[arg-type]
            assert conn.execute("SELECT id FROM kept").fetchall() == [(1,)]
        assert said[0] == "postgres exited (killed by SIGKILL); restarting in 0.05 s (attempt 1)"
    finally:
        sup.stop_all()
        shutil.rmtree(root, ignore_errors=True)
