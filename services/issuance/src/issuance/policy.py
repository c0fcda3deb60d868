"""The law's dates as dated policies: each is a table of (effective from, value), looked up by the day that
decides it, never an if-statement on a date. Days are Japanese days (JST)."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from mynumber_runtime.clock import JST

T = TypeVar("T")


@dataclass(frozen=True)
class Dated(Generic[T]):
    """Values by the day they take effect, oldest first; before the first, `before` (None: nothing in force)."""

    name: str
    steps: Sequence[tuple[dt.date, T]]
    before: T | None = None

    def __post_init__(self) -> None:
        days = [d for d, _ in self.steps]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError(f"{self.name}: steps must be in strictly increasing order")

    def on(self, day: dt.date) -> T | None:
        i = bisect.bisect_right([d for d, _ in self.steps], day)
        return self.steps[i - 1][1] if i else self.before


def japanese_day(at: dt.datetime) -> dt.date:
    return at.astimezone(JST).date()


# 番号法 附則 / seed A9: 交付申請書の受付 opens with numbering, 2015-10-05.
APPLICATIONS_OPEN = Dated("applications accepted", [(dt.date(2015, 10, 5), True)], before=False)
# Seed A10: cards handed over (and the number usable) from 2016-01-01 (the hand-over slice enforces it).
HANDOVER_OPEN = Dated("cards handed over", [(dt.date(2016, 1, 1), True)], before=False)
# 民法 第4条 as amended (2022-04-01): the adult age that decides a card's validity, by the application's day.
ADULT_AGE = Dated("adult age for the card's validity", [(dt.date(2015, 10, 5), 20), (dt.date(2022, 4, 1), 18)])
# domain.md §6 (seed E14, [S83]): an adult's card runs to the 10th birthday after issue, a minor's to the 5th.
CARD_BIRTHDAYS = {True: 10, False: 5}
# domain.md §4.4: both certificates run to the 5th birthday after issue, or the card's expiry if earlier.
CERTIFICATE_BIRTHDAYS = 5
# 署名用電子証明書: not issued to a person under 15 (公的個人認証法 施行規則; domain.md §4.4), on the day of issue.
SIGNING_CERTIFICATE_MIN_AGE = Dated("minimum age for the 署名用 certificate", [(dt.date(2015, 10, 5), 15)])


def applications_open(at: dt.datetime) -> bool:
    return bool(APPLICATIONS_OPEN.on(japanese_day(at)))


def adult_age(applied_on: dt.date) -> int:
    age = ADULT_AGE.on(applied_on)
    if age is None:
        raise ValueError("no card application is possible before 2015-10-05")
    return age


def birthday_in(birth: dt.date, year: int) -> dt.date:
    """The birthday in `year`; one born on 29 February has it on 28 February in a common year (the earlier day:
    a card never outlives the rule)."""
    try:
        return birth.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years on `day` (年齢計算ニ関スル法律: a year is completed on the birthday)."""
    return day.year - birth.year - (day < birthday_in(birth, day.year))


def nth_birthday_after(birth: dt.date, day: dt.date, n: int) -> dt.date:
    """The n-th birthday strictly after `day` (a card issued on a birthday does not count that day)."""
    first_year = day.year if birthday_in(birth, day.year) > day else day.year + 1
    return birthday_in(birth, first_year + n - 1)


def card_expiry(birth: dt.date, issued_on: dt.date, applied_on: dt.date) -> dt.date:
    """The card's last valid day: the 10th birthday after issue for an adult (at issue, by the adult age in force
    on the day of application), else the 5th."""
    adult = age_on(birth, issued_on) >= adult_age(applied_on)
    return nth_birthday_after(birth, issued_on, CARD_BIRTHDAYS[adult])


def certificate_expiry(birth: dt.date, issued_on: dt.date, card_expires_on: dt.date) -> dt.date:
    return min(nth_birthday_after(birth, issued_on, CERTIFICATE_BIRTHDAYS), card_expires_on)


def signing_certificate_issued(birth: dt.date, issued_on: dt.date, *, adult_ward: bool = False) -> bool:
    """Whether the card gets a 署名用 certificate: not under the minimum age in force on the day of issue, nor (in
    principle) for a 成年被後見人 (domain.md §4.4). The 利用者証明用 certificate is issued to everyone."""
    minimum = SIGNING_CERTIFICATE_MIN_AGE.on(issued_on)
    return minimum is not None and age_on(birth, issued_on) >= minimum and not adult_ward
