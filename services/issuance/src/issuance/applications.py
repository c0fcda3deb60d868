"""The rules of 交付申請: accept an application, read and list them, withdraw one. Every method takes the unit of
work (`IssuanceStorePort`) the boundary opened; none opens or commits a transaction, none imports SQL or proto.

The order of checks is the point: everything decided from the request alone first (fields, photo, who may use
the channel, the dated policy), then the form and the tenancy grant (an unknown form and another municipality's
look the same), and only then what the holding municipality alone may learn (a stale form, a live application)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, replace

from mynumber_runtime import pages
from mynumber_runtime.clock import Clock
from mynumber_runtime.crypto import FieldSealer, KeyedHash
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis

from issuance import events, policy
from issuance.channels import CHANNELS, Channel, HandoverMethod
from issuance.errors import ApplicationsNotOpen, ChannelNotYours, LiveApplication, NoApplication, StaleForm, UnknownForm
from issuance.forms import form_key
from issuance.photo import check_photo
from issuance.ports import IssuanceStorePort
from issuance.records import AccessDetails, Application, NewApplication, StateChange
from issuance.states import APPLICATION, ApplicationState
from issuance.tenancy import admit, authorize_municipality
from issuance.validation import (
    facts_digest,
    validate_applicant,
    validate_application_id,
    validate_method,
    validate_municipality,
    validate_ref,
)

AAD_APPLICANT = b"issuance.applications.applicant"
AAD_PHOTO = b"issuance.application_photos.photo"
MAX_LIST = 1000
DEFAULT_LIST = 100


@dataclass(frozen=True)
class SubmitIn:
    """A submission as the edge decoded it (enums already mapped; None where the caller gave none)."""

    municipality_code: str
    application_id: str
    channel: Channel | None
    handover_method: HandoverMethod | None
    name: str
    address: str
    birth_date: str
    sex: int
    photo: bytes


def _acting(caller: Caller, municipality_code: str) -> AccessDetails:
    return {"acting_for": municipality_code} if caller.kind == "operator" else {}


class ApplicationRules:
    def __init__(self, *, sealer: FieldSealer, lookup: KeyedHash, digest: KeyedHash, clock: Clock) -> None:
        self.sealer, self.lookup, self.digest, self.clock = sealer, lookup, digest, clock

    async def _log(self, store: IssuanceStorePort, caller: Caller, basis: Basis, *, action: str, subject_ref: str,
                   purpose: str, at: dt.datetime, details: AccessDetails) -> None:
        await store.record_access(at=at, actor=str(caller), action=action, subject_ref=subject_ref, purpose=purpose,
                                  details={"basis": basis.value, **details})

    async def submit(self, store: IssuanceStorePort, caller: Caller, s: SubmitIn) -> Application:
        now = self.clock.now()
        today = policy.japanese_day(now)
        validate_municipality(s.municipality_code)
        validate_application_id(s.application_id)
        if s.channel is None:
            raise InvalidArgument("channel", "a Channel value is required")
        if s.handover_method is None:
            raise InvalidArgument("handover_method", "a HandoverMethod value is required")
        validate_method(s.channel, s.handover_method)
        applicant = validate_applicant(s.name, s.address, s.birth_date, s.sex, today)
        authorize_municipality(caller, s.municipality_code)
        if caller.kind not in CHANNELS[s.channel].submitters:
            raise ChannelNotYours()
        photo = check_photo(s.photo)  # decoded only for a caller who may submit this at all
        if not policy.applications_open(now):
            raise ApplicationsNotOpen()

        form_hash = form_key(self.lookup, s.application_id)
        form = await store.form(form_hash)
        # The person's holder now (the municipality of their newest form), not the old form's: after a move to
        # another municipality, the former one's old form is as unknown to it as any other.
        person = await store.person(form.person_hash, lock=True) if form else None  # serialises submissions
        basis = admit(caller, s.municipality_code, person.municipality_code if person else None,
                      action="application.submit", subject_ref=form_hash.hex(), refusal=UnknownForm)
        assert form is not None and person is not None  # admit refuses an unknown form
        digest = facts_digest(self.digest, s.name, s.address, s.birth_date, s.sex)
        if form.superseded_at is not None or person.current_form_hash != form_hash:
            raise StaleForm()
        if digest != form.facts_digest:
            raise StaleForm("applicant")
        if await store.live_application(form.person_hash) is not None:
            raise LiveApplication()

        ref = uuid.uuid4().hex
        state = APPLICATION.move(ApplicationState.NEW, ApplicationState.ACCEPTED)
        app = Application(ref, form.person_hash, form_hash, form.municipality_code, s.channel, s.handover_method,
                          state, now, now, photo.width, photo.height)
        plain = json.dumps({"name": applicant.name, "address": applicant.address,
                            "birth_date": applicant.birth_date.isoformat(), "sex": applicant.sex},
                           ensure_ascii=False).encode()
        new = NewApplication(app, self.sealer.seal(plain, AAD_APPLICANT + b":" + ref.encode()),
                             self.sealer.seal(s.photo, AAD_PHOTO + b":" + ref.encode()))
        if not await store.insert_application(new):
            raise LiveApplication()  # a concurrent submission for the person committed first
        await store.add_event(*events.application_changed(app, ApplicationState.NEW, now))
        await self._log(store, caller, basis, action="application.submit", subject_ref=form.person_hash.hex(),
                        purpose="個人番号カード交付申請", at=now,
                        details={"application_ref": ref, "channel": s.channel.value,
                                 "handover_method": int(s.handover_method), **_acting(caller, s.municipality_code)})
        return app

    async def _admitted(self, store: IssuanceStorePort, caller: Caller, municipality_code: str, ref: str, *,
                        action: str, lock: bool = False) -> tuple[Application, Basis]:
        validate_municipality(municipality_code)
        validate_ref(ref)
        authorize_municipality(caller, municipality_code)
        app = await store.application(ref, lock=lock)
        basis = admit(caller, municipality_code, app.municipality_code if app else None, action=action,
                      subject_ref=ref, refusal=NoApplication)
        assert app is not None
        return app, basis

    async def get(self, store: IssuanceStorePort, caller: Caller, municipality_code: str, ref: str
                  ) -> tuple[Application, list[StateChange]]:
        app, basis = await self._admitted(store, caller, municipality_code, ref, action="application.read")
        history = await store.history(ref)
        await self._log(store, caller, basis, action="application.read", subject_ref=app.person_hash.hex(),
                        purpose="交付申請の照会", at=self.clock.now(),
                        details={"application_ref": ref, **_acting(caller, municipality_code)})
        return app, history

    async def list(self, store: IssuanceStorePort, caller: Caller, municipality_code: str,
                   state: ApplicationState | None, limit: int, page_token: str = ""
                   ) -> tuple[list[Application], str]:
        """One page, newest first, and the next page's token ("" after the last)."""
        validate_municipality(municipality_code)
        if not 0 <= limit <= MAX_LIST:
            raise InvalidArgument("limit", f"must be 1-{MAX_LIST} (0: {DEFAULT_LIST})")
        after = pages.position(page_token, key_length=32) if page_token else None
        authorize_municipality(caller, municipality_code)
        size = limit or DEFAULT_LIST
        # Only the municipality's own applications are selected: nothing of another's is read.
        page = await store.applications(municipality_code, state, size + 1, after)
        if len(page) <= size:
            return page, ""
        last = page[size - 1]
        return page[:size], pages.Position(last.submitted_at, last.ref).token()

    async def withdraw(self, store: IssuanceStorePort, caller: Caller, municipality_code: str, ref: str
                       ) -> Application:
        app, basis = await self._admitted(store, caller, municipality_code, ref, action="application.withdraw",
                                          lock=True)
        target = APPLICATION.move(app.state, ApplicationState.WITHDRAWN)
        now = self.clock.now()
        await store.set_state(ref, app.state, target, now)
        moved = replace(app, state=target, updated_at=now)
        await store.add_event(*events.application_changed(moved, app.state, now))
        await self._log(store, caller, basis, action="application.withdraw", subject_ref=app.person_hash.hex(),
                        purpose="交付申請の取下げ", at=now,
                        details={"application_ref": ref, **_acting(caller, municipality_code)})
        return moved
