"""What every `mynumber` command shares: the identity it acts as (mTLS, always), where each service is, and the
one-line error handling (exit code 2, never a traceback)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import grpc
from mynumber_runtime.devca import Credentials, DevCA
from mynumber_runtime.errors import DomainError
from mynumber_runtime.grpc_server import client_channel, error_reason
from rich.console import Console
from rich.markup import escape

T = TypeVar("T")
err = Console(stderr=True)


# Each service's gRPC port in `make run` (tools/devstack), before MYNUMBER_PORT_OFFSET moves them all.
GRPC_PORTS = {"numbering": 50051, "notice": 50053, "jpki": 50054, "issuance": 50055,
              "gateway": 50056}  # gateway: health only
NUMBERING_PORT = GRPC_PORTS["numbering"]


def service_target(service: str) -> str:
    """Where `service` answers: MYNUMBER_<SERVICE>_TARGET, else this machine's `make run` port moved by the same
    offset as `make run` moves it."""
    if target := os.environ.get(f"MYNUMBER_{service.upper()}_TARGET"):
        return target
    return f"127.0.0.1:{GRPC_PORTS[service] + int(os.environ.get('MYNUMBER_PORT_OFFSET') or 0)}"


def default_target() -> str:
    """numbering on this machine, moved by the same offset as `make run` moves it."""
    return service_target("numbering")


def default_data_dir() -> Path:
    """`make run`'s data folder: MYNUMBER_DATA_DIR, else the checkout's `var` (whatever the current folder)."""
    if env := os.environ.get("MYNUMBER_DATA_DIR"):
        return Path(env)
    checkout = Path(__file__).resolve().parents[4]  # tools/cli/src/mynumber_cli/main.py in the checkout
    if (checkout / "tools" / "devstack").is_dir():
        return checkout / "var"
    return Path("var")


class Ctx:
    def __init__(self, target: str, identity: str | None, data_dir: Path, ca: Path | None, cert: Path | None,
                 key: Path | None, timeout: float) -> None:
        self.target, self.identity, self.data_dir, self.timeout = target, identity, data_dir, timeout
        self.ca, self.cert, self.key = ca, cert, key

    def credentials(self) -> Credentials:
        tls = (self.ca, self.cert, self.key)
        if self.identity and any(tls):
            raise click.UsageError("give either --as (local dev CA) or --tls-ca/--tls-cert/--tls-key, not both")
        if self.ca and self.cert and self.key:
            return Credentials(self.ca, self.cert, self.key)
        if any(tls):
            raise click.UsageError("--tls-ca, --tls-cert and --tls-key go together")
        if not self.identity:
            raise click.UsageError("say who you act as: --as <kind>:<id> (e.g. --as municipality:131016) on a "
                                   "local run, or --tls-ca/--tls-cert/--tls-key with your own certificate")
        ca = DevCA(self.data_dir / "devca")
        if not ca.ca_file.exists():
            raise click.UsageError(f"no local dev CA in {ca.directory}: start the platform (`make run`) first, or "
                                   "point MYNUMBER_DATA_DIR at its data folder")
        try:
            return ca.issue(self.identity)  # issued once, reused while valid
        except (DomainError, ValueError) as e:
            raise click.BadParameter(str(e), param_hint="--as") from None

    def channel(self, service: str = "numbering") -> grpc.aio.Channel:
        """A channel to `service` (numbering at --target; the others where service_target says)."""
        c = self.credentials()
        target = self.target if service == "numbering" else service_target(service)
        return client_channel(target, ca_file=c.ca_file, cert_file=c.cert_file, key_file=c.key_file)


class CliError(click.ClickException):
    """Any failure the CLI reports: one line on stderr, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        err.print(f"[red]error[/red] {escape(self.message)}", highlight=False, soft_wrap=True)


def run_call(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(call())  # type: ignore[arg-type]
    except grpc.aio.AioRpcError as e:
        raise CliError(rpc_error(e)) from None


def rpc_error(e: grpc.aio.AioRpcError) -> str:
    if e.code() == grpc.StatusCode.UNAVAILABLE:
        return "UNAVAILABLE: cannot reach the service (is the platform running? `make run`)"
    if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return "DEADLINE_EXCEEDED: the service did not answer in time (--timeout)"
    # The platform's messages name the field and the rule, never a value (the services' own rule).
    details = " ".join((e.details() or "").split())
    return f"{error_reason(e) or e.code().name}: {details}"


class OneLineErrors(click.Group):
    """The top-level error handler: whatever goes wrong below a command is one line and exit code 2. An
    unexpected exception's text is not shown (it might hold a value from the file); its kind is."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except grpc.aio.AioRpcError as e:
            raise CliError(rpc_error(e)) from None
        except OSError as e:
            where = f" ({Path(e.filename).name})" if e.filename else ""
            raise CliError(f"{e.strerror or type(e).__name__}{where}") from None
        except KeyboardInterrupt:
            raise CliError("interrupted") from None
        except Exception as e:
            raise CliError(f"unexpected {type(e).__name__}; nothing more is shown, to keep file contents out of "
                           "the terminal") from None
