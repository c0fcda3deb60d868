"""The rules of 通知カード mailing (no proto, no SQL). Seed pages cited as "chart ①" (転居・転入時の扱い) and
"chart ②" (通知カード返戻時の対応フロー), and 別紙 1/2 (居所 of evacuees and DV victims)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer, KeyedHash
from mynumber_runtime.errors import DomainError
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant
from sqlalchemy.ext.asyncio import AsyncConnection

from notice import events, policy
from notice.codes import new_application_id
from notice.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    no_residence,
    not_in_mailing,
    not_your_municipality,
    unknown_mailing,
    unknown_resident,
)
from notice.export import BatchResult, BatchWriter, CardRecord, Envelope, Recall
from notice.offices import load_offices, municipal_office
from notice.pdf import PdfBatch
from notice.repository import NoticeRepository, Row
from notice.tenancy import PERMITS, holding_of
from notice.validation import (
    AddressIn,
    MemberIn,
    validate_address_pair,
    validate_batch_id,
    validate_choice,
    validate_documents,
    validate_household_id,
    validate_mailing_id,
    validate_member,
    validate_municipality,
    validate_municipality_list,
    validate_resident_code,
)

__all__ = ["HouseholdIn", "ListOutcome", "MemberIn", "NoticeService", "Outcome", "ResidenceOutcome"]

log = logging.getLogger("notice")

EXPORT_CHUNK = 5_000
RETURN_REASONS = ("あて所なし", "受取拒否", "保管期間経過")
# 別紙 1/2 ①: 居所情報登録申請書, 本人確認書類の写し, 送付場所の確認のための資料 (a 被災者 may be asked for proof of
# being one: optional, the municipality decides).
REQUIRED_DOCUMENTS = ("application", "identity_copy", "address_proof")
KNOWN_DOCUMENTS = (*REQUIRED_DOCUMENTS, "disaster_proof")
IN_TRANSIT = ("mailed",)
HELD = ("returned", "held_at_office")
HANDED = ("delivered", "handed_over")
# Envelope states before the vendor has it (re-routed in place) and after (recalled): a 居所 registered later
# must keep the card from the address it no longer may go to.
NOT_YET_EXPORTED = ("prepared",)
LEFT_FOR_VENDOR = ("exported", "printed", "posted")
# What 返還登録 leaves on the resident: no card, and no move waiting for one.
RETURN_REGISTERED: dict[str, Any] = {"card_status": "return_registered", "pending_action": None,
                                     "sealed_pending_address": None}

AAD_FACTS, AAD_NUMBER, AAD_ADDRESS = b"notice.residents.facts", b"notice.residents.number", b"notice.address"
AAD_RESIDENCE, AAD_DEST, AAD_CARD = b"notice.residences.address", b"notice.mailings.dest", b"notice.items.card"


@dataclass(frozen=True)
class HouseholdIn:
    household_id: str
    address: str
    postal_code: str
    members: Sequence[MemberIn]


@dataclass
class Outcome:
    """What a flow-chart step did, in order (the answer to the municipality and the test's oracle)."""

    steps: list[str] = field(default_factory=list)
    new_mailing_id: str = ""
    kind: str = ""
    fee_yen: int = 0


@dataclass
class ListOutcome:
    residents: int
    prepared: int
    # (household index, member index, reason) of members not stored: never re-homed from another municipality.
    refused: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass
class ResidenceOutcome:
    """Where later mail goes, and what a 居所 registration did to the mail already on its way."""

    destination: str
    # nothing_in_transit, rerouted, recalled, already_delivered, held_at_office, recall_at_post_office
    mail_action: str
    rerouted: list[str] = field(default_factory=list)
    recalled: list[str] = field(default_factory=list)


def _check_caller_municipality(caller: Caller, municipality_code: str, field: str = "municipality_code") -> str:
    """The request's 団体コード must be a real municipality and the caller's own: a municipality acts in its own
    name (which resident it may touch is then tenancy.grant's question)."""
    code = validate_municipality(municipality_code, field)
    if caller.kind != "municipality" or caller.id != code:
        raise not_your_municipality()
    return code


def _check_mailing_municipality(caller: Caller, municipality_code: str) -> str:
    """As `_check_caller_municipality`, for a request that can start mail: the municipality must also be one notice
    holds an office for (its head issues the notice; a card held at the office goes to its address). Refused here,
    before anything is stored, so no envelope is ever prepared that could not be printed or addressed."""
    code = _check_caller_municipality(caller, municipality_code)
    municipal_office(code)
    return code


class NoticeService:
    def __init__(self, *, repo: NoticeRepository, sealer: FieldSealer, hasher: KeyedHash, clock: Clock,
                 print_sealer: FieldSealer) -> None:
        self.repo = repo
        self.sealer = sealer
        self.hash = hasher
        self.clock = clock
        self.print_sealer = print_sealer
        load_offices()  # a malformed office table fails the start, not the first export

    # --- sealing helpers ------------------------------------------------------------------------------------
    def _seal(self, value: Any, aad: bytes) -> bytes:
        return self.sealer.seal(json.dumps(value, ensure_ascii=False).encode(), aad)

    def _open(self, sealed: bytes, aad: bytes) -> Any:
        return json.loads(self.sealer.open(bytes(sealed), aad))

    def _rh(self, resident_code: str) -> bytes:
        return self.hash(resident_code.encode())

    async def _audit(self, conn: AsyncConnection, caller: Caller, action: str, resident_code: str,
                     purpose: str, basis: Basis | None, **details: Any) -> None:
        # The legal basis the caller acted on (tenancy.grant), or "refused": the access log says why, not only who.
        await self.repo.record_access(conn, at=self.clock.now(), actor=str(caller), action=action,
                                      subject_ref=self._rh(resident_code).hex(), purpose=purpose,
                                      details={"basis": basis.value if basis else "refused", **details})

    # --- tenancy: the one place that loads a resident's holding and asks grant() ---------------------------
    async def _resident(self, conn: AsyncConnection, caller: Caller, resident_code: str, action: str, *,
                        numbered: bool = True, unknown: Callable[[], DomainError] = unknown_resident,
                        lock: bool = True) -> tuple[Row, Basis]:
        """The resident row and the basis on which `caller` may do `action` to it (PERMITS), or `unknown()`
        raised: not held here, not numbered (where `numbered`) and not the caller's all answer the same."""
        r = await self.repo.get_resident(conn, self._rh(resident_code), lock=lock)
        basis = grant(caller, holding_of(r, numbered=numbered), permits=PERMITS[action], unknown=unknown)
        assert r is not None  # grant raised for a missing holding
        return r, basis

    def office_address(self, municipality_code: str) -> dict[str, str]:
        # 別紙 2 (2) ②: 住所地市区町村の役所・役場の所在地を入力 ※居所情報は入力しない. The office's real address and
        # postal code (notice.offices), never a placeholder.
        office = municipal_office(municipality_code)
        return {"address": office.mailing_address, "postal_code": office.postal_code}

    # --- mailing list and numbers ---------------------------------------------------------------------------
    async def submit_mailing_list(self, caller: Caller, municipality_code: str,
                                  households: Sequence[HouseholdIn]) -> ListOutcome:
        municipality_code = _check_mailing_municipality(caller, municipality_code)
        if not households:
            raise InvalidArgument("households", "at least one household is required")
        # The whole list is checked before anything is stored: a malformed item refuses the request.
        checked: list[tuple[str, AddressIn, Sequence[MemberIn]]] = []
        seen: set[str] = set()
        for i, h in enumerate(households):
            hid = validate_household_id(h.household_id, f"households[{i}].household_id")
            home = validate_address_pair(h.address, h.postal_code, f"households[{i}].address",
                                         f"households[{i}].postal_code")
            if not h.members:
                raise InvalidArgument(f"households[{i}].members", "a household has at least one member")
            for j, m in enumerate(h.members):
                validate_member(m, f"households[{i}].members[{j}]")
                if m.resident_code in seen:
                    raise InvalidArgument(f"households[{i}].members[{j}].resident_code",
                                          "appears twice in the list (one person, one household)")
                seen.add(m.resident_code)
            checked.append((hid, home, h.members))
        hashes = self.hash.many([c.encode() for c in seen])
        by_code = dict(zip(seen, hashes, strict=True))
        out = ListOutcome(residents=0, prepared=0)
        async with self.repo.begin() as conn:
            held = await self.repo.holdings_for_update(conn, hashes)
            hh_rows, res_rows, where = [], [], {}
            for i, (hid, home, members) in enumerate(checked):
                hh_rows.append({"municipality_code": municipality_code, "household_id": hid,
                                "sealed_address": self._seal({"address": home.address,
                                                              "postal_code": home.postal_code}, AAD_ADDRESS)})
                for j, m in enumerate(members):
                    rh = by_code[m.resident_code]
                    # A list never moves a resident: one held for another municipality is refused as unknown; one
                    # nobody holds yet is created for the list's municipality (number.assigned confirms it).
                    holding = holding_of(held.get(rh), numbered=False) or Holding(municipality_code)
                    try:
                        grant(caller, holding, permits=PERMITS["mailing_list"], unknown=unknown_resident)
                    except DomainError as e:
                        out.refused.append((i, j, e.reason))
                        continue
                    where[rh] = (i, j)
                    res_rows.append({"resident_hash": rh, "municipality_code": municipality_code,
                                     "household_id": hid,
                                     "sealed_facts": self._seal({"resident_code": m.resident_code, "name": m.name,
                                                                 "birth_date": m.birth_date, "sex": m.sex},
                                                                AAD_FACTS)})
            await self.repo.upsert_households(conn, hh_rows)
            stored = await self.repo.upsert_residents_from_list(conn, res_rows)
            # A row another municipality's list created in the same instant: refused like any other's.
            out.refused += [(*where[rh], "UNKNOWN_RESIDENT") for rh in where if rh not in stored]
            out.refused.sort()
            out.residents = len(stored)
            await self.repo.record_access(
                conn, at=self.clock.now(), actor=str(caller), action="mailing_list.submit",
                subject_ref=f"municipality:{municipality_code}", purpose="送付先情報 (通知カード mailing)",
                details={"basis": Basis.OWN_REGISTER.value, "residents": out.residents, "refused": len(out.refused)})
            out.prepared = await self.prepare_mailings(conn, municipality_code)
        log.info("mailing list stored", extra={"municipality": municipality_code, "residents": out.residents,
                                               "refused": len(out.refused), "envelopes": out.prepared})
        return out

    async def on_number_assigned(self, conn: AsyncConnection, assigned: events.Assigned) -> int:
        """number.assigned: keep the number (sealed) beside the resident; mail those whose facts are known. The
        numbering service decides which municipality holds a resident (its own tenancy checks the register)."""
        sealed = self.sealer.seal_many([n.encode() for n in assigned.numbers], AAD_NUMBER)
        hashes = self.hash.many([c.encode() for c in assigned.resident_codes])
        rows = [{"resident_hash": h, "municipality_code": mc, "sealed_number": s,
                 "number_assigned_at": assigned.assigned_at}
                for h, mc, s in zip(hashes, assigned.municipality_codes, sealed, strict=True)]
        await self.repo.upsert_residents_from_numbers(conn, rows)
        total = 0
        for mc in sorted(set(assigned.municipality_codes)):
            total += await self.prepare_mailings(conn, mc)
        return total

    def _card(self, facts: dict[str, Any], number: str, address: str) -> dict[str, Any]:
        return {"number": number, "name": facts["name"], "address": address, "birth_date": facts["birth_date"],
                "sex": facts["sex"]}

    def _destination(self, municipality_code: str, home: dict[str, str], residence: Row | None,
                     addressee: str) -> tuple[str, bytes]:
        if residence is None:
            return "address", self._seal({**home, "addressee": addressee}, AAD_DEST)
        if residence.hold_at_office:
            return "office", self._seal({**self.office_address(municipality_code), "addressee": addressee}, AAD_DEST)
        where = self._open(residence.sealed_address, AAD_RESIDENCE)
        kind = "residence_restricted" if residence.kind == "dv_victim" else "residence"
        return kind, self._seal({**where, "addressee": addressee}, AAD_DEST)

    async def prepare_mailings(self, conn: AsyncConnection, municipality_code: str) -> int:
        """One envelope per household (転送不要の簡易書留); a member with a registered 居所 gets their own envelope
        to it (別紙 1/2: the 居所 is a person's, not the household's)."""
        rows = await self.repo.ready_to_mail(conn, municipality_code)
        if not rows:
            return 0
        now = self.clock.now()
        addrs = await self.repo.household_addresses(conn, municipality_code, {r.household_id for r in rows})
        # Only the 居所 this municipality registered routes its mail (another's, e.g. before a 転入, never does).
        res = await self.repo.residences_of(conn, municipality_code, [bytes(r.resident_hash) for r in rows])
        groups: dict[tuple[str, bytes], list[Row]] = defaultdict(list)
        for r in rows:
            rh = bytes(r.resident_hash)
            groups[(r.household_id, rh if rh in res else b"")].append(r)
        envelopes, items, evs = [], [], []
        for (household_id, own), members in groups.items():
            home = self._open(addrs[household_id], AAD_ADDRESS)
            facts = [self._open(m.sealed_facts, AAD_FACTS) for m in members]
            dest, sealed_dest = self._destination(municipality_code, home, res.get(own) if own else None,
                                                  facts[0]["name"] + (" 様" if len(facts) == 1 else " 様 ほか"))
            mid = uuid.uuid4().hex
            docs = [policy.document_for_new_number(m.number_assigned_at or now) for m in members]
            kind = "notification_letter" if all(d == policy.NOTIFICATION_LETTER for d in docs) else "initial"
            envelopes.append({"mailing_id": mid, "municipality_code": municipality_code,
                              "household_id": household_id, "kind": kind, "status": "prepared",
                              "destination": dest, "sealed_destination": sealed_dest, "created_at": now,
                              "updated_at": now, "fee_yen": 0})
            for seq, (m, f, doc) in enumerate(zip(members, facts, docs, strict=True)):
                number = self.sealer.open(bytes(m.sealed_number), AAD_NUMBER).decode()
                items.append({"mailing_id": mid, "resident_hash": m.resident_hash, "seq": seq, "document": doc,
                              "application_id": new_application_id(),
                              "sealed_card": self._seal(self._card(f, number, home["address"]), AAD_CARD)})
            evs.append((events.mailing_subject("prepared"),
                        events.mailing_changed(mailing_id=mid, municipality_code=municipality_code,
                                               status="prepared", at=now, items=len(members))))
        await self.repo.insert_mailings(conn, envelopes, items)
        await self.repo.mark_mailed(conn, [{"rh": it["resident_hash"], "mid": it["mailing_id"]} for it in items])
        await self.repo.add_events(conn, evs)
        return len(envelopes)

    # --- export and printing --------------------------------------------------------------------------------
    async def export_batch(self, caller: Caller, municipality_codes: Sequence[str], out_dir: Path | str, *,
                           with_pdfs: bool) -> BatchResult:
        codes = validate_municipality_list(municipality_codes)
        now = self.clock.now()
        batch_id = now.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:8]
        out = Path(out_dir)
        writer: BatchWriter | None = None
        pdf: PdfBatch | None = None
        try:
            async with self.repo.begin() as conn:
                ms = await self.repo.prepared_for_export(conn, codes)
                recalls = await self.repo.recalls_pending(conn, codes)
                if not ms and not recalls:
                    raise FailedPrecondition("no prepared envelopes or recalls to export", reason="NOTHING_TO_EXPORT")
                # J-LIS prints for every municipality (their joint delegation): the operator's basis, per body.
                bodies = sorted({m.municipality_code for m in ms} | {m.municipality_code for m in recalls})
                for code in bodies:
                    grant(caller, Holding(code), permits=PERMITS["batch.export"], unknown=not_your_municipality)
                    # Its head and office print on every sheet and recall: refused before any file is written
                    # (the lists were refused without an office; this guards a row removed since).
                    municipal_office(code, "municipality_codes")
                # File work and PDF rendering run in a worker thread: the event loop keeps serving calls.
                await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
                writer = await asyncio.to_thread(BatchWriter, out / f"{batch_id}.mnb", batch_id, now, len(ms))
                pdf = await asyncio.to_thread(PdfBatch, out / f"{batch_id}.pdf") if with_pdfs and ms else None
                if recalls:
                    # First in the file: the vendor stops these before anything else (a DV victim's card must not
                    # reach the address it was printed for).
                    await asyncio.to_thread(writer.add_recalls, [Recall(
                        mailing_id=m.mailing_id, municipality_code=m.municipality_code, stage=m.recalled_from or "",
                        batch_id=m.batch_id or "", **self.office_address(m.municipality_code)) for m in recalls])
                    await self.repo.update_mailings(conn, [m.mailing_id for m in recalls], recall_batch_id=batch_id,
                                                    updated_at=now)
                # Chunks: the envelopes' rows are locked once; their items are read, opened and written a chunk
                # at a time, so memory does not grow with the batch.
                for i in range(0, len(ms), EXPORT_CHUNK):
                    part = ms[i:i + EXPORT_CHUNK]
                    envs = await self._envelopes(conn, part)
                    await asyncio.to_thread(writer.add, envs)
                    # Per chunk: one statement for all 1,000,000 would pass PostgreSQL's 65,535-parameter limit.
                    await self.repo.update_mailings(conn, [m.mailing_id for m in part], status="exported",
                                                    batch_id=batch_id, updated_at=now)
                    if pdf is not None:
                        await asyncio.to_thread(pdf.add, envs)
                    await self.repo.add_events(conn, [
                        (events.mailing_subject("exported"),
                         events.mailing_changed(mailing_id=e.mailing_id, municipality_code=e.municipality_code,
                                                status="exported", at=now, items=len(e.cards), batch_id=batch_id))
                        for e in envs])
                sha = await asyncio.to_thread(writer.finish)
                if pdf is not None:
                    await asyncio.to_thread(pdf.finish)
                await self.repo.insert_batch(conn, {"batch_id": batch_id, "created_at": now, "envelopes": len(ms),
                                                    "records": writer.records, "sha256": sha, "status": "exported",
                                                    "recalls": len(recalls)})
                await self.repo.record_access(
                    conn, at=now, actor=str(caller), action="batch.export", subject_ref=f"batch:{batch_id}",
                    purpose="通知カード printing delegated to J-LIS",
                    details={"basis": Basis.OPERATOR.value, "envelopes": len(ms), "recalls": len(recalls),
                             "municipalities": bodies})
        except BaseException:
            for f in (writer, pdf):
                if f is not None:
                    await asyncio.to_thread(f.abort)
            raise
        # Only after the commit does the vendor's agent see the files: were they visible before it and the commit
        # failed, the envelopes would stay prepared and be printed and mailed again in the next batch.
        await asyncio.to_thread(writer.publish)
        pdfs = [await asyncio.to_thread(pdf.publish)] if pdf is not None else []
        return BatchResult(batch_id=batch_id, path=writer.path, envelopes=len(ms), records=writer.records,
                           sha256=sha, pdf_paths=pdfs, recalls=len(recalls))

    async def _envelopes(self, conn: AsyncConnection, ms: Sequence[Row]) -> list[Envelope]:
        items = await self.repo.items_of(conn, [m.mailing_id for m in ms])
        by: dict[str, list[Row]] = defaultdict(list)
        for it in items:
            by[it.mailing_id].append(it)
        envs = []
        for m in ms:
            dest = self._open(m.sealed_destination, AAD_DEST)
            sealed_label = b""
            if m.destination == "residence_restricted":
                # A DV victim's 居所 leaves only sealed to the vendor's secure label line.
                sealed_label = self.print_sealer.seal(json.dumps(dest, ensure_ascii=False).encode(),
                                                      m.mailing_id.encode())
                dest = {"address": "", "postal_code": "", "addressee": ""}
            cards = [CardRecord(application_id=it.application_id or "", document=it.document,
                                **self._open(it.sealed_card, AAD_CARD)) for it in by[m.mailing_id]]
            envs.append(Envelope(mailing_id=m.mailing_id, municipality_code=m.municipality_code, kind=m.kind,
                                 destination=m.destination, postal_code=dest["postal_code"],
                                 address=dest["address"], addressee=dest["addressee"], sealed_label=sealed_label,
                                 cards=cards))
        return envs

    async def report_print_status(self, batch_id: str, status: str) -> int:
        batch_id = validate_batch_id(batch_id)
        validate_choice(status, "status", ("printed", "posted"), "must be PRINTED or POSTED")
        now = self.clock.now()
        async with self.repo.begin() as conn:
            batch = await self.repo.get_batch(conn, batch_id)
            if batch is None:
                raise NotFound("batch_id: no such batch", reason="UNKNOWN_BATCH")
            before = "exported" if status == "printed" else "printed"
            if batch.status != before:
                raise FailedPrecondition(f"status: a batch is {status} only after it is {before}",
                                         reason="PRINT_ORDER")
            changed = await self.repo.set_batch_status(conn, batch_id, before, status, now)
            await self.repo.update_batch(conn, batch_id, status)
            await self.repo.add_events(conn, [
                (events.mailing_subject(status),
                 events.mailing_changed(mailing_id=r.mailing_id, municipality_code=r.municipality_code,
                                        status=status, at=now, batch_id=batch_id)) for r in changed])
        return len(changed)

    # --- delivery and returned mail (chart ②) ---------------------------------------------------------------
    async def _own_mailing(self, conn: AsyncConnection, caller: Caller, mailing_id: str) -> Row:
        """An envelope belongs to the municipality that mails it: another's answers as an unknown one."""
        m = await self.repo.get_mailing(conn, mailing_id, lock=True)
        grant(caller, Holding(m.municipality_code) if m is not None else None, permits=PERMITS["mailing"],
              unknown=unknown_mailing)
        assert m is not None
        return m

    def _change(self, subj: str, mailing_id: str, municipality_code: str, status: str, *, items: int = 0,
                reason: str = "") -> tuple[str, bytes]:
        return subj, events.mailing_changed(mailing_id=mailing_id, municipality_code=municipality_code,
                                            status=status, at=self.clock.now(), items=items, return_reason=reason)

    async def _event(self, conn: AsyncConnection, subj: str, mailing_id: str, municipality_code: str,
                     status: str, *, items: int = 0, reason: str = "") -> None:
        await self.repo.add_events(conn, [self._change(subj, mailing_id, municipality_code, status, items=items,
                                                       reason=reason)])

    async def record_delivery(self, caller: Caller, municipality_code: str, mailing_id: str, delivered: bool,
                              return_reason: str) -> Row:
        municipality_code = _check_caller_municipality(caller, municipality_code)
        mailing_id = validate_mailing_id(mailing_id)
        if not delivered:
            validate_choice(return_reason, "return_reason", RETURN_REASONS,
                            "must be あて所なし, 受取拒否 or 保管期間経過 (日本郵便の返戻理由)")
        now = self.clock.now()
        async with self.repo.begin() as conn:
            m = await self._own_mailing(conn, caller, mailing_id)
            if m.status not in ("posted", "recalled"):
                # Only an envelope the post office holds (or one recalled, on its way back) can arrive anywhere.
                raise FailedPrecondition(f"mailing_id: the envelope was never posted (it is {m.status})",
                                         reason="NOT_POSTED")
            members = await self.repo.residents_in(conn, mailing_id)
            ours = [bytes(r.resident_hash) for r in members if r.current_mailing_id == mailing_id]
            if delivered:
                # 別紙 2 (2): a card delivered to the office waits there until the DV victim collects it or the
                # municipality itself sends it on (ResolveReturnedMail collected_at_counter / municipal_resend).
                # A recalled envelope "delivered" is one back at the office: its card is held there likewise.
                status = "held_at_office" if m.destination == "office" or m.status == "recalled" else "delivered"
                await self.repo.update_mailing(conn, mailing_id, status=status, updated_at=now)
                await self.repo.update_residents(conn, ours, card_status=status)
                await self._event(conn, events.mailing_subject(status), mailing_id, municipality_code, status,
                                  items=len(members))
            else:
                await self.repo.update_mailing(conn, mailing_id, status="returned", return_reason=return_reason,
                                               returned_at=now, hold_until=policy.hold_until(now), updated_at=now)
                await self.repo.update_residents(conn, ours, card_status="returned")
                await self._event(conn, events.mailing_subject("returned"), mailing_id, municipality_code,
                                  "returned", items=len(members), reason=return_reason)
                # Cards superseded by a resend after a move (chart ① 転入, 受理する可能性なし: 返戻後返還登録、廃棄)
                # are registered and disposed of as soon as they come back.
                stale = sum(r.current_mailing_id != mailing_id for r in members)
                await self.repo.add_events(conn, [self._change(events.card_subject("return_registered"), mailing_id,
                                                               municipality_code, "return_registered", items=1)
                                                  ] * stale)
                # A move decided while the card travelled (chart ①-3 転居): act on the return now.
                for r in members:
                    if r.current_mailing_id == mailing_id and r.pending_action == "new_issue":
                        await self._reissue_after_return(conn, r, m)
                await self._close_if_resolved(conn, mailing_id, municipality_code)
            return await self.repo.get_mailing(conn, mailing_id)  # type: ignore[return-value]

    async def _close_if_resolved(self, conn: AsyncConnection, mailing_id: str, municipality_code: str) -> None:
        members = await self.repo.residents_in(conn, mailing_id)
        if not any(r.current_mailing_id == mailing_id and r.card_status in HELD for r in members):
            await self.repo.update_mailing(conn, mailing_id, status="resolved", updated_at=self.clock.now())
            await self._event(conn, events.mailing_subject("resolved"), mailing_id, municipality_code, "resolved")

    def _return_register_events(self, mailing_id: str, municipality_code: str) -> list[tuple[str, bytes]]:
        return [self._change(events.card_subject(status), mailing_id, municipality_code, status, items=1)
                for status in ("return_registered", "disposed")]

    async def _return_register(self, conn: AsyncConnection, r: Row, mailing_id: str, out: Outcome) -> None:
        """返還登録 then 廃棄処理: the card held at the municipality is cancelled and destroyed."""
        await self.repo.update_residents(conn, [bytes(r.resident_hash)], **RETURN_REGISTERED)
        await self.repo.add_events(conn, self._return_register_events(mailing_id, r.municipality_code))
        out.steps += ["return_registered", "disposed"]

    async def _endorse(self, conn: AsyncConnection, r: Row, address: dict[str, str], mailing_id: str,
                       out: Outcome) -> None:
        """裏書き (番号法 第7条第5項: the 追記欄 on the back records the new address)."""
        if not policy.notice_card_in_force(self.clock.now()):
            raise FailedPrecondition("the 通知カード is abolished since 2020-05-25: no endorsement",
                                     reason="NOTICE_CARD_ABOLISHED")
        await self.repo.insert_endorsement(conn, {"resident_hash": r.resident_hash,
                                                  "municipality_code": r.municipality_code,
                                                  "sealed_address": self._seal(address, AAD_ADDRESS),
                                                  "endorsed_at": self.clock.now()})
        await self._event(conn, events.card_subject("endorsed"), mailing_id, r.municipality_code, "endorsed",
                          items=1)
        out.steps.append("endorsed")

    async def _hand_over(self, conn: AsyncConnection, r: Row, mailing_id: str, out: Outcome) -> None:
        await self.repo.update_residents(conn, [bytes(r.resident_hash)], card_status="handed_over",
                                         pending_action=None, sealed_pending_address=None)
        await self._event(conn, events.card_subject("handed_over"), mailing_id, r.municipality_code,
                          "handed_over", items=1)
        out.steps.append("handed_over")

    async def _send_new(self, conn: AsyncConnection, r: Row, address: dict[str, str], *, kind: str, fee: int,
                        with_form: bool, status: str = "prepared") -> str:
        """A new envelope for one resident, card (+ form) rebuilt from the facts and the number."""
        now = self.clock.now()
        facts = self._open(r.sealed_facts, AAD_FACTS)
        number = self.sealer.open(bytes(r.sealed_number), AAD_NUMBER).decode()
        residence = await self.repo.get_residence(conn, r.resident_hash, r.municipality_code)
        dest, sealed_dest = self._destination(r.municipality_code, address, residence, facts["name"] + " 様")
        mid = uuid.uuid4().hex
        await self.repo.insert_mailings(conn, [{
            "mailing_id": mid, "municipality_code": r.municipality_code, "household_id": r.household_id or "",
            "kind": kind, "status": status, "destination": dest, "sealed_destination": sealed_dest,
            "created_at": now, "updated_at": now, "fee_yen": fee}], [{
            "mailing_id": mid, "resident_hash": r.resident_hash, "seq": 0, "document": policy.NOTICE_CARD,
            # Chart ①: a 転居 resend without 返還登録 carries the card only (申請書のない通知カードのみ).
            "application_id": new_application_id() if with_form else None,
            "sealed_card": self._seal(self._card(facts, number, address["address"]), AAD_CARD)}])
        await self.repo.update_residents(conn, [bytes(r.resident_hash)], card_status="mailed",
                                         current_mailing_id=mid, pending_action=None, sealed_pending_address=None)
        await self._event(conn, events.mailing_subject(status), mid, r.municipality_code, status, items=1)
        return mid

    async def _resend(self, conn: AsyncConnection, r: Row, address: dict[str, str], out: Outcome, *,
                      after_return_registration: bool = False, with_form: bool = True,
                      steps: Sequence[str] = ("resent",)) -> None:
        """A new card by the dated terms (free resend or re-issue), recorded in the outcome."""
        terms = policy.resend_terms(self.clock.now(), after_return_registration=after_return_registration)
        out.new_mailing_id = await self._send_new(conn, r, address, kind=terms.kind, fee=terms.fee_yen,
                                                  with_form=with_form)
        out.kind, out.fee_yen = terms.kind, terms.fee_yen
        out.steps += steps

    async def _reissue_after_return(self, conn: AsyncConnection, r: Row, m: Row) -> None:
        out = Outcome()
        address = self._open(r.sealed_pending_address, AAD_ADDRESS)
        await self._return_register(conn, r, m.mailing_id, out)
        await self._resend(conn, r, address, out, after_return_registration=True)

    async def resolve_returned(self, caller: Caller, municipality_code: str, mailing_id: str, resident_code: str,
                               finding: str, preference: str, new_address: str, new_postal_code: str) -> Outcome:
        """Chart ②: after 住民票記載事項の確認・調査."""
        municipality_code = _check_caller_municipality(caller, municipality_code)
        mailing_id = validate_mailing_id(mailing_id)
        validate_resident_code(resident_code)
        findings = ("collected_at_counter", "municipal_resend", "moved_within", "moved_out", "deleted")
        validate_choice(finding, "finding", findings, "must be one of " + ", ".join(findings))
        moved_to: AddressIn | None = None
        if finding == "moved_within":
            validate_choice(preference, "preference", ("endorse", "new_issue"),
                            "moved_within needs endorse or new_issue (chart ①-1)")
            moved_to = validate_address_pair(new_address, new_postal_code, "new_address", "new_postal_code")
        out = Outcome()
        async with self.repo.begin() as conn:
            m = await self._own_mailing(conn, caller, mailing_id)
            held_at_office = m.status == "held_at_office"
            if m.status != "returned" and not held_at_office:
                raise FailedPrecondition(f"mailing_id: the envelope is not held as returned mail ({m.status})",
                                         reason="NOT_RETURNED")
            if held_at_office and finding not in ("collected_at_counter", "municipal_resend"):
                raise InvalidArgument("finding", "a card held at the office is collected or sent on by the "
                                      "municipality (別紙 2 (2))")
            r, basis = await self._resident(conn, caller, resident_code, "returned_mail", unknown=not_in_mailing)
            if r.current_mailing_id != mailing_id or r.card_status not in HELD:
                raise not_in_mailing()
            await self._audit(conn, caller, f"returned_mail.{finding}", resident_code, "returned mail (chart ②)",
                              basis)
            if finding == "collected_at_counter":
                # 転居等がない場合: 市区町村窓口に出頭し本人確認の上交付.
                await self._hand_over(conn, r, mailing_id, out)
            elif finding == "municipal_resend":
                # ... or 市町村の独自サービスとして簡易書留で再送: the same card, posted by the municipality.
                item = await self.repo.item_of(conn, mailing_id, r.resident_hash)
                residence = (await self.repo.get_residence(conn, r.resident_hash, r.municipality_code)
                             if held_at_office else None)
                if residence is not None:
                    # 住所地市区町村が送付: the municipality posts it to the 居所 itself; it never goes to J-LIS or
                    # the print vendor, so the 居所 stays inside the municipality.
                    where = self._open(residence.sealed_address, AAD_RESIDENCE)
                    out.new_mailing_id = await self._repost(conn, r, item, where, destination="residence_restricted")
                else:
                    out.new_mailing_id = await self._repost(conn, r, item, await self._home_address(conn, r))
                out.steps.append("municipal_resend")
            elif moved_to is not None:  # moved_within
                address = {"address": moved_to.address, "postal_code": moved_to.postal_code}
                if preference == "endorse":  # ①-1: 転居手続後 裏書きの上交付
                    await self._endorse(conn, r, address, mailing_id, out)
                    await self._hand_over(conn, r, mailing_id, out)
                else:  # ... 又は 1. 返還登録 2. 廃棄処理 3. 新送付先情報をJ-LISに送信、通知カードを再送
                    await self._return_register(conn, r, mailing_id, out)
                    await self._resend(conn, r, address, out, after_return_registration=True)
            else:
                # moved_out (転出元: 1. 返還登録 2. 廃棄処理; the 転入先 resends on its RecordMove) and deleted
                # (③ 消除: 死亡、居住の事実無 -> 廃棄処理).
                await self._return_register(conn, r, mailing_id, out)
            await self._close_if_resolved(conn, mailing_id, municipality_code)
        return out

    async def _home_address(self, conn: AsyncConnection, r: Row) -> dict[str, str]:
        addrs = await self.repo.household_addresses(conn, r.municipality_code, [r.household_id])
        if r.household_id not in addrs:
            raise FailedPrecondition("household_id: the resident's household has no address on file",
                                     reason="NO_ADDRESS")
        return self._open(addrs[r.household_id], AAD_ADDRESS)  # type: ignore[no-any-return]

    async def _repost(self, conn: AsyncConnection, r: Row, item: Row | None, address: dict[str, str], *,
                      destination: str = "address") -> str:
        now = self.clock.now()
        facts = self._open(r.sealed_facts, AAD_FACTS)
        mid = uuid.uuid4().hex
        await self.repo.insert_mailings(conn, [{
            "mailing_id": mid, "municipality_code": r.municipality_code, "household_id": r.household_id or "",
            "kind": "municipal_resend", "status": "posted", "destination": destination,
            "sealed_destination": self._seal({**address, "addressee": facts["name"] + " 様"}, AAD_DEST),
            "created_at": now, "updated_at": now, "fee_yen": 0}], [{
            "mailing_id": mid, "resident_hash": r.resident_hash, "seq": 0,
            "document": item.document if item else policy.NOTICE_CARD,
            "application_id": item.application_id if item else None,
            "sealed_card": item.sealed_card if item else b""}])
        await self.repo.update_residents(conn, [bytes(r.resident_hash)], card_status="mailed", current_mailing_id=mid)
        await self._event(conn, events.mailing_subject("posted"), mid, r.municipality_code, "posted", items=1)
        return mid

    async def expire_returned(self) -> int:
        """Chart ② ※2: after the 3-month hold, 返還登録 and 廃棄処理; later cards are re-issues."""
        now = self.clock.now()
        async with self.repo.begin() as conn:
            # In bulk: a day's expiry may cover many envelopes, each a few statements if done one by one.
            ms = await self.repo.returned_past_hold(conn, now)
            ids = [m.mailing_id for m in ms]
            held = await self.repo.cards_held_in(conn, ids, "returned")
            by: dict[str, list[Row]] = defaultdict(list)
            for r in held:
                by[r.mailing_id].append(r)
            evs = []
            for m in ms:
                for r in by[m.mailing_id]:
                    evs += self._return_register_events(m.mailing_id, r.municipality_code)
                evs.append(self._change(events.mailing_subject("disposed"), m.mailing_id, m.municipality_code,
                                        "disposed"))
            await self.repo.update_residents(conn, [bytes(r.resident_hash) for r in held], **RETURN_REGISTERED)
            await self.repo.update_mailings(conn, ids, status="disposed", updated_at=now)
            await self.repo.add_events(conn, evs)
        return len(ms)

    # --- resend and re-issue ----------------------------------------------------------------------------------
    async def request_resend(self, caller: Caller, municipality_code: str, resident_code: str) -> Outcome:
        _check_caller_municipality(caller, municipality_code)
        validate_resident_code(resident_code)
        now = self.clock.now()
        if not policy.notice_card_in_force(now):
            raise FailedPrecondition("the 通知カード is abolished since 2020-05-25: no resend or re-issue "
                                     "(the 個人番号通知書 is never re-issued)", reason="NOTICE_CARD_ABOLISHED")
        out = Outcome()
        async with self.repo.begin() as conn:
            r, basis = await self._resident(conn, caller, resident_code, "card.resend")
            await self._audit(conn, caller, "card.resend", resident_code, "通知カード resend / re-issue", basis)
            if r.card_status in ("none", *IN_TRANSIT):
                raise FailedPrecondition(f"resident_code: the card is not available for a resend ({r.card_status})",
                                         reason="CARD_NOT_RESENDABLE")
            # A card handed over (or registered as returned earlier) makes the new one a re-issue; a card held
            # here is registered now and the new one follows the date.
            after_return_registration = r.card_status in (*HANDED, "return_registered")
            if r.card_status in HELD:
                # 転居 rule: a card with the form is resent only after 返還登録 of the held one.
                await self._return_register(conn, r, r.current_mailing_id, out)
            await self._resend(conn, r, await self._home_address(conn, r), out, steps=(),
                               after_return_registration=after_return_registration)
            out.steps.append(out.kind)
        return out

    async def _reload(self, conn: AsyncConnection, r: Row) -> Row:
        fresh = await self.repo.get_resident(conn, r.resident_hash)
        if fresh is None:  # rows are never deleted; a vanished row is a bug, not bad input
            raise RuntimeError("resident row vanished inside its transaction")
        return fresh

    # --- 居所 (別紙 1 and 2) ------------------------------------------------------------------------------------
    async def register_residence(self, caller: Caller, municipality_code: str, resident_code: str, kind: str,
                                 address: str, postal_code: str, documents: Sequence[str],
                                 hold_at_office: bool) -> ResidenceOutcome:
        municipality_code = _check_caller_municipality(caller, municipality_code)
        validate_resident_code(resident_code)
        validate_choice(kind, "kind", ("evacuee", "dv_victim"), "must be EVACUEE or DV_VICTIM")
        where = validate_address_pair(address, postal_code, "address", "postal_code")
        docs = validate_documents(documents, KNOWN_DOCUMENTS, REQUIRED_DOCUMENTS)
        if hold_at_office and kind != "dv_victim":
            raise InvalidArgument("hold_at_office", "only for a DV victim (別紙 2 (2))")
        async with self.repo.begin() as conn:
            # The 住所地 registers (別紙 1/2 ①); the lock serialises a retry or a second registration of the person.
            r, basis = await self._resident(conn, caller, resident_code, "residence.register", numbered=False)
            # Keyed by (resident, municipality): no other municipality's registration ever overwrites this one;
            # this municipality's own re-registration replaces its earlier one (D13: the latest wins).
            await self.repo.upsert_residence(conn, {
                "resident_hash": r.resident_hash, "municipality_code": r.municipality_code, "kind": kind,
                "sealed_address": self._seal({"address": where.address, "postal_code": where.postal_code},
                                             AAD_RESIDENCE),
                "documents": docs, "hold_at_office": hold_at_office, "registered_at": self.clock.now()})
            residence = await self.repo.get_residence(conn, r.resident_hash, r.municipality_code)
            assert residence is not None  # written just above, in this transaction
            out = await self._route_to_residence(conn, r, residence)
            await self._audit(conn, caller, "residence.register", resident_code, "居所 delivery (別紙 1/2)", basis,
                              mail_action=out.mail_action)
            await self.repo.add_events(conn, [(events.RESIDENCE_REGISTERED, events.mailing_changed(
                mailing_id="", municipality_code=r.municipality_code, status="residence_registered",
                at=self.clock.now()))])
        return out

    async def _route_to_residence(self, conn: AsyncConnection, r: Row, residence: Row) -> ResidenceOutcome:
        """Mail already on its way when a 居所 arrives: an envelope not yet exported is re-addressed (the person's
        card in an envelope of its own); one that left for the vendor is recalled (an RCL record in the next
        batch; it comes back to the office and the card is held there); the clerk is told which."""
        out = ResidenceOutcome(destination="office" if residence.hold_at_office else "residence",
                               mail_action="nothing_in_transit")
        at_post_office = False
        for m in await self.repo.open_mailings_of(conn, r.resident_hash, r.municipality_code):
            if m.status in NOT_YET_EXPORTED:
                out.rerouted.append(await self._reroute(conn, r, m, residence))
            elif m.status in LEFT_FOR_VENDOR:
                await self.repo.update_mailing(conn, m.mailing_id, status="recalled", recalled_from=m.status,
                                               recall_requested_at=self.clock.now(), updated_at=self.clock.now())
                await self._event(conn, events.mailing_subject("recalled"), m.mailing_id, m.municipality_code,
                                  "recalled")
                out.recalled.append(m.mailing_id)
                # An envelope the municipality posted itself never went through the vendor: it asks the post.
                at_post_office |= m.kind == "municipal_resend"
            else:  # already recalled: a retry of the same registration asks nothing twice
                out.recalled.append(m.mailing_id)
                at_post_office |= m.kind == "municipal_resend"
        if at_post_office:
            out.mail_action = "recall_at_post_office"
        elif out.recalled:
            out.mail_action = "recalled"
        elif out.rerouted:
            out.mail_action = "rerouted"
        elif r.card_status in HANDED:
            out.mail_action = "already_delivered"
        elif r.card_status in HELD:
            out.mail_action = "held_at_office"
        return out

    async def _reroute(self, conn: AsyncConnection, r: Row, m: Row, residence: Row) -> str:
        """A prepared envelope re-addressed to the 居所 (or the office); the id of the envelope now carrying the
        resident's card."""
        now = self.clock.now()
        items = await self.repo.items_of(conn, [m.mailing_id])
        others = [it for it in items if bytes(it.resident_hash) != bytes(r.resident_hash)]
        name = self._open(r.sealed_facts, AAD_FACTS)["name"] if r.sealed_facts is not None else ""
        dest, sealed_dest = self._destination(m.municipality_code, {}, residence, name + " 様")
        if not others:
            await self.repo.update_mailing(conn, m.mailing_id, destination=dest, sealed_destination=sealed_dest,
                                           updated_at=now)
            await self._event(conn, events.mailing_subject("rerouted"), m.mailing_id, m.municipality_code,
                              "prepared", items=1)
            return str(m.mailing_id)
        # 別紙 1/2: the 居所 is the person's, not the household's: their card leaves the household envelope, whose
        # addressee then names a remaining member (never the person who asked to be found elsewhere).
        mid = uuid.uuid4().hex
        await self.repo.insert_mailings(conn, [{
            "mailing_id": mid, "municipality_code": m.municipality_code, "household_id": m.household_id,
            "kind": m.kind, "status": "prepared", "destination": dest, "sealed_destination": sealed_dest,
            "created_at": now, "updated_at": now, "fee_yen": m.fee_yen}], [])
        await self.repo.move_item(conn, m.mailing_id, r.resident_hash, mid)
        facts = await self.repo.facts_of(conn, [bytes(others[0].resident_hash)])
        first = self._open(facts[bytes(others[0].resident_hash)], AAD_FACTS)["name"]
        home = self._open(m.sealed_destination, AAD_DEST)
        home["addressee"] = first + (" 様" if len(others) == 1 else " 様 ほか")
        await self.repo.update_mailing(conn, m.mailing_id, sealed_destination=self._seal(home, AAD_DEST),
                                       updated_at=now)
        if r.current_mailing_id == m.mailing_id:
            await self.repo.update_residents(conn, [bytes(r.resident_hash)], current_mailing_id=mid)
        await self._event(conn, events.mailing_subject("rerouted"), m.mailing_id, m.municipality_code, "prepared",
                          items=len(others))
        await self._event(conn, events.mailing_subject("prepared"), mid, m.municipality_code, "prepared", items=1)
        return mid

    async def get_residence(self, caller: Caller, municipality_code: str, resident_code: str
                            ) -> tuple[str, dict[str, str], bool]:
        _check_caller_municipality(caller, municipality_code)
        validate_resident_code(resident_code)
        residence: Row | None = None
        async with self.repo.begin() as conn:
            # Design: a DV victim's 居所 is visible only to the staff of the home municipality that registered it;
            # any other caller learns nothing, not even that one exists (unknown, not yours, none: one answer).
            try:
                r, basis = await self._resident(conn, caller, resident_code, "residence.read", numbered=False,
                                                unknown=no_residence, lock=False)
                residence = await self.repo.get_residence(conn, r.resident_hash, r.municipality_code)
            except DomainError:
                basis = None
            if residence is None:
                basis = None
            await self._audit(conn, caller, "residence.read" if basis else "residence.read.refused", resident_code,
                              "居所 look-up", basis)
        if residence is None:
            raise no_residence()
        return residence.kind, self._open(residence.sealed_address, AAD_RESIDENCE), residence.hold_at_office

    async def list_mailings(self, caller: Caller, municipality_code: str) -> Sequence[Row]:
        municipality_code = _check_caller_municipality(caller, municipality_code)
        async with self.repo.begin() as conn:
            return await self.repo.list_mailings(conn, municipality_code)

    # --- moves after numbering (chart ①) -------------------------------------------------------------------
    async def record_move(self, caller: Caller, municipality_code: str, resident_code: str, kind: str,
                          new_address: str, new_postal_code: str, new_household_id: str,
                          former_household_may_receive: bool, preference: str,
                          member: MemberIn | None = None, *, destination_municipality_code: str = "") -> Outcome:
        municipality_code = _check_caller_municipality(caller, municipality_code)
        validate_choice(kind, "kind", ("tenkyo", "tenshutsu", "tennyu"),
                        "must be tenkyo (転居), tenshutsu (転出) or tennyu (転入)")
        validate_resident_code(resident_code)
        if kind == "tenshutsu":
            return await self._record_tenshutsu(caller, municipality_code, resident_code,
                                                destination_municipality_code)
        # A 転居 or 転入 may resend the card from here (a 転出 mails nothing: it is recorded whatever the 転入先).
        municipal_office(municipality_code)
        new_household_id = validate_household_id(new_household_id, "new_household_id")
        moved_to = (validate_address_pair(new_address, new_postal_code, "new_address", "new_postal_code")
                    if new_address or new_postal_code else None)
        validate_choice(preference, "preference", ("", "endorse", "new_issue"), "must be endorse or new_issue")
        if member is not None:
            validate_member(member, "member")
        now = self.clock.now()
        out = Outcome()
        async with self.repo.begin() as conn:
            # Chart ①: 転居 by the municipality that holds the resident; 転入 only by the 転入先 that the former
            # municipality's 転出 named (tenancy.Basis.TENNYU_DESTINATION), never by anyone else.
            r, basis = await self._resident(conn, caller, resident_code, f"move.{kind}")
            if kind == "tennyu" and basis == Basis.OWN_REGISTER:
                raise InvalidArgument("kind", "転入 is a move from another municipality; use tenkyo within one")
            if moved_to is not None:
                address = {"address": moved_to.address, "postal_code": moved_to.postal_code}
            else:
                # Moving into a household the municipality already sent: its address is on file.
                addrs = await self.repo.household_addresses(conn, municipality_code, [new_household_id])
                if new_household_id not in addrs:
                    raise InvalidArgument("new_household_id", "unknown household: send it in a mailing list first "
                                          "or give new_address", reason="UNKNOWN_HOUSEHOLD")
                address = self._open(addrs[new_household_id], AAD_ADDRESS)
            old_municipality, old_mailing = r.municipality_code, r.current_mailing_id
            await self._audit(conn, caller, f"move.{kind}", resident_code, "通知カード after a move (chart ①)", basis)
            # The resident now belongs to the municipality and household of the move (a 転入 completes the 転出).
            await self.repo.upsert_households(conn, [{"municipality_code": municipality_code,
                                                      "household_id": new_household_id,
                                                      "sealed_address": self._seal(address, AAD_ADDRESS)}])
            values: dict[str, Any] = {"municipality_code": municipality_code, "household_id": new_household_id,
                                      "moving_to": None}
            if member is not None:
                values["sealed_facts"] = self._seal({"resident_code": resident_code, "name": member.name,
                                                     "birth_date": member.birth_date, "sex": member.sex}, AAD_FACTS)
            await self.repo.update_residents(conn, [bytes(r.resident_hash)], **values)
            r = await self._reload(conn, r)
            if r.sealed_facts is None:
                raise FailedPrecondition("member: the new municipality must send the resident's facts",
                                         reason="FACTS_MISSING")
            # 2020-05-25: no endorsement, no re-issue; the 個人番号通知書 is never updated. (Whoever was sent one was
            # numbered on or after that day, so the date alone decides.)
            if not policy.notice_card_in_force(now):
                out.steps.append("no_card_action_notice_card_abolished")
                return out
            status = r.card_status
            if status == "none":
                out.steps.append("address_updated")  # not mailed yet: it will go to the new address
            elif status == "return_registered":
                out.steps.append("no_card_request_reissue")
            elif status in HANDED:
                # 通知カードが既達の場合: 裏書き対応.
                await self._endorse(conn, r, address, old_mailing or "", out)
            elif status in HELD:
                await self._move_card_returned(conn, r, kind, preference, address, old_municipality,
                                               old_mailing or "", out)
            else:
                await self._move_card_in_transit(conn, r, kind, preference, former_household_may_receive,
                                                 address, old_mailing or "", out)
        return out

    async def _record_tenshutsu(self, caller: Caller, municipality_code: str, resident_code: str,
                                destination: str) -> Outcome:
        """転出: the former municipality names the 転入先; only that municipality may then record the 転入 (chart ①
        acts there: the card is endorsed or resent by the 転入先). Recorded again, the latest destination counts."""
        destination = validate_municipality(destination, "destination_municipality_code")
        if destination == municipality_code:
            raise InvalidArgument("destination_municipality_code", "a 転出 goes to another municipality; use tenkyo")
        async with self.repo.begin() as conn:
            r, basis = await self._resident(conn, caller, resident_code, "move.tenshutsu")
            await self.repo.update_residents(conn, [bytes(r.resident_hash)], moving_to=destination)
            await self._audit(conn, caller, "move.tenshutsu", resident_code, "転出 (chart ①)", basis,
                              destination=destination)
        return Outcome(steps=["tenshutsu_recorded"])

    async def _move_card_returned(self, conn: AsyncConnection, r: Row, kind: str, preference: str,
                                  address: dict[str, str], old_municipality: str, old_mailing: str,
                                  out: Outcome) -> None:
        """Chart ①, 通知カードが返戻されている場合."""
        if kind == "tennyu" or preference == "new_issue":
            # 転入: 転出元 1. 返戻後返還登録 2. 廃棄処理; 転入先 新送付先情報をJ-LISに送信、通知カードを再送.
            # 転居 ①-1: 1. 返還登録 2. 廃棄処理 3. 新送付先情報をJ-LISに送信、通知カードを再送 (a re-issue).
            await self._return_register(conn, r, old_mailing, out)
            await self._close_if_resolved(conn, old_mailing, old_municipality)
            await self._resend(conn, r, address, out, after_return_registration=kind == "tenkyo")
        else:
            # 転居 ①-1: 転居手続後 裏書きの上交付.
            await self._endorse(conn, r, address, old_mailing, out)
            await self._hand_over(conn, r, old_mailing, out)
            await self._close_if_resolved(conn, old_mailing, r.municipality_code)

    async def _move_card_in_transit(self, conn: AsyncConnection, r: Row, kind: str, preference: str,
                                    may_receive: bool, address: dict[str, str], old_mailing: str,
                                    out: Outcome) -> None:
        """Chart ①, 通知カードが返戻されていない場合: 前住所地で受理する可能性について確認
        (元世帯者が受理する場合等)."""
        if may_receive and preference != "new_issue":
            # ①-2/①-3 受理する可能性あり: その者から入手の上、来庁時に裏書きの上交付.
            await self.repo.update_residents(conn, [bytes(r.resident_hash)], pending_action="endorse",
                                             sealed_pending_address=self._seal(address, AAD_ADDRESS))
            out.steps.append("await_card_from_former_household_then_endorse")
            return
        if may_receive:
            # 又は 新送付先情報をJ-LISに送信、通知カードを再送するとともにその者から入手の上返還を促す. 転居: the
            # card without the form (返還登録をしないと申請書付きの再送は不可); 転入: with the form.
            await self._resend(conn, r, address, out, with_form=kind == "tennyu",
                               steps=("resent" if kind == "tennyu" else "resent_without_form",
                                      "urge_return_of_old_card"))
            return
        if kind == "tennyu":
            # 受理する可能性なし, 転入: 転入先 resends now; 転出元 registers and disposes of the old card on return.
            await self._resend(conn, r, address, out, steps=("resent", "old_card_return_registered_on_return"))
            return
        # 受理する可能性なし, 転居 ①-3: wait for the return. 【新規発行希望】 返戻後返還登録・廃棄・再送;
        # 【裏書交付希望】 返戻後裏書のための再来庁を促す (or endorse and resend by 簡易書留 as a municipal service).
        action = "new_issue" if preference == "new_issue" else "endorse"
        await self.repo.update_residents(conn, [bytes(r.resident_hash)], pending_action=action,
                                         sealed_pending_address=self._seal(address, AAD_ADDRESS))
        out.steps.append("await_return_then_reissue" if action == "new_issue" else "await_return_then_endorse")
