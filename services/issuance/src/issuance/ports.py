"""What the rules need from the database: one unit of work (a transaction the boundary opened). `IssuanceStore`
(repository.py) is the real one; unit tests pass an in-memory fake."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from mynumber_runtime.pages import Position

from issuance.records import AccessDetails, Application, Form, NewApplication, Person, StateChange
from issuance.states import ApplicationState


class IssuanceStorePort(Protocol):
    # --- forms and people (from notice's form.issued) --------------------------------------------------------

    async def form(self, form_hash: bytes) -> Form | None: ...

    async def person(self, person_hash: bytes, *, lock: bool = False) -> Person | None: ...

    async def insert_form(self, form: Form) -> bool:
        """False when the form is already known (a redelivered event)."""
        ...

    async def supersede_form(self, form_hash: bytes, at: dt.datetime) -> None: ...

    async def put_person(self, person: Person) -> None:
        """Insert or replace the person's row (its newest form and municipality)."""
        ...

    # --- applications ------------------------------------------------------------------------------------

    async def live_application(self, person_hash: bytes) -> Application | None: ...

    async def insert_application(self, new: NewApplication) -> bool:
        """False when the person's live slot is taken (a concurrent application committed first)."""
        ...

    async def application(self, ref: str, *, lock: bool = False) -> Application | None: ...

    async def applications(self, municipality_code: str, state: ApplicationState | None, limit: int,
                           after: Position | None = None) -> list[Application]:
        """Newest first (submitted_at, then ref), after `after` when given (keyset pagination)."""
        ...

    async def set_state(self, ref: str, current: ApplicationState, target: ApplicationState, at: dt.datetime
                        ) -> None:
        """Move one application (the rules checked the move in states.APPLICATION) and record it in its history."""
        ...

    async def history(self, ref: str) -> list[StateChange]: ...

    # --- events and the access log -------------------------------------------------------------------------

    async def add_event(self, subject: str, payload: bytes) -> int: ...

    async def record_access(self, *, at: dt.datetime, actor: str, action: str, subject_ref: str, purpose: str,
                            details: AccessDetails) -> None: ...


# Opens a unit of work: `async with units() as store:` commits on a clean exit, rolls back on an exception.
Units = Callable[[], AbstractAsyncContextManager[IssuanceStorePort]]

__all__ = ["IssuanceStorePort", "Units"]
