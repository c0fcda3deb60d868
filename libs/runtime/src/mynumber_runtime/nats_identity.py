"""Who a process is on NATS: one user per service, allowed to publish only its own events.

An event's subject names its producer (`mynumber.<svc>.v1...`) and consumers trust it: a publisher that could write
another service's subject could forge that service's events, or, reusing the next outbox message id, make JetStream
drop the real event as a duplicate. So each service's user may publish only `mynumber.<svc>.>` and its dead letters
`mynumber.deadletter.<svc>.>`, plus the JetStream API calls its own streams and its consumers need, named stream by
stream. Replies come to an inbox only that user may subscribe to (`_INBOX.<user>.>`): no one reads another's
fetched events or acknowledgements.

The same table feeds the embedded NATS (`make run`, the tests) and is written out in docs/deploy.md for the chart.
Passwords are secret files (`NatsSettings.password_file`), one per user.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as Nats

from mynumber_runtime.settings import NatsSettings, read_secret
from mynumber_runtime.streams import DEADLETTER_STREAM, stream_name

# Every platform service has a NATS user, built or not yet ("resident" is the 住基 side whose events jpki reads).
SERVICES = ("numbering", "notice", "jpki", "issuance", "gateway", "convenience-cert", "resident")
# Tools run by SREs (stream reports, dead-letter replay): the JetStream API, but no service's event subjects.
OPERATOR = "operator"
# Mirrors of a region's streams (docs/deploy.md, "NATS"): after a failover the promoted mirror holds the events.
MIRROR_REGIONS = ("EAST", "WEST")


@dataclass(frozen=True)
class Consumes:
    """A durable consumer a service keeps on another service's stream, by filter subject."""

    producer: str
    subject: str


# Who reads whose events. A new consumer is one line here, in docs/deploy.md and in the chart's NATS users.
CONSUMES: Mapping[str, tuple[Consumes, ...]] = {
    "notice": (Consumes("numbering", "mynumber.numbering.v1.number.assigned"),),
    "jpki": (Consumes("resident", "mynumber.resident.v1.resident.facts_changed"),),
    "issuance": (Consumes("notice", "mynumber.notice.v1.form.issued"),),
}


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def inbox_prefix(user: str) -> str:
    return f"_INBOX.{user}"


def _stream_names(service: str) -> list[str]:
    base = stream_name(service)
    return [base, *(f"{base}_MIRROR_{region}" for region in MIRROR_REGIONS)]


def service_permissions(service: str, consumes: Iterable[Consumes] = ()) -> Permissions:
    own = _stream_names(service)
    publish = [
        f"mynumber.{service}.>",
        f"mynumber.deadletter.{service}.>",
        "$JS.API.INFO",
        "$JS.API.STREAM.NAMES",  # finding the stream that holds a subject (a promoted mirror after a failover)
        *(f"$JS.API.STREAM.INFO.{s}" for s in own),
        # Its own stream's configuration is its to keep; mirrors are the chart's.
        f"$JS.API.STREAM.CREATE.{own[0]}",
        f"$JS.API.STREAM.UPDATE.{own[0]}",
        # Reading back its own last audit anchor (anchor.latest_anchor), from a promoted mirror after a failover.
        *(f"$JS.API.STREAM.MSG.GET.{s}" for s in own),
        # Dead letters: created by the first service that needs the stream, configured by no service. Its own
        # `dead-letters list/replay` (run with the service's wiring) reads and removes letters by sequence.
        f"$JS.API.STREAM.INFO.{DEADLETTER_STREAM}",
        f"$JS.API.STREAM.CREATE.{DEADLETTER_STREAM}",
        f"$JS.API.STREAM.MSG.GET.{DEADLETTER_STREAM}",
        f"$JS.API.DIRECT.GET.{DEADLETTER_STREAM}",
        f"$JS.API.STREAM.MSG.DELETE.{DEADLETTER_STREAM}",
    ]
    for c in consumes:
        theirs = _stream_names(c.producer)
        # A consumer may start before the producer: it may create the producer's stream (the producer's next
        # start sets its configuration), never update or delete it.
        publish.append(f"$JS.API.STREAM.CREATE.{theirs[0]}")
        for s in theirs:
            publish += [
                f"$JS.API.STREAM.INFO.{s}",
                f"$JS.API.CONSUMER.INFO.{s}.*",
                # Only consumers filtered on the subject it reads: no consumer over the producer's other events.
                f"$JS.API.CONSUMER.CREATE.{s}.*.{c.subject}",
                f"$JS.API.CONSUMER.MSG.NEXT.{s}.*",
                f"$JS.ACK.{s}.>",
            ]
    return Permissions(tuple(dict.fromkeys(publish)), (f"{inbox_prefix(service)}.>",))


def operator_permissions() -> Permissions:
    return Permissions(("$JS.API.>", "$JS.ACK.>"), (f"{inbox_prefix(OPERATOR)}.>",))


def platform_users() -> dict[str, Permissions]:
    users = {s: service_permissions(s, CONSUMES.get(s, ())) for s in SERVICES}
    users[OPERATOR] = operator_permissions()
    return users


class NatsSecrets:
    """One password file per NATS user in a directory (`<user>.password`, mode 0600), made on first use. Production
    mounts them from Kubernetes Secrets; `make run` and the tests make their own."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()

    def password_file(self, user: str) -> Path:
        path = self.directory / f"{user}.password"
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
            os.replace(tmp, path)
        return path

    def settings(self, user: str, url: str, **fields: Any) -> NatsSettings:
        return NatsSettings(url=url, user=user, password_file=self.password_file(user), **fields)


def authorization_config(secrets_: NatsSecrets, users: Mapping[str, Permissions]) -> str:
    """The `authorization` block of a nats-server configuration (JSON is valid NATS configuration; quoted strings
    are taken literally, so `$JS...` is not read as a variable). It holds the passwords: write it mode 0600."""
    entries = [{"user": name, "password": read_secret(secrets_.password_file(name)).decode(),
                "permissions": {"publish": {"allow": list(p.publish)}, "subscribe": {"allow": list(p.subscribe)}}}
               for name, p in users.items()]
    return "authorization " + json.dumps({"users": entries}, indent=1) + "\n"


async def connect_nats(settings: NatsSettings, *, name: str, **options: Any) -> Nats:
    """A NATS connection as the settings' user: its password from its file, replies on its own inbox."""
    if settings.user is None or settings.password_file is None:
        raise ValueError("nats: give user and password_file (every process connects as its service's NATS user)")
    return await nats.connect(settings.url, name=name, user=settings.user,
                              password=read_secret(settings.password_file).decode(),
                              inbox_prefix=inbox_prefix(settings.user), **options)
