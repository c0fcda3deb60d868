"""The one composition root: `build(settings)` assembles the CA (used by every command in __main__, by the tests and
the bench); `serve`, `responder` and the commands below run it. Wiring only: the rules are in the role modules."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mynumber_runtime.anchor import Anchor, AnchorPublisher, anchor_key, latest_anchor
from mynumber_runtime.clock import Clock, SystemClock
from mynumber_runtime.crypto import KeyedHash, derive_key
from mynumber_runtime.db import Units, create_async_engine
from mynumber_runtime.keystore import load_sealer
from mynumber_runtime.settings import read_hex_secret, read_secret

from jpki import hsm as hsmmod
from jpki import models, profiles
from jpki.authority import Authorities
from jpki.domain import Tuning
from jpki.http_api import HttpFront, Snapshot
from jpki.issuance import Issuance
from jpki.lint import Linter
from jpki.parts import Jpki
from jpki.publication import Publication
from jpki.records import AuditReport
from jpki.repository import CaStore, Engine
from jpki.revocation import Revocation
from jpki.settings import MIGRATIONS, JpkiSettings
from jpki.verifiers import Verifiers

if TYPE_CHECKING:
    from nats.aio.client import Client as Nats

log = logging.getLogger(__name__)


def open_hsm(settings: JpkiSettings) -> hsmmod.Hsm:
    if settings.hsm.softhsm_data_dir is not None and "softhsm" in settings.hsm.module.name:
        hsmmod.softhsm_config(settings.hsm.softhsm_data_dir.resolve())
    pin = read_secret(settings.hsm.user_pin_file).decode()
    return hsmmod.Hsm(module=settings.hsm.module, token_label=settings.hsm.token_label, user_pin=pin)


def tuning_from(s: JpkiSettings) -> Tuning:
    return Tuning(crl_validity=dt.timedelta(seconds=s.crl_validity_s),
                  ocsp_validity=dt.timedelta(seconds=s.ocsp_validity_s),
                  ocsp_signer_life=dt.timedelta(days=s.ocsp_signer_days),
                  auth_policy_critical=s.auth_policy_critical, include_ocsp_url=s.include_ocsp_url,
                  ca_validity_years=s.ca_validity_years,
                  full_crl_interval=dt.timedelta(seconds=s.crl_full_interval_s),
                  delta_crl_interval=dt.timedelta(seconds=s.crl_delta_interval_s))


def engine_from(settings: JpkiSettings) -> Engine:
    return create_async_engine(settings.database.resolved_url(), pool_size=settings.database.pool_size)


async def build(settings: JpkiSettings, *, engine: Engine | None = None, hsm: hsmmod.Hsm | None = None,
                clock: Clock | None = None) -> Jpki:
    """The CA from its settings: engine, units of work, HSM, keys, the roles; the CAs bound to their HSM keys."""
    engine = engine or engine_from(settings)
    master = read_hex_secret(settings.keys_file)
    sealer = await load_sealer(engine, models.data_keys, derive_key(master, "jpki/kek"))
    holder_hash = KeyedHash(derive_key(master, "jpki/holder"))
    urls = profiles.Urls(settings.http.public_base_url)
    hsm = hsm or open_hsm(settings)
    authorities = Authorities(hsm=hsm, clock=clock or SystemClock(), linter=Linter(), tuning=tuning_from(settings))
    jpki = Jpki(engine=engine, units=Units(engine, CaStore), hsm=hsm, authorities=authorities,
                issuance=Issuance(authorities, sealer, holder_hash, urls),
                revocation=Revocation(authorities, holder_hash), publication=Publication(authorities, urls),
                verifiers=Verifiers(authorities))
    async with jpki.units() as store:
        await authorities.load(store)
    return jpki


@dataclass
class Background:
    """The CA's periodic work: responder rotation, OCSP re-signing, CRL schedule; each step its own unit."""

    jpki: Jpki
    tick_s: float = 5.0

    async def tick(self) -> None:
        j = self.jpki
        async with j.units() as store:
            await j.authorities.ensure_ocsp_signers(store)
        async with j.units() as store:
            await j.publication.refresh_ocsp(store)
        async with j.units() as store:
            await j.publication.generate_due_crls(store)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("background CA work failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick_s)


@dataclass
class RunningHttp:
    """The HTTP front (CRLs, OCSP, CA certificates) and the poller that keeps its snapshot fresh."""

    server: asyncio.Server
    snapshot: Snapshot
    front: HttpFront
    stop: asyncio.Event
    poller: asyncio.Task[None]

    async def close(self) -> None:
        self.stop.set()
        self.server.close()
        await self.server.wait_closed()
        await self.poller


async def start_http(jpki: Jpki, host: str, port: int, *, poll_interval_s: float, reuse_port: bool = False
                     ) -> RunningHttp:
    """An HTTP front over a database snapshot; slow-path OCSP answers are signed through this process's HSM."""
    from jpki import http_wire

    snapshot = Snapshot(jpki.units)
    snapshot.store.live_signer = jpki.authorities.live_ocsp
    await snapshot.refresh()
    # Unready after missing a few polls in a row (the promised status delay no longer holds).
    front = HttpFront(snapshot, stale_after_s=max(5.0, 4 * poll_interval_s))
    server = await http_wire.serve(front, host, port, reuse_port=reuse_port)
    stop = asyncio.Event()
    return RunningHttp(server, snapshot, front, stop, asyncio.create_task(snapshot.poll(poll_interval_s, stop)))


async def serve(settings: JpkiSettings, stop: asyncio.Event) -> int:
    """gRPC + HTTP (CRL/OCSP) + background CA work + the resident-event consumer + the outbox relay, run by the
    runtime's `host` until `stop`."""
    from mynumber_runtime import operators
    from mynumber_runtime.consumer import IdempotentConsumer
    from mynumber_runtime.db import migrate
    from mynumber_runtime.grpc_server import PlatformServer
    from mynumber_runtime.host import host, nats_check
    from mynumber_runtime.metrics import Snapshots, labelled
    from mynumber_runtime.nats_identity import connect_nats
    from mynumber_runtime.outbox import OutboxRelay
    from mynumber_runtime.streams import ensure_stream, open_stream

    from jpki import events
    from jpki.grpc_api import bindings
    from jpki.handlers import facts_changed_handler

    migrate(settings.database.resolved_url(), MIGRATIONS)
    jpki = await build(settings)
    if not jpki.authorities.by_kind:
        print("no CA yet: run `python -m jpki ceremony` first", file=sys.stderr)
        return 2
    nc = await connect_nats(settings.nats, name="jpki", max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_stream(js, "jpki", duplicate_window_s=settings.nats.duplicate_window_s)
    # The resident service's stream: read, never configured, by us (our NATS user may only create it if missing).
    resident_stream = await open_stream(js, events.RESIDENT_SERVICE)
    sealer = events.ResidentEventSealer(read_hex_secret(settings.events_key_file))
    consumer = IdempotentConsumer(js=js, engine=jpki.engine, table=models.processed_events,
                                  stream=resident_stream, durable="jpki-resident-facts-changed",
                                  filter_subject=events.RESIDENT_FACTS_CHANGED,
                                  handler=facts_changed_handler(jpki.revocation, sealer), service="jpki")
    relay = OutboxRelay.for_region(settings.region_name, engine=jpki.engine, table=models.outbox, js=js)
    # The audit log's head, signed and kept on JetStream: VerifyAuditChain finds its newest entries removed.
    anchor = anchor_key(read_hex_secret(settings.keys_file), "jpki")
    anchors = AnchorPublisher(engine=jpki.engine, table=models.audit_log, js=js, service="jpki", key=anchor,
                              settings=settings.audit_anchor)
    jpki.audit_anchors = functools.partial(latest_anchor, js, "jpki", models.audit_log.name, anchor)
    server = PlatformServer(settings.grpc, bindings(jpki),
                            checks={"database": jpki.units.ping, "nats": nats_check(nc),
                                    "hsm": lambda: asyncio.to_thread(jpki.hsm.ping)})
    cleanup = [nc.drain, jpki.close]
    if operators.pending_command() is None:  # `dead-letters` runs beside the serving jpki: no second listener
        http = await start_http(jpki, settings.http.listen_host, settings.http.listen_port,
                                poll_interval_s=settings.ocsp_status_delay_s / 2)
        cleanup.insert(0, http.close)
    gauges = Snapshots(interval_s=settings.metrics.refresh_interval_s)
    gauges.add("mynumber.jpki.certificates", labelled(("ca_kind", "status"), jpki.count_certificates),
               description="certificates by CA kind and status")
    await host("jpki", server, loops=[Background(jpki).run, consumer.run, relay.run, anchors.run], cleanup=cleanup,
               stop=stop, metrics=settings.metrics, gauges=gauges)
    return 0


async def responder(settings: JpkiSettings, port: int, reuse_port: bool) -> int:
    """An HTTP-only OCSP/CRL responder over the database, until SIGINT/SIGTERM (run on uvloop by __main__, hence
    not the runtime's asyncio-only `run_until_signalled`)."""
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    jpki = await build(settings)
    http = await start_http(jpki, settings.http.listen_host, port, poll_interval_s=settings.ocsp_status_delay_s / 2,
                            reuse_port=reuse_port)
    print(f"responder {os.getpid()} on {settings.http.listen_host}:{port} with {len(http.snapshot.store)} responses",
          flush=True)
    await stop.wait()
    await http.close()
    await jpki.close()
    return 0


def responder_workers(workers: int, port: int) -> int:
    """SO_REUSEPORT worker processes: the kernel spreads connections; each has its own HSM session. A signal to
    this process is passed on to the workers, whose exit status is returned."""
    procs = [subprocess.Popen([sys.executable, "-m", "jpki", "responder", "--workers", "1", "--port", str(port),
                               "--reuse-port"]) for _ in range(workers)]

    def _stop(*_: object) -> None:
        for p in procs:
            p.terminate()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return max(p.wait() for p in procs)


async def verify_audit(settings: JpkiSettings) -> AuditReport:
    """The audit chain check of the `verify-audit` command: the database, and the latest anchor of its head from
    NATS when a NATS user is configured (no HSM log-in needed). Without one the report's note says so."""
    from mynumber_runtime.nats_identity import connect_nats

    engine = engine_from(settings)
    key = anchor_key(read_hex_secret(settings.keys_file), "jpki")
    connections: list[Nats] = []

    async def lookup() -> Anchor | None:
        nc = await connect_nats(settings.nats, name="jpki-verify-audit", allow_reconnect=False, connect_timeout=5)
        connections.append(nc)
        return await latest_anchor(nc.jetstream(timeout=5), "jpki", models.audit_log.name, key)

    try:
        async with Units(engine, CaStore)() as store:
            return await store.verify_audit(lookup if settings.nats.user is not None else None)
    finally:
        for nc in connections:
            await nc.close()
        await engine.dispose()
