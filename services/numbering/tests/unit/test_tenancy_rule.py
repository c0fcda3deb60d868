"""Numbering's tenancy rule without I/O: which basis each caller gets for a person, and that every refusal is the
same error whatever its cause."""

from __future__ import annotations

import datetime as dt

import pytest
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis
from numbering import tenancy
from numbering.errors import NoNumber
from numbering.records import NumberRow, Person

A, B, C = "131016", "271004", "011002"


def person(holder: str | None, moving_to: str | None = None, retired: bool = False) -> Person:
    row = None if holder is None else NumberRow(b"n" * 16, b"c" * 16, b"", holder, 1, 0, dt.datetime.now(dt.UTC))
    return Person(row, moving_to, retired)


def muni(code: str) -> Caller:
    return Caller("municipality", code)


@pytest.mark.parametrize(("caller", "acting", "who", "permits", "basis"), [
    (muni(A), A, person(A), tenancy.READ, Basis.OWN_REGISTER),
    (muni(B), B, person(A, moving_to=B), tenancy.MOVE_IN, Basis.TENNYU_DESTINATION),
    (Caller("operator", "sre"), A, person(A), tenancy.READ, Basis.OPERATOR),
    (Caller("operator", "sre"), B, person(A, moving_to=B), tenancy.MOVE_IN, Basis.OPERATOR),
])
def test_the_basis_of_each_caller_that_may_act(caller, acting, who, permits, basis):
    assert tenancy.decide(caller, acting, who, permits=permits, refusal=NoNumber) is basis


@pytest.mark.parametrize(("caller", "acting", "who", "permits"), [
    (muni(B), B, person(A), tenancy.READ),  # another register's person
    (muni(B), B, person(A, moving_to=B), tenancy.READ),  # the 転入先 reads nothing before the 転入
    (muni(C), C, person(A, moving_to=B), tenancy.MOVE_IN),  # a third municipality
    (muni(A), A, person(None), tenancy.READ),  # no one holds the code
    (muni(A), A, person(None, retired=True), tenancy.ASSIGN),  # a retired code
    (Caller("operator", "sre"), B, person(A), tenancy.READ),  # an operator naming the wrong municipality
    (Caller("service", "notice"), A, person(A), tenancy.READ),
])
def test_every_refusal_is_the_same_unknown_error(caller, acting, who, permits):
    with pytest.raises(NoNumber) as e:
        tenancy.decide(caller, acting, who, permits=permits, refusal=NoNumber)
    assert e.value.message == NoNumber().message


class OnePerson:
    """A registry that holds one person and records whether each read asked for a row lock."""

    def __init__(self, who: Person) -> None:
        self.who = who
        self.locks: list[bool] = []

    async def people(self, hashes, *, lock=False):
        self.locks.append(lock)
        return {h: self.who for h in hashes}


async def test_admit_and_load_take_a_row_lock_only_when_asked():
    # Reads (look-up, history, an assignment's first look) go without a lock; the writes that need one ask for it.
    store = OnePerson(person(A))
    t = tenancy.Tenancy(clock=None)  # type: ignore[arg-type]
    for lock in (None, True):
        kw = {} if lock is None else {"lock": lock}
        held = await t.admit(store, muni(A), A, b"c" * 16, action="number.lookup",  # type: ignore[arg-type]
                             permits=tenancy.READ, refusal=NoNumber, **kw)
        assert held.basis is Basis.OWN_REGISTER
    await t.load(store, b"c" * 16)  # type: ignore[arg-type]
    assert store.locks == [False, True, False]
