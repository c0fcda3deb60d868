"""Printing: the print batch for the vendor (J-LIS's joint delegation) and the vendor's print and post reports."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant

from notice import events
from notice.base import AAD_CARD, AAD_DEST, Context
from notice.entities import Batch, Item, Mailing
from notice.errors import FailedPrecondition, NotFound, not_your_municipality
from notice.export import BatchResult, BatchWriter, CardRecord, Envelope, Recall
from notice.offices import municipal_office
from notice.pdf import PdfBatch
from notice.ports import NoticeStorePort
from notice.states import BATCH, MAILING, BatchStatus, MailingStatus
from notice.tenancy import PERMITS
from notice.validation import validate_batch_id, validate_choice, validate_municipality_list

EXPORT_CHUNK = 5_000


@dataclass
class PendingBatch:
    """A batch written but not yet visible to the vendor's agent: the boundary publishes it after its unit
    commits, or aborts it when anything failed (then the envelopes stay prepared for the next batch)."""

    result: BatchResult
    writer: BatchWriter
    pdf: PdfBatch | None

    async def publish(self) -> BatchResult:
        await asyncio.to_thread(self.writer.publish)
        pdfs = [await asyncio.to_thread(self.pdf.publish)] if self.pdf is not None else []
        return replace(self.result, pdf_paths=pdfs)

    async def abort(self) -> None:
        for f in (self.writer, self.pdf):
            if f is not None:
                await asyncio.to_thread(f.abort)


class Printing:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def export_batch(self, store: NoticeStorePort, caller: Caller, municipality_codes: Sequence[str],
                           out_dir: Path | str, *, with_pdfs: bool) -> PendingBatch:
        codes = validate_municipality_list(municipality_codes)
        now = self.ctx.clock.now()
        batch_id = now.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:8]
        out = Path(out_dir)
        ms = await store.prepared_for_export(codes)
        recalls = await store.recalls_pending(codes)
        if not ms and not recalls:
            raise FailedPrecondition("no prepared envelopes or recalls to export", reason="NOTHING_TO_EXPORT")
        # J-LIS prints for every municipality (their joint delegation): the operator's basis, per body.
        bodies = sorted({m.municipality_code for m in ms} | {m.municipality_code for m in recalls})
        for code in bodies:
            grant(caller, Holding(code), permits=PERMITS["batch.export"], unknown=not_your_municipality)
            # Its head and office print on every sheet and recall: refused before any file is written
            # (the lists were refused without an office; this guards a row removed since).
            municipal_office(code, "municipality_codes")
        writer: BatchWriter | None = None
        pdf: PdfBatch | None = None
        try:
            # File work and PDF rendering run in a worker thread: the event loop keeps serving calls.
            await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
            writer = await asyncio.to_thread(BatchWriter, out / f"{batch_id}.mnb", batch_id, now, len(ms))
            pdf = await asyncio.to_thread(PdfBatch, out / f"{batch_id}.pdf") if with_pdfs and ms else None
            if recalls:
                # First in the file: the vendor stops these before anything else (a DV victim's card must not
                # reach the address it was printed for).
                await asyncio.to_thread(writer.add_recalls, [Recall(
                    mailing_id=m.mailing_id, municipality_code=m.municipality_code, stage=m.recalled_from or "",
                    batch_id=m.batch_id or "", **self.ctx.office_address(m.municipality_code)) for m in recalls])
                await store.mark_recalls_sent([m.mailing_id for m in recalls], batch_id, now)
            # Chunks: the envelopes' rows are locked once; their items are read, opened and written a chunk at a
            # time, so memory does not grow with the batch.
            for i in range(0, len(ms), EXPORT_CHUNK):
                part = ms[i:i + EXPORT_CHUNK]
                envs = await self._envelopes(store, part)
                await asyncio.to_thread(writer.add, envs)
                for m in part:
                    MAILING.move(m.status, MailingStatus.EXPORTED)
                # Per chunk: one statement for all 1,000,000 would pass PostgreSQL's 65,535-parameter limit.
                await store.mark_exported([m.mailing_id for m in part], batch_id, now)
                if pdf is not None:
                    await asyncio.to_thread(pdf.add, envs)
                await store.add_events([
                    (events.mailing_subject("exported"),
                     events.mailing_changed(mailing_id=e.mailing_id, municipality_code=e.municipality_code,
                                            status="exported", at=now, items=len(e.cards), batch_id=batch_id))
                    for e in envs])
            sha = await asyncio.to_thread(writer.finish)
            if pdf is not None:
                await asyncio.to_thread(pdf.finish)
            await store.insert_batch(Batch(batch_id=batch_id, created_at=now, envelopes=len(ms),
                                           records=writer.records, sha256=sha, status="exported",
                                           recalls=len(recalls)))
            await store.record_access(
                at=now, actor=str(caller), action="batch.export", subject_ref=f"batch:{batch_id}",
                purpose="通知カード printing delegated to J-LIS",
                details={"basis": Basis.OPERATOR.value, "envelopes": len(ms), "recalls": len(recalls),
                         "municipalities": bodies})
        except BaseException:
            for f in (writer, pdf):
                if f is not None:
                    await asyncio.to_thread(f.abort)
            raise
        # Not published here: only after the commit may the vendor's agent see the files. Were they visible before
        # it and the commit failed, the envelopes would stay prepared and be printed and mailed again.
        return PendingBatch(BatchResult(batch_id=batch_id, path=writer.path, envelopes=len(ms),
                                        records=writer.records, sha256=sha, pdf_paths=[], recalls=len(recalls)),
                            writer, pdf)

    async def _envelopes(self, store: NoticeStorePort, ms: Sequence[Mailing]) -> list[Envelope]:
        ctx = self.ctx
        items = await store.items_of([m.mailing_id for m in ms])
        by: dict[str, list[Item]] = defaultdict(list)
        for it in items:
            by[it.mailing_id].append(it)
        envs = []
        for m in ms:
            dest = ctx.open(m.sealed_destination, AAD_DEST)
            sealed_label = b""
            if m.destination == "residence_restricted":
                # A DV victim's 居所 leaves only sealed to the vendor's secure label line.
                sealed_label = ctx.print_sealer.seal(json.dumps(dest, ensure_ascii=False).encode(),
                                                     m.mailing_id.encode())
                dest = {"address": "", "postal_code": "", "addressee": ""}
            cards = [CardRecord(application_id=it.application_id or "", document=it.document,
                                **ctx.open(it.sealed_card, AAD_CARD)) for it in by[m.mailing_id]]
            envs.append(Envelope(mailing_id=m.mailing_id, municipality_code=m.municipality_code, kind=m.kind,
                                 destination=m.destination, postal_code=dest["postal_code"],
                                 address=dest["address"], addressee=dest["addressee"], sealed_label=sealed_label,
                                 cards=cards))
        return envs

    async def report_print_status(self, store: NoticeStorePort, batch_id: str, status: str) -> int:
        batch_id = validate_batch_id(batch_id)
        validate_choice(status, "status", ("printed", "posted"), "must be PRINTED or POSTED")
        now = self.ctx.clock.now()
        batch = await store.get_batch(batch_id)
        if batch is None:
            raise NotFound("batch_id: no such batch", reason="UNKNOWN_BATCH")
        target = BatchStatus(status)
        before = BatchStatus.EXPORTED if target == BatchStatus.PRINTED else BatchStatus.PRINTED
        if not BATCH.allowed(batch.status, target):
            raise FailedPrecondition(f"status: a batch is {status} only after it is {before}", reason="PRINT_ORDER")
        # The batch's envelopes move with it (those recalled meanwhile stay recalled).
        MAILING.move(MailingStatus(before.value), MailingStatus(target.value))
        changed = await store.set_batch_status(batch_id, before, target, now)
        await store.update_batch(batch_id, target)
        await store.add_events([
            (events.mailing_subject(status),
             events.mailing_changed(mailing_id=r.mailing_id, municipality_code=r.municipality_code,
                                    status=status, at=now, batch_id=batch_id)) for r in changed])
        return len(changed)
