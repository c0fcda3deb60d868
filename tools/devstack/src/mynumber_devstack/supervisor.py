"""Keeps every child of `make run` alive: a child that exits (crash, SIGKILL, OOM) is started again after a bounded
exponential back-off, and the launcher says so in one line per event.

The supervisor knows nothing about processes: a child is anything with `start()`, `exit_code()` and `stop()` (see
`processes.py` for the real ones), so the policy is tested with fake children and a fake clock. It runs on one
thread (the launcher's main thread): a restart never races a stop, and children that ask the kernel to kill them
when their parent thread dies (PR_SET_PDEATHSIG is per thread) are always started from that same thread.

Dependents are not restarted with their dependency: the services reconnect by themselves (the database pool pings
before use, NATS clients reconnect forever), so a PostgreSQL restart costs the calls in flight, not the services.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


class Child(Protocol):
    """One supervised thing (a server or a service process)."""

    name: str

    def start(self) -> None:
        """Start it; raises if it cannot (the supervisor retries with back-off)."""

    def exit_code(self) -> int | None:
        """None while it runs; its exit code (negative: killed by that signal) once it has exited."""

    def stop(self) -> None:
        """Stop it and everything it started; returns once it is gone."""


C = TypeVar("C", bound=Child)


@dataclass(frozen=True)
class Backoff:
    """Delay before the n-th restart in a row: initial * factor**(n-1), never more than `maximum`. A child that
    stayed up `stable_after` seconds starts again from `initial` (its crash was not part of a crash loop)."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0
    stable_after: float = 60.0

    def delay(self, attempt: int) -> float:
        return min(self.maximum, self.initial * self.factor ** max(attempt - 1, 0))


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


@dataclass
class _State:
    child: Child
    running: bool = False
    started_at: float = 0.0
    attempt: int = 0  # restarts in a row without a stable run in between
    due: float | None = None  # when the next start is due, while it is down
    restarts: int = 0  # all restarts, for the record


@dataclass
class Supervisor(Generic[C]):
    children: Sequence[C]
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.monotonic
    say: Callable[[str], None] = print

    def __post_init__(self) -> None:
        self._states = [_State(c) for c in self.children]

    def start_all(self, on_started: Callable[[C], None] | None = None) -> None:
        """The first start, in order (PostgreSQL and NATS before the services): a failure here is not retried, it
        propagates (the platform cannot come up; better said at once than retried forever)."""
        for child, state in zip(self.children, self._states, strict=True):
            child.start()
            state.running, state.started_at = True, self.clock()
            if on_started:
                on_started(child)

    def restarts(self, name: str) -> int:
        return next(s.restarts for s in self._states if s.child.name == name)

    def check(self) -> float:
        """One pass: notice exited children, start those whose back-off is over. Returns the seconds until the next
        due start (or a polling interval), for the caller's wait."""
        now = self.clock()
        for state in self._states:
            if state.running:
                code = state.child.exit_code()
                if code is None:
                    if now - state.started_at >= self.backoff.stable_after:
                        state.attempt = 0
                    continue
                state.running = False
                # Whatever it left behind (a PostgreSQL backend, a worker) goes before the next start. A clean-up
                # that fails (a backend slow to die) is said and tried again by the next start's own clean-up: it
                # must never take the launcher, and with it the whole platform, down.
                try:
                    state.child.stop()
                except Exception as e:
                    self.say(f"{state.child.name}: clean-up after its exit failed ({one_line(e)})")
                if now - state.started_at >= self.backoff.stable_after:
                    state.attempt = 0
                state.attempt += 1
                delay = self.backoff.delay(state.attempt)
                state.due = now + delay
                self.say(f"{state.child.name} exited ({describe_exit(code)}); restarting in {delay:g} s "
                         f"(attempt {state.attempt})")
            if state.due is not None and now >= state.due:
                self._restart(state)
        waits = [s.due - self.clock() for s in self._states if s.due is not None]
        return max(0.0, min([0.5, *waits]))

    def _restart(self, state: _State) -> None:
        try:
            state.child.start()
        except Exception as e:  # any failure to start is retried: the supervisor must outlive its children
            with_stop(state.child)
            state.attempt += 1
            delay = self.backoff.delay(state.attempt)
            state.due = self.clock() + delay
            self.say(f"{state.child.name} did not start ({one_line(e)}); retrying in {delay:g} s "
                     f"(attempt {state.attempt})")
            return
        state.running, state.started_at, state.due = True, self.clock(), None
        state.restarts += 1
        self.say(f"{state.child.name} restarted")

    def run(self, stop: threading.Event) -> None:
        """Supervise until `stop` is set."""
        while not stop.is_set():
            stop.wait(self.check())

    def stop_all(self) -> None:
        """In reverse order (services before the servers they use); every child, even if one stop fails."""
        errors: list[BaseException] = []
        for state in reversed(self._states):
            try:
                state.child.stop()
            except Exception as e:  # stop the others anyway
                errors.append(e)
            state.running, state.due = False, None
        if errors:
            raise errors[0]


def with_stop(child: Child) -> None:
    """Clean up after a failed start (a half-started server)."""
    with contextlib.suppress(Exception):  # the start already failed; its own error is the one to report
        child.stop()


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."
