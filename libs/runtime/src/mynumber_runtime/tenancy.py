"""Tenancy: the one rule that decides whether a caller may read or write a person.

A person belongs to one municipality at a time: the one whose 住民基本台帳 holds them (住基法 第5条-第7条). Every
service that keeps people asks `grant()` before it reads or writes one; it answers the legal basis on which the
caller acts (recorded in the access log) or raises the service's own "unknown person" error, so that "not yours"
and "no such person" cannot be told apart (no existence oracle).

The law's exceptions are explicit bases, each granted only where a service's method names it in `permits`:

- OWN_REGISTER: the municipality whose register holds the person.
- SAME_PREFECTURE: 住基法 第30条の10, provision of 本人確認情報 to another municipality of the same prefecture
  (only for read-only look-ups that name this purpose).
- RESIDENCE_FOR_HOME: the municipality of a registered 居所 (evacuees, DV victims: 別紙 1/2) acting for the home
  municipality, and the employer's municipality in the card flows ④ and ⑤.
- TENNYU_DESTINATION: the 転入先 named by the former municipality's 転出 record (chart ①), until the 転入 is recorded.
- OPERATOR: J-LIS staff, on methods that say so.
- SERVICE_ROLE: a platform service acting within the role its allow-list entry names (never a general bypass: the
  allow-list names the service by id, e.g. `service:issuance`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection
from dataclasses import dataclass

from mynumber_runtime.errors import DomainError
from mynumber_runtime.identity import Caller


class Basis(enum.StrEnum):
    OWN_REGISTER = "own_register"
    SAME_PREFECTURE = "juki_30_10_same_prefecture"
    RESIDENCE_FOR_HOME = "residence_for_home"
    TENNYU_DESTINATION = "tennyu_destination"
    OPERATOR = "operator"
    SERVICE_ROLE = "service_role"


@dataclass(frozen=True)
class Holding:
    """What a service knows of one person's tenancy."""

    municipality_code: str
    # Set by the former municipality's 転出 record: the 転入先 that may record the 転入.
    moving_to: str | None = None
    # The municipality of a registered 居所 (evacuee / DV victim), or of the employer in card flows ④/⑤.
    acting_municipality: str | None = None


def prefecture_of(municipality_code: str) -> str:
    """JIS X 0401: the first two digits of a 全国地方公共団体コード name its prefecture."""
    return municipality_code[:2]


def grant(caller: Caller, holding: Holding | None, *, permits: Collection[Basis] = (Basis.OWN_REGISTER,),
          unknown: Callable[[], DomainError]) -> Basis:
    """The basis on which `caller` may act on the person held as `holding`, or `unknown()` raised.

    `holding` is None when the service has no such person: the same error follows, so a refusal never tells a
    caller that someone exists elsewhere."""
    if holding is None:
        raise unknown()
    if caller.kind == "operator" and Basis.OPERATOR in permits:
        return Basis.OPERATOR
    if caller.kind == "service" and Basis.SERVICE_ROLE in permits:
        return Basis.SERVICE_ROLE
    if caller.kind == "municipality":
        if caller.id == holding.municipality_code and Basis.OWN_REGISTER in permits:
            return Basis.OWN_REGISTER
        if holding.moving_to and caller.id == holding.moving_to and Basis.TENNYU_DESTINATION in permits:
            return Basis.TENNYU_DESTINATION
        if holding.acting_municipality and caller.id == holding.acting_municipality and \
                Basis.RESIDENCE_FOR_HOME in permits:
            return Basis.RESIDENCE_FOR_HOME
        if Basis.SAME_PREFECTURE in permits and \
                prefecture_of(caller.id) == prefecture_of(holding.municipality_code):
            return Basis.SAME_PREFECTURE
    raise unknown()
