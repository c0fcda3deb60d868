"""The real children of `make run` (what `supervisor.Child` abstracts): service processes and the embedded servers.

Each child runs in its own process group (its own session), so stopping it stops everything it started: the
"address already in use" of the first restart after a crash came from processes that outlived their parent. Two
cases, both closed here:
- the launcher killed hard (SIGKILL, a closed terminal): the services kept running, holding their gRPC and HTTP
  ports; now each asks the kernel for SIGTERM when the launcher dies (PR_SET_PDEATHSIG), as the servers already did;
- a child killed hard: what it had started (PostgreSQL's backends, which also hold its shared memory) lingered
  until they noticed; now the rest of its process group is killed and waited for before it starts again.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

from mynumber_devstack.ports import Port, ensure_free

RESET = "\033[0m"
_LIBC = ctypes.CDLL("libc.so.6", use_errno=True)  # loaded in the parent, before any fork
_PR_SET_PDEATHSIG = 1


def _term_with_parent() -> None:
    """Runs in the child before exec. PR_SET_PDEATHSIG fires when the *thread* that forked the child ends: the
    supervisor starts every child from the launcher's main thread, which lives as long as the launcher."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def kill_group(pgid: int, timeout: float = 10.0) -> None:
    """SIGKILL what is left of a process group and wait until it is gone (its ports and locks released)."""
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise TimeoutError(f"process group {pgid} did not go away within {timeout:g} s")
        time.sleep(0.05)


def pump(name: str, color: str, stream: IO[bytes], sink: IO[str], width: int) -> None:
    """A child's output, one prefixed line at a time; JSON log lines shortened to level, message and extras."""
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip()
        try:
            entry = json.loads(line)
            extra = {k: v for k, v in entry.items() if k not in {"ts", "level", "service", "logger", "msg",
                                                                 "trace_id", "span_id"}}
            line = f"{entry.get('level', ''):<7} {entry.get('msg', '')}" + (f"  {extra}" if extra else "")
        except (json.JSONDecodeError, AttributeError):
            pass
        sink.write(f"{color}{name:>{width}}{RESET} | {line}\n")
        sink.flush()


class ServiceProcess:
    """`python -m <service> ...` with its output pumped to the console. `prepare`, if given, runs to its end (same
    env, output shown alike) before every start, so it must be idempotent (jpki's key ceremony is)."""

    def __init__(self, name: str, argv: Sequence[str], *, env: dict[str, str], ports: Sequence[Port], color: str,
                 sink: IO[str], width: int, prepare: Sequence[str] | None = None, stop_timeout: float = 15.0) -> None:
        self.name, self.argv, self.env, self.ports = name, list(argv), env, list(ports)
        self.prepare = list(prepare) if prepare else None
        self.color, self.sink, self.width, self.stop_timeout = color, sink, width, stop_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def banner(self) -> str:
        http = "".join(f" http http://127.0.0.1:{p.number}" for p in self.ports if p.purpose.endswith(" HTTP"))
        metrics = "".join(f" metrics http://127.0.0.1:{p.number}/metrics" for p in self.ports
                          if p.purpose.endswith(" metrics"))
        return f"{self.name}: grpc 127.0.0.1:{self.ports[0].number}{http}{metrics} (pid {self.pid})"

    def _prepare(self, argv: list[str]) -> None:
        proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            assert proc.stdout is not None
            pump(self.name, self.color, proc.stdout, self.sink, self.width)
        finally:
            # Not cut short by Ctrl-C (its own session): a key ceremony stopped halfway could leave a key in the
            # HSM that no CA record names. It takes seconds.
            code = proc.wait()
        if code != 0:
            raise RuntimeError(f"{self.name} {argv[3] if len(argv) > 3 else 'prepare'} failed with exit code {code}")

    def start(self) -> None:
        ensure_free(self.ports)
        if self.prepare:
            self._prepare(self.prepare)
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True, preexec_fn=_term_with_parent)
        threading.Thread(target=pump, args=(self.name, self.color, self.proc.stderr, self.sink, self.width),
                         daemon=True).start()

    def exit_code(self) -> int | None:
        return self.proc.poll() if self.proc else -1

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a clean stop: calls finish, NATS drains
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        kill_group(self.proc.pid)
        self.proc = None


class Server(Protocol):
    """EmbeddedPostgres or EmbeddedNats."""

    proc: subprocess.Popen[bytes] | None

    def start(self) -> object: ...

    def stop(self) -> None: ...


class ServerProcess:
    """An embedded server (PostgreSQL, NATS) as a supervised child."""

    def __init__(self, name: str, server: Server, *, ports: Sequence[Port], banner: str) -> None:
        self.name, self.server, self.ports, self._banner = name, server, list(ports), banner
        self._pgid: int | None = None

    def banner(self) -> str:
        return self._banner

    @property
    def pid(self) -> int | None:
        return self.server.proc.pid if self.server.proc else None

    def start(self) -> None:
        ensure_free(self.ports)
        try:
            self.server.start()
        finally:
            self._pgid = self.pid  # also of a half-started server, so stop() clears what it left

    def exit_code(self) -> int | None:
        return self.server.proc.poll() if self.server.proc else -1

    def stop(self) -> None:
        pgid, self._pgid = self._pgid or self.pid, None
        self.server.stop()
        if pgid is not None:
            # A postmaster killed with SIGKILL leaves its backends attached to its shared memory: PostgreSQL
            # refuses to start while they live ("pre-existing shared memory block is still in use").
            kill_group(pgid)
