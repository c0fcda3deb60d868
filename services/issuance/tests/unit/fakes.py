"""An in-memory unit of work for the rules (no I/O): the same port as issuance.repository.IssuanceStore, with the
partial unique index of live applications as a set, and a rollback that drops what the unit wrote."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from issuance.records import AccessDetails, Application, Form, NewApplication, Person, StateChange
from issuance.states import LIVE, ApplicationState
from mynumber_runtime.crypto import FieldSealer, KeyedHash
from mynumber_runtime.pages import Position
from PIL import Image


@dataclass
class State:
    forms: dict[bytes, Form] = field(default_factory=dict)
    people: dict[bytes, Person] = field(default_factory=dict)
    applications: dict[str, Application] = field(default_factory=dict)
    photos: dict[str, bytes] = field(default_factory=dict)
    history: list[tuple[str, StateChange]] = field(default_factory=list)
    events: list[tuple[str, bytes]] = field(default_factory=list)
    access: list[dict[str, object]] = field(default_factory=list)


class FakeStore:
    def __init__(self, state: State) -> None:
        self.s = state

    async def form(self, form_hash: bytes) -> Form | None:
        return self.s.forms.get(form_hash)

    async def person(self, person_hash: bytes, *, lock: bool = False) -> Person | None:
        return self.s.people.get(person_hash)

    async def insert_form(self, form: Form) -> bool:
        if form.form_hash in self.s.forms:
            return False
        self.s.forms[form.form_hash] = form
        return True

    async def supersede_form(self, form_hash: bytes, at: dt.datetime) -> None:
        f = self.s.forms[form_hash]
        if f.superseded_at is None:
            self.s.forms[form_hash] = replace(f, superseded_at=at)

    async def put_person(self, person: Person) -> None:
        self.s.people[person.person_hash] = person

    async def live_application(self, person_hash: bytes) -> Application | None:
        return next((a for a in self.s.applications.values() if a.person_hash == person_hash and a.state in LIVE),
                    None)

    async def insert_application(self, new: NewApplication) -> bool:
        a = new.application
        if await self.live_application(a.person_hash) is not None or a.ref in self.s.applications:
            return False
        self.s.applications[a.ref] = a
        self.s.photos[a.ref] = new.sealed_photo
        self.s.history.append((a.ref, StateChange(a.state, a.submitted_at)))
        return True

    async def application(self, ref: str, *, lock: bool = False) -> Application | None:
        return self.s.applications.get(ref)

    async def applications(self, municipality_code: str, state: ApplicationState | None, limit: int,
                           after: Position | None = None) -> list[Application]:
        apps = [a for a in self.s.applications.values() if a.municipality_code == municipality_code
                and (state is None or a.state == state)
                and (after is None or (a.submitted_at, after.key) < (after.at, a.ref))]
        return sorted(apps, key=lambda a: (-a.submitted_at.timestamp(), a.ref))[:limit]

    async def set_state(self, ref: str, current: ApplicationState, target: ApplicationState, at: dt.datetime
                        ) -> None:
        a = self.s.applications[ref]
        assert a.state == current
        self.s.applications[ref] = replace(a, state=target, updated_at=at)
        self.s.history.append((ref, StateChange(target, at)))

    async def history(self, ref: str) -> list[StateChange]:
        return [h for r, h in self.s.history if r == ref]

    async def add_event(self, subject: str, payload: bytes) -> int:
        self.s.events.append((subject, payload))
        return len(self.s.events)

    async def record_access(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
                            details: AccessDetails) -> None:
        self.s.access.append({"at": at, "actor": actor, "action": action, "subject_ref": subject_ref,
                              "purpose": purpose, "details": details})


class FakeUnits:
    """`async with units() as store`: commits on a clean exit, restores the state on an exception."""

    def __init__(self) -> None:
        self.state = State()

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[FakeStore]:
        before = copy.deepcopy(self.state)
        try:
            yield FakeStore(self.state)
        except BaseException:
            self.state.__dict__.update(before.__dict__)
            raise


def keys() -> tuple[FieldSealer, KeyedHash, KeyedHash]:
    return FieldSealer({1: os.urandom(32)}, current=1), KeyedHash(os.urandom(32)), KeyedHash(os.urandom(32))


def jpeg(width: int = 600, height: int = 800, *, fmt: str = "JPEG") -> bytes:
    """A photo-like image: noise, so that it is well above the 20 KB floor."""
    img = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    img.save(out, format=fmt, quality=85)
    return out.getvalue()
