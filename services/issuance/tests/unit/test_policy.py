"""The law's dates as dated policies: validity of the card and its certificates, the adult age by the day of
application, and the day applications open (Japanese days)."""

from __future__ import annotations

import datetime as dt

import pytest
from issuance import policy
from issuance.policy import (
    Dated,
    adult_age,
    age_on,
    applications_open,
    card_expiry,
    certificate_expiry,
    nth_birthday_after,
)
from mynumber_runtime.clock import JST

D = dt.date


def test_applications_open_on_2015_10_05_japanese_time() -> None:
    assert not applications_open(dt.datetime(2015, 10, 4, 23, 59, 59, tzinfo=JST))
    assert applications_open(dt.datetime(2015, 10, 5, 0, 0, tzinfo=JST))
    # 2015-10-04 15:00 UTC is already the 5th in Japan.
    assert applications_open(dt.datetime(2015, 10, 4, 15, 0, tzinfo=dt.UTC))
    assert not applications_open(dt.datetime(2015, 10, 4, 14, 59, tzinfo=dt.UTC))


def test_adult_age_is_20_until_2022_03_31_and_18_from_2022_04_01() -> None:
    assert adult_age(D(2015, 10, 5)) == 20
    assert adult_age(D(2022, 3, 31)) == 20
    assert adult_age(D(2022, 4, 1)) == 18
    with pytest.raises(ValueError):
        adult_age(D(2015, 10, 4))


def test_an_adult_card_runs_to_the_tenth_birthday_after_issue() -> None:
    # Birthdays after 2016-01-20: 2016-06-15 is the first, 2025-06-15 the tenth.
    assert card_expiry(D(1980, 6, 15), issued_on=D(2016, 1, 20), applied_on=D(2015, 11, 1)) == D(2025, 6, 15)


def test_a_minor_card_runs_to_the_fifth_birthday_after_issue() -> None:
    assert card_expiry(D(2010, 6, 15), issued_on=D(2016, 1, 20), applied_on=D(2015, 11, 1)) == D(2020, 6, 15)


def test_a_nineteen_year_old_is_a_minor_before_2022_04_01_and_an_adult_after() -> None:
    born = D(2003, 6, 15)  # 19 in May 2022 and in March 2022
    assert card_expiry(born, issued_on=D(2022, 3, 20), applied_on=D(2022, 3, 1)) == D(2026, 6, 15)  # 5th
    assert card_expiry(born, issued_on=D(2022, 5, 20), applied_on=D(2022, 4, 1)) == D(2031, 6, 15)  # 10th


def test_the_adult_age_follows_the_day_of_application_not_of_issue() -> None:
    born = D(2003, 6, 15)
    # Applied in March 2022 (threshold 20), issued in May: still a minor's card.
    assert card_expiry(born, issued_on=D(2022, 5, 20), applied_on=D(2022, 3, 31)) == D(2026, 6, 15)


def test_a_card_issued_on_the_birthday_does_not_count_that_day() -> None:
    assert nth_birthday_after(D(1980, 6, 15), D(2016, 6, 15), 10) == D(2026, 6, 15)
    assert nth_birthday_after(D(1980, 6, 15), D(2016, 6, 14), 1) == D(2016, 6, 15)
    assert nth_birthday_after(D(1980, 6, 15), D(2016, 6, 15), 1) == D(2017, 6, 15)


def test_twenty_on_the_day_of_issue_is_an_adult() -> None:
    born = D(1996, 1, 20)
    assert age_on(born, D(2016, 1, 20)) == 20 and age_on(born, D(2016, 1, 19)) == 19
    assert card_expiry(born, issued_on=D(2016, 1, 20), applied_on=D(2015, 11, 1)) == D(2026, 1, 20)
    assert card_expiry(born, issued_on=D(2016, 1, 19), applied_on=D(2015, 11, 1)) == D(2020, 1, 20)


def test_a_leap_day_birthday_falls_on_28_february_in_common_years() -> None:
    assert card_expiry(D(1980, 2, 29), issued_on=D(2016, 3, 1), applied_on=D(2015, 11, 1)) == D(2026, 2, 28)
    assert nth_birthday_after(D(1980, 2, 29), D(2016, 3, 1), 4) == D(2020, 2, 29)


def test_certificates_run_to_the_fifth_birthday_or_the_card_expiry_if_earlier() -> None:
    assert certificate_expiry(D(1980, 6, 15), D(2016, 1, 20), D(2026, 6, 15)) == D(2020, 6, 15)
    assert certificate_expiry(D(1980, 6, 15), D(2016, 1, 20), D(2018, 1, 1)) == D(2018, 1, 1)


def test_a_dated_policy_refuses_steps_out_of_order() -> None:
    with pytest.raises(ValueError):
        Dated("x", [(D(2022, 4, 1), 18), (D(2015, 10, 5), 20)])
    assert policy.HANDOVER_OPEN.on(D(2015, 12, 31)) is False and policy.HANDOVER_OPEN.on(D(2016, 1, 1)) is True
