"""Assembly of the service's parts from settings (used by __main__ and by the integration tests)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from mynumber_runtime.clock import Clock, SystemClock
from mynumber_runtime.crypto import KeyedHash, derive_key
from mynumber_runtime.db import create_async_engine
from mynumber_runtime.keystore import load_sealer
from mynumber_runtime.settings import read_hex_secret, read_secret
from sqlalchemy.ext.asyncio import AsyncEngine

from jpki import hsm as hsmmod
from jpki import models, profiles
from jpki.http_api import HttpFront, Snapshot
from jpki.lint import Linter
from jpki.repository import JpkiRepository
from jpki.service import JpkiService, Tuning
from jpki.settings import JpkiSettings

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


async def build_service(settings: JpkiSettings, *, engine: AsyncEngine | None = None, hsm: hsmmod.Hsm | None = None,
                        clock: Clock | None = None) -> JpkiService:
    engine = engine or create_async_engine(settings.database.resolved_url(), pool_size=settings.database.pool_size)
    master = read_hex_secret(settings.keys_file)
    repo = JpkiRepository(engine)
    sealer = await load_sealer(engine, models.data_keys, derive_key(master, "jpki/kek"))
    service = JpkiService(repo=repo, hsm=hsm or open_hsm(settings), clock=clock or SystemClock(), sealer=sealer,
                          holder_hash=KeyedHash(derive_key(master, "jpki/holder")),
                          urls=profiles.Urls(settings.http.public_base_url), linter=Linter(),
                          tuning=tuning_from(settings))
    await service.load()
    return service


@dataclass
class Background:
    """The CA's periodic work: CRL schedule, OCSP re-signing, responder rotation."""

    service: JpkiService
    tick_s: float = 5.0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.service.ensure_ocsp_signers()
                await self.service.refresh_ocsp()
                await self.service.generate_due_crls()
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


async def start_http(service: JpkiService, host: str, port: int, *, poll_interval_s: float,
                     reuse_port: bool = False) -> RunningHttp:
    """An HTTP front over a database snapshot; slow-path OCSP answers are signed through this process's HSM."""
    from jpki import http_api

    snapshot = Snapshot(service.repo)
    snapshot.store.live_signer = service.live_ocsp
    await snapshot.refresh()
    # Unready after missing a few polls in a row (the promised status delay no longer holds).
    front = HttpFront(snapshot, stale_after_s=max(5.0, 4 * poll_interval_s))
    server = await http_api.serve(front, host, port, reuse_port=reuse_port)
    stop = asyncio.Event()
    return RunningHttp(server, snapshot, front, stop, asyncio.create_task(snapshot.poll(poll_interval_s, stop)))
