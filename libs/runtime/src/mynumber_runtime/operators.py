"""The operator's dead-letter commands every service has: `python -m <svc> dead-letters list` and
`python -m <svc> dead-letters replay [--all | --id N]` (docs/events.md).

They run through the service's own wiring (`serve`), so they use its settings, its NATS and database credentials
and its real handlers; `host()` sees the pending command and, instead of serving, hands it the service's
consumers. A replayed letter goes through the consumer's idempotent path (its event id recorded, so an event that
got handled meanwhile changes nothing) and is removed once handled; one refused again is parked anew with its new
reason; one that fails for a passing cause (the database is down) stays as it is.

Output is one line per letter, no payload. Errors are one line on stderr, exit status 2, never a traceback.
Exit status 1: some letters are still there after a replay.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from mynumber_runtime import deadletters
from mynumber_runtime.consumer import IdempotentConsumer
from mynumber_runtime.errors import DomainError
from mynumber_runtime.faults import database_error, summary
from mynumber_runtime.streams import DEADLETTER_STREAM

COMMAND = "dead-letters"


class CommandError(Exception):
    """An operator's mistake or an unmet precondition: printed as one line, exit status 2."""


@dataclass
class DeadLetterCommand:
    action: str  # "list" | "replay"
    letter_id: int | None = None  # replay one; None with replay_all
    replay_all: bool = False
    out: TextIO = sys.stdout
    code: int | None = None  # set once run

    async def run(self, service: str, consumers: Sequence[IdempotentConsumer]) -> None:
        if not consumers:
            if self.action == "list" or self.replay_all:
                print(f"{service} has no event consumers: no dead letters", file=self.out)
                self.code = 0
                return
            raise CommandError(f"no dead letter {self.letter_id} for {service}")
        js = consumers[0].js
        if self.action == "list":
            print("id\tconsumer\tfirst_failure\toriginal_subject\treason", file=self.out)
            async for letter in deadletters.letters(js, service):
                print(f"{letter.id}\t{letter.consumer}\t{letter.first_failure}\t{letter.original_subject}\t"
                      f"{letter.reason}", file=self.out)
            self.code = 0
            return
        by_durable = {c.durable: c for c in consumers}
        if self.letter_id is not None:
            one = await deadletters.letter(js, service, self.letter_id)
            if one is None:
                raise CommandError(f"no dead letter {self.letter_id} for {service}")
            todo = [one]
        else:
            # Up to the last letter there now: a letter refused again is parked anew, after it, and must not be
            # picked up again in this run.
            last = (await js.stream_info(DEADLETTER_STREAM)).state.last_seq
            todo = [letter async for letter in _until(deadletters.letters(js, service), last)]
        left = 0
        for letter in todo:
            consumer = by_durable.get(letter.consumer)
            if consumer is None:
                print(f"{letter.id}\tskipped\tno consumer {letter.consumer} in {service}", file=self.out)
                left += 1
                continue
            done = await consumer.replay(letter)
            print(f"{done.letter_id}\t{done.outcome}" + (f"\t{done.reason}" if done.reason else ""), file=self.out)
            left += done.outcome != "replayed"
        print(f"replayed {len(todo) - left} of {len(todo)}", file=self.out)
        self.code = 1 if left else 0


async def _until(it: Any, last: int) -> Any:
    async for letter in it:
        if letter.id > last:
            return
        yield letter


_pending: contextvars.ContextVar[DeadLetterCommand | None] = contextvars.ContextVar("dead_letter_command",
                                                                                     default=None)


def pending_command() -> DeadLetterCommand | None:
    """The command `host()` is to run instead of serving, if any."""
    return _pending.get()


def add_commands(sub: Any) -> None:
    """Add `dead-letters {list, replay}` to a service's argparse subparsers."""
    dl = sub.add_parser(COMMAND, help="list or replay the events this service could not handle")
    actions = dl.add_subparsers(dest="dead_letter_action", required=True)
    actions.add_parser("list", help="one line per dead letter: id, consumer, first failure, subject, reason")
    replay = actions.add_parser("replay", help="run the handler again on dead letters; remove those handled")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", dest="replay_all", help="every dead letter of this service")
    which.add_argument("--id", type=int, dest="letter_id", help="one dead letter, by the id `list` prints")


def run_command(service: str, args: argparse.Namespace, serve: Callable[[asyncio.Event], Awaitable[object]], *,
                out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the parsed `dead-letters` command through the service's `serve(stop)`; the exit status."""
    command = DeadLetterCommand(action=args.dead_letter_action, letter_id=getattr(args, "letter_id", None),
                                replay_all=bool(getattr(args, "replay_all", False)), out=out)
    return asyncio.run(run_async(service, command, serve, err=err))


async def run_async(service: str, command: DeadLetterCommand, serve: Callable[[asyncio.Event], Awaitable[object]],
                    *, err: TextIO = sys.stderr) -> int:
    token = _pending.set(command)
    try:
        await serve(asyncio.Event())
    except Exception as exc:
        print(f"{service} {COMMAND}: {_one_line(exc)}", file=err)
        return 2
    finally:
        _pending.reset(token)
    if command.code is None:
        print(f"{service} {COMMAND}: the service did not start its consumers", file=err)
        return 2
    return command.code


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, (CommandError, DomainError)):
        return str(exc)
    if database_error(exc) is not None:
        return f"database: {summary(exc)}"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return summary(exc)
