"""All SQL of the issuance service. An `IssuanceStore` is bound to one open transaction (the unit of work the
boundary opened): its methods take explicit values and return typed records (issuance.records), never rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from mynumber_runtime import audit
from mynumber_runtime.consumer import Handler
from mynumber_runtime.db import Store
from mynumber_runtime.outbox import add_event
from mynumber_runtime.pages import Position
from nats.aio.msg import Msg
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from issuance.channels import Channel, HandoverMethod
from issuance.models import access_log, application_history, application_photos, applications, forms, outbox, people
from issuance.records import AccessDetails, Application, Form, NewApplication, Person, StateChange
from issuance.states import LIVE, ApplicationState

_APP = (applications.c.ref, applications.c.person_hash, applications.c.form_hash, applications.c.municipality_code,
        applications.c.channel, applications.c.handover_method, applications.c.state, applications.c.submitted_at,
        applications.c.updated_at, applications.c.photo_width, applications.c.photo_height)


def _application(r: Any) -> Application:
    return Application(r.ref, bytes(r.person_hash), bytes(r.form_hash), r.municipality_code, Channel(r.channel),
                       HandoverMethod(r.handover_method), ApplicationState(r.state), r.submitted_at, r.updated_at,
                       r.photo_width, r.photo_height)


class IssuanceStore(Store):
    # --- metrics ---------------------------------------------------------------------------------------------

    async def count_applications(self) -> dict[str, int]:
        rows = (await self.conn.execute(
            sa.select(applications.c.state, sa.func.count()).group_by(applications.c.state))).all()
        return {str(state): int(n) for state, n in rows}

    # --- forms and people ----------------------------------------------------------------------------------

    async def form(self, form_hash: bytes) -> Form | None:
        r = (await self.conn.execute(sa.select(forms).where(forms.c.form_hash == form_hash))).first()
        if r is None:
            return None
        return Form(bytes(r.form_hash), bytes(r.person_hash), r.municipality_code, bytes(r.facts_digest),
                    r.issued_at, r.superseded_at)

    async def person(self, person_hash: bytes, *, lock: bool = False) -> Person | None:
        q = sa.select(people).where(people.c.person_hash == person_hash)
        r = (await self.conn.execute(q.with_for_update() if lock else q)).first()
        if r is None:
            return None
        return Person(bytes(r.person_hash), r.municipality_code, bytes(r.current_form_hash), r.current_issued_at,
                      bytes(r.sealed_number))

    async def insert_form(self, form: Form) -> bool:
        result = await self.conn.execute(insert(forms).values(
            form_hash=form.form_hash, person_hash=form.person_hash, municipality_code=form.municipality_code,
            facts_digest=form.facts_digest, issued_at=form.issued_at, superseded_at=form.superseded_at,
        ).on_conflict_do_nothing().returning(forms.c.form_hash))
        return result.first() is not None

    async def supersede_form(self, form_hash: bytes, at: dt.datetime) -> None:
        await self.conn.execute(sa.update(forms).where(forms.c.form_hash == form_hash,
                                                       forms.c.superseded_at.is_(None)).values(superseded_at=at))

    async def put_person(self, person: Person) -> None:
        values = {"municipality_code": person.municipality_code, "current_form_hash": person.current_form_hash,
                  "current_issued_at": person.current_issued_at, "sealed_number": person.sealed_number}
        await self.conn.execute(insert(people).values(person_hash=person.person_hash, **values)
                                .on_conflict_do_update(index_elements=[people.c.person_hash], set_=values))

    # --- applications ------------------------------------------------------------------------------------

    async def live_application(self, person_hash: bytes) -> Application | None:
        r = (await self.conn.execute(sa.select(*_APP).where(
            applications.c.person_hash == person_hash, applications.c.state.in_([s.value for s in LIVE])))).first()
        return _application(r) if r else None

    async def insert_application(self, new: NewApplication) -> bool:
        a = new.application
        result = await self.conn.execute(insert(applications).values(
            ref=a.ref, person_hash=a.person_hash, form_hash=a.form_hash, municipality_code=a.municipality_code,
            channel=a.channel.value, handover_method=int(a.handover_method), state=a.state.value,
            sealed_applicant=new.sealed_applicant, photo_width=a.photo_width, photo_height=a.photo_height,
            submitted_at=a.submitted_at, updated_at=a.updated_at,
        ).on_conflict_do_nothing().returning(applications.c.ref))
        if result.first() is None:
            return False
        await self.conn.execute(sa.insert(application_photos).values(ref=a.ref, sealed_photo=new.sealed_photo))
        await self.conn.execute(sa.insert(application_history).values(ref=a.ref, state=a.state.value,
                                                                      at=a.submitted_at))
        return True

    async def application(self, ref: str, *, lock: bool = False) -> Application | None:
        q = sa.select(*_APP).where(applications.c.ref == ref)
        r = (await self.conn.execute(q.with_for_update() if lock else q)).first()
        return _application(r) if r else None

    async def applications(self, municipality_code: str, state: ApplicationState | None, limit: int,
                           after: Position | None = None) -> list[Application]:
        q = sa.select(*_APP).where(applications.c.municipality_code == municipality_code)
        if state is not None:
            q = q.where(applications.c.state == state.value)
        if after is not None:
            q = q.where(sa.or_(applications.c.submitted_at < after.at,
                               sa.and_(applications.c.submitted_at == after.at,
                                       applications.c.ref > after.key)))
        q = q.order_by(applications.c.submitted_at.desc(), applications.c.ref).limit(limit)
        return [_application(r) for r in await self.conn.execute(q)]

    async def set_state(self, ref: str, current: ApplicationState, target: ApplicationState, at: dt.datetime
                        ) -> None:
        result = await self.conn.execute(
            sa.update(applications).where(applications.c.ref == ref, applications.c.state == current.value)
            .values(state=target.value, updated_at=at).returning(applications.c.ref))
        if result.first() is None:
            raise RuntimeError("the application changed under a lock held by this unit of work")
        await self.conn.execute(sa.insert(application_history).values(ref=ref, state=target.value, at=at))

    async def history(self, ref: str) -> list[StateChange]:
        rows = await self.conn.execute(sa.select(application_history.c.state, application_history.c.at)
                                       .where(application_history.c.ref == ref).order_by(application_history.c.id))
        return [StateChange(ApplicationState(r.state), r.at) for r in rows]

    # --- events and the access log -------------------------------------------------------------------------

    async def add_event(self, subject: str, payload: bytes) -> int:
        return await add_event(self.conn, outbox, subject, payload)

    async def record_access(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
                            details: AccessDetails) -> None:
        await audit.append(self.conn, access_log, at=at, actor=actor, action=action, subject_ref=subject_ref,
                           purpose=purpose, details=details)


def in_consumer_unit(handle: Callable[[IssuanceStore, Msg], Awaitable[object]]) -> Handler:
    """A consumer's handler on the store: the idempotent consumer's own transaction (the handled id commits with
    the writes) is the unit of work."""

    async def run(conn: AsyncConnection, msg: Msg) -> None:
        await handle(IssuanceStore(conn), msg)

    return run
