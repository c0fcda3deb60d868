"""The database's own guards, under the rules: the partial unique index keeps one live application per person
even when two inserts race past the rules' check, and the CHECK constraints generated from the enums refuse a state
no transition table knows."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
import sqlalchemy as sa
from issuance.channels import Channel, HandoverMethod
from issuance.models import applications
from issuance.records import Application, Form, NewApplication, Person
from issuance.states import ApplicationState
from sqlalchemy.exc import IntegrityError

from .conftest import START

pytestmark = pytest.mark.integration


def new_application(person: bytes, form: bytes, state: ApplicationState = ApplicationState.ACCEPTED
                    ) -> NewApplication:
    app = Application(uuid.uuid4().hex, person, form, "131016", Channel.COUNTER, HandoverMethod.AT_APPLICATION,
                      state, START, START, 600, 800)
    return NewApplication(app, b"sealed", b"sealed")


async def test_the_unique_index_refuses_a_second_live_application_the_rules_did_not_see(issuance) -> None:
    person, form = os.urandom(16), os.urandom(16)
    async with issuance.app.units() as store:
        await store.insert_form(Form(form, person, "131016", b"d", START))
        await store.put_person(Person(person, "131016", form, START, b"n"))
        first = new_application(person, form)
        assert await store.insert_application(first)
        assert not await store.insert_application(new_application(person, form))  # no exception: False
        await store.set_state(first.application.ref, ApplicationState.ACCEPTED, ApplicationState.WITHDRAWN,
                              START + dt.timedelta(hours=1))
        assert await store.insert_application(new_application(person, form))
        assert [h.state for h in await store.history(first.application.ref)] == [ApplicationState.ACCEPTED,
                                                                                 ApplicationState.WITHDRAWN]


async def test_a_state_outside_the_enum_is_refused_by_the_database(issuance) -> None:
    person, form = os.urandom(16), os.urandom(16)
    with pytest.raises(IntegrityError, match="ck_applications_state_known"):
        async with issuance.app.units() as store:
            await store.insert_form(Form(form, person, "131016", b"d", START))
            app = new_application(person, form)
            assert await store.insert_application(app)
            await store.conn.execute(sa.update(applications).where(applications.c.ref == app.application.ref)
                                     .values(state="lost_in_the_post"))
