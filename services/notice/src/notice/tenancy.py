"""Who may act on which resident in notice: the legal bases each method permits (`mynumber_runtime.tenancy`).

A resident belongs to the municipality whose register holds them (住基法 第5条-第7条). Every method that reads or
writes a resident loads the resident's `Holding` and asks `grant()` with the bases listed here; "not yours" raises
the same error as "unknown" (no existence oracle). The allow-list in `grpc_api` decides which kinds of caller
reach a method at all; this table decides on which basis a caller that reached it may touch one person.

Bases notice never permits, and why:
- SAME_PREFECTURE (住基法 第30条の10): provision of 本人確認情報 to another municipality of the prefecture; no
  notice method provides or changes 本人確認情報, so none names it.
- RESIDENCE_FOR_HOME: a 居所 is registered at the 住所地 (別紙 1/2 ①: 住所地市区町村に登録, 再登録も住所地), and the
  居所 municipality acts only in the card flows of issuance (③, ④/⑤); it never touches notice's mail.
- SERVICE_ROLE: no platform service calls a resident method of notice (issuance reads notice's events).
- OPERATOR on a resident: J-LIS staff export batches (the municipalities' joint delegation of the mailing to
  J-LIS, 番号法 第7条 and the seed's 委任) and never read or change one resident; in particular no operator or
  service ever reads a DV victim's 居所 (design: visible only to the home municipality's staff that registered it).
"""

from __future__ import annotations

from collections.abc import Callable

from mynumber_runtime.errors import DomainError
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant

from notice.entities import Mailing, Resident, Tenure
from notice.errors import unknown_mailing, unknown_resident
from notice.ports import NoticeStorePort

OWN = (Basis.OWN_REGISTER,)

PERMITS: dict[str, tuple[Basis, ...]] = {
    # 送付先情報 are the municipality's own register: a list names only residents it holds (or nobody holds yet).
    "mailing_list": OWN,
    # 別紙 1/2: the 住所地 registers the 居所 and only its staff read it back.
    "residence.register": OWN,
    "residence.read": OWN,
    # Resend / re-issue and returned mail are the holding municipality's (chart ②).
    "card.resend": OWN,
    "returned_mail": OWN,
    # 来庁時: the card brought to the holding municipality's counter after a move (chart ①).
    "card.counter": OWN,
    # Chart ①: 転居 and 転出 by the municipality that holds the resident; 転入 by the destination the 転出 named.
    # (OWN_REGISTER is listed for 転入 only to answer "use tenkyo" to a municipality naming its own resident.)
    "move.tenkyo": OWN,
    "move.tenshutsu": OWN,
    "move.tennyu": (Basis.OWN_REGISTER, Basis.TENNYU_DESTINATION),
    # The mailings of a municipality are its own.
    "mailing": OWN,
    # The print batch: J-LIS operators, for every municipality's envelopes (the joint delegation).
    "batch.export": (Basis.OPERATOR,),
}


def holding_of(record: Resident | Tenure | None, *, numbered: bool) -> Holding | None:
    """The tenancy of one resident; None when notice does not hold that person (for a method that needs a
    numbered resident, one without a number yet is "unknown" too)."""
    if record is None or (numbered and record.sealed_number is None):
        return None
    # acting_municipality stays unset: no notice method permits RESIDENCE_FOR_HOME (see above).
    return Holding(municipality_code=record.municipality_code, moving_to=record.moving_to)


async def resident_for(store: NoticeStorePort, caller: Caller, resident_hash: bytes, action: str, *,
                       numbered: bool = True, unknown: Callable[[], DomainError] = unknown_resident,
                       lock: bool = True) -> tuple[Resident, Basis]:
    """The resident and the basis on which `caller` may do `action` to them (PERMITS), or `unknown()` raised:
    not held here, not numbered (where `numbered`) and not the caller's all answer the same."""
    r = await store.get_resident(resident_hash, lock=lock)
    basis = grant(caller, holding_of(r, numbered=numbered), permits=PERMITS[action], unknown=unknown)
    assert r is not None  # grant raised for a missing holding
    return r, basis


async def own_mailing(store: NoticeStorePort, caller: Caller, mailing_id: str) -> Mailing:
    """An envelope belongs to the municipality that mails it: another's answers as an unknown one."""
    m = await store.get_mailing(mailing_id, lock=True)
    grant(caller, Holding(m.municipality_code) if m is not None else None, permits=PERMITS["mailing"],
          unknown=unknown_mailing)
    assert m is not None
    return m
