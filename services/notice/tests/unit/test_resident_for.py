"""notice.tenancy's gates, resident_for and own_mailing (the tenancy rule itself is the runtime's)."""

import datetime as dt

import pytest
from mynumber_runtime.errors import NotFound
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis
from notice.entities import Mailing, Resident
from notice.errors import unknown_resident
from notice.tenancy import own_mailing, resident_for

CHIYODA = "131016"
HASH = b"\x01" * 32
AT = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


class OneResident:
    """A store that holds one resident (all resident_for reads)."""

    def __init__(self, sealed_number: bytes | None) -> None:
        self.resident = Resident(resident_hash=HASH, municipality_code=CHIYODA, household_id=None, sealed_facts=None,
                                 sealed_number=sealed_number, number_assigned_at=None, card_status="none",
                                 current_mailing_id=None, pending_action=None, sealed_pending_address=None,
                                 moving_to=None)

    async def get_resident(self, resident_hash: bytes, *, lock: bool = False) -> Resident | None:
        return self.resident if resident_hash == HASH else None


@pytest.mark.parametrize("action", ["card.resend", "returned_mail", "move.tenkyo", "move.tenshutsu"])
async def test_a_resident_not_numbered_yet_is_unknown_to_the_methods_that_need_a_number(action):
    # These callers rely on the default (numbered=True): nothing can be resent, returned or moved before a number.
    caller = Caller("municipality", CHIYODA)
    with pytest.raises(NotFound) as refused:
        await resident_for(OneResident(None), caller, HASH, action)  # type: ignore[arg-type]
    assert (refused.value.message, refused.value.reason) == (unknown_resident().message, unknown_resident().reason)
    _, basis = await resident_for(OneResident(b"sealed"), caller, HASH, action)  # type: ignore[arg-type]
    assert basis is Basis.OWN_REGISTER


async def test_a_residence_is_registered_for_a_resident_not_numbered_yet():
    _, basis = await resident_for(OneResident(None), Caller("municipality", CHIYODA), HASH,  # type: ignore[arg-type]
                                  "residence.register", numbered=False)
    assert basis is Basis.OWN_REGISTER


class Recording(OneResident):
    """Also holds one mailing; records the row lock each read asks for."""

    def __init__(self) -> None:
        super().__init__(b"sealed")
        self.locks: list[tuple[str, bool]] = []
        self.mailing = Mailing(mailing_id="m1", municipality_code=CHIYODA, household_id="h1", kind="notice",
                               status="created", destination="", sealed_destination=b"", created_at=AT,
                               updated_at=AT)

    async def get_resident(self, resident_hash: bytes, *, lock: bool = False) -> Resident | None:
        self.locks.append(("resident", lock))
        return await super().get_resident(resident_hash, lock=lock)

    async def get_mailing(self, mailing_id: str, *, lock: bool = False) -> Mailing | None:
        self.locks.append(("mailing", lock))
        return self.mailing if mailing_id == "m1" else None


async def test_the_gates_lock_the_row_their_caller_goes_on_to_change():
    # resident_for and own_mailing read inside the unit of work that then updates the row: FOR UPDATE, so that two
    # requests on one resident or envelope are serialised (a caller that only reads says lock=False).
    store = Recording()
    caller = Caller("municipality", CHIYODA)
    await resident_for(store, caller, HASH, "card.resend")  # type: ignore[arg-type]
    await resident_for(store, caller, HASH, "residence.read", numbered=False, lock=False)  # type: ignore[arg-type]
    assert await own_mailing(store, caller, "m1") is store.mailing  # type: ignore[arg-type]
    assert store.locks == [("resident", True), ("resident", False), ("mailing", True)]
