"""How long JPKI certificates live (domain.md §4.1, §4.4): to the 5th birthday after issuance, never past the card,
CA certificates ten calendar years; pure date arithmetic in JST."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from mynumber_runtime.clock import JST

from jpki.errors import InvalidArgument

# 署名用 is refused to persons under 15 (domain.md §4.4; municipal pages S44/S47).
MIN_AGE_SIGN = 15
# Both certificates run to the 5th birthday after issuance (domain.md §4.4).
BIRTHDAYS_OF_VALIDITY = 5


def end_of_day_jst(d: dt.date) -> dt.datetime:
    """23:59:59 JST as the real CA certificates end (domain.md §4.1; for EE certificates UNCONFIRMED, §4.4)."""
    return dt.datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=JST).astimezone(dt.UTC)


def _birthday_in(birth: dt.date, year: int) -> dt.date:
    # A 29 February birthday falls on 28 February in common years (our choice; the statute counts age from the
    # day before the birthday, 年齢計算ニ関スル法律, which lands on the 28th either way).
    try:
        return birth.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def nth_birthday_after(birth: dt.date, after: dt.date, n: int = BIRTHDAYS_OF_VALIDITY) -> dt.date:
    """The n-th birthday strictly after `after` (発行日後5回目の誕生日)."""
    first = _birthday_in(birth, after.year)
    if first <= after:
        first = _birthday_in(birth, after.year + 1)
    return _birthday_in(birth, first.year + n - 1)


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def certificate_not_after(*, issued_at: dt.datetime, birth_date: dt.date, card_expiry: dt.date,
                          cap: dt.datetime | None = None) -> dt.datetime:
    """To the 5th birthday after issuance, never past the card's expiry, never past `cap` (for a signing
    certificate: the authentication certificate's end, domain.md §4.4)."""
    today = issued_at.astimezone(JST).date()
    end = min(end_of_day_jst(nth_birthday_after(birth_date, today)), end_of_day_jst(card_expiry))
    if cap is not None:
        end = min(end, cap)
    if end <= issued_at:
        raise InvalidArgument("card_expiry", "the card (or its authentication certificate) has already expired")
    return end


def ca_not_after(issued_at: dt.datetime, years: int = 10) -> dt.datetime:
    """Ten calendar years ending 23:59:59 JST of the day before the anniversary, as the real CA certificates run
    (2023-07-16 09:50 JST -> 2033-07-15 23:59:59 JST, domain.md §4.1)."""
    start = issued_at.astimezone(JST).date()
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        anniversary = dt.date(start.year + years, 3, 1)
    return end_of_day_jst(anniversary - dt.timedelta(days=1))


# End-entity certificates start this much before they are issued, so that a verifier whose clock lags a little
# accepts a certificate issued a moment ago (Boulder backdates an hour too); never before the CA's own start.
BACKDATE = dt.timedelta(hours=1)


def end_entity_not_before(issued_at: dt.datetime, ca_cert: x509.Certificate) -> dt.datetime:
    return max(issued_at - BACKDATE, ca_cert.not_valid_before_utc)
