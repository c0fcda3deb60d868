"""The forms notice made, learnt from its form.issued events (never from its tables): the newest form of a person
is the only current one, and decides which municipality holds the person here. A newer form whose facts differ
(a move, a name change) supersedes the person's accepted application: the card must not be made from old facts."""

from __future__ import annotations

from dataclasses import replace

from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer, KeyedHash

from issuance import events
from issuance.ports import IssuanceStorePort
from issuance.records import Form, Person
from issuance.states import APPLICATION, ApplicationState
from issuance.validation import facts_digest

AAD_NUMBER = b"issuance.people.number"


def form_key(lookup: KeyedHash, application_id: str) -> bytes:
    return lookup(b"form\x00" + application_id.encode())


def person_key(lookup: KeyedHash, individual_number: str) -> bytes:
    return lookup(b"person\x00" + individual_number.encode())


class FormRules:
    def __init__(self, *, sealer: FieldSealer, lookup: KeyedHash, digest: KeyedHash, clock: Clock) -> None:
        self.sealer, self.lookup, self.digest, self.clock = sealer, lookup, digest, clock

    async def on_form_issued(self, store: IssuanceStorePort, f: events.IssuedForm) -> None:
        now = self.clock.now()
        form_hash, person_hash = form_key(self.lookup, f.application_id), person_key(self.lookup, f.individual_number)
        digest = facts_digest(self.digest, f.name, f.address, f.birth_date, f.sex)
        person = await store.person(person_hash, lock=True)
        # Events may arrive out of order: a form older than the person's current one is stale from the start.
        newer = person is None or f.issued_at >= person.current_issued_at
        form = Form(form_hash, person_hash, f.municipality_code, digest, f.issued_at, None if newer else now)
        if not await store.insert_form(form):
            return  # known already (a redelivery): nothing changes
        if not newer:
            return
        if person is not None and person.current_form_hash != form_hash:
            previous = await store.form(person.current_form_hash)
            await store.supersede_form(person.current_form_hash, now)
            if previous is not None and previous.facts_digest != digest:
                await self._supersede_application(store, person_hash)
        await store.put_person(Person(person_hash, f.municipality_code, form_hash, f.issued_at,
                                      self.sealer.seal(f.individual_number.encode(), AAD_NUMBER)))

    async def _supersede_application(self, store: IssuanceStorePort, person_hash: bytes) -> None:
        live = await store.live_application(person_hash)
        if live is None or not APPLICATION.allowed(live.state, ApplicationState.SUPERSEDED):
            return  # none, or already ordered: a change after the order is the card's, not the application's
        target = APPLICATION.move(live.state, ApplicationState.SUPERSEDED)
        at = self.clock.now()
        await store.set_state(live.ref, live.state, target, at)
        moved = replace(live, state=target, updated_at=at)
        await store.add_event(*events.application_changed(moved, live.state, at))
