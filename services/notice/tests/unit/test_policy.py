"""Dated policies on either side of each cut-off (JST days)."""

from __future__ import annotations

import datetime as dt

import pytest
from notice import policy

UTC = dt.UTC


@pytest.mark.parametrize(("at", "kind", "fee"), [
    (dt.datetime(2015, 12, 31, 14, 59, tzinfo=UTC), "resend", 0),  # 12/31 23:59 JST
    (dt.datetime(2015, 12, 31, 15, 0, tzinfo=UTC), "reissue", 500),  # 1/1 00:00 JST
])
def test_resend_is_free_through_2015_12_31_in_japan(at, kind, fee):
    assert policy.resend_terms(at) == policy.ResendTerms(kind, fee)


def test_a_card_sent_again_during_the_hold_in_2015_is_a_free_resend_and_a_reissue_once_the_hold_ends():
    hold = dt.datetime(2015, 11, 1, 3, 0, tzinfo=UTC)
    assert policy.resend_terms(hold - dt.timedelta(minutes=1), hold_until=hold) == policy.ResendTerms("resend", 0)
    assert policy.resend_terms(hold, hold_until=hold) == policy.ResendTerms("reissue", 500)


def test_a_card_the_person_had_is_a_reissue_even_in_2015():
    assert policy.resend_terms(dt.datetime(2015, 11, 1, tzinfo=UTC), card_received=True) == \
        policy.ResendTerms("reissue", 500)


def test_only_a_reissue_counts_against_the_subsidy():
    assert policy.counts_against_subsidy("reissue")
    assert not any(policy.counts_against_subsidy(k) for k in ("initial", "resend", "municipal_resend",
                                                             "notification_letter"))


def test_notices_made_from_2020_05_25_jst_are_notification_letters():
    assert policy.document_for_notice(dt.datetime(2020, 5, 24, 14, 59, tzinfo=UTC)) == policy.NOTICE_CARD
    assert policy.document_for_notice(dt.datetime(2020, 5, 24, 15, 0, tzinfo=UTC)) == policy.NOTIFICATION_LETTER
    assert not policy.notice_card_in_force(dt.datetime(2020, 5, 25, tzinfo=UTC))


@pytest.mark.parametrize(("returned", "until"), [
    (dt.datetime(2015, 10, 20, 1, 0, tzinfo=UTC), dt.datetime(2016, 1, 20, 1, 0, tzinfo=UTC)),
    # 11/30 JST + 3 months = the last day of February (2016 is a leap year).
    (dt.datetime(2015, 11, 30, 3, 0, tzinfo=UTC), dt.datetime(2016, 2, 29, 3, 0, tzinfo=UTC)),
    # 11/30 15:00 UTC is 12/1 in Japan: the months are counted on the JST day (-> 3/1 JST, not 2/29).
    (dt.datetime(2015, 11, 30, 15, 0, tzinfo=UTC), dt.datetime(2016, 2, 29, 15, 0, tzinfo=UTC)),
    # 1/31 + 3 months = 4/30; across a year: 11/15 -> 2/15.
    (dt.datetime(2016, 1, 30, 15, 0, tzinfo=UTC), dt.datetime(2016, 4, 29, 15, 0, tzinfo=UTC)),
    (dt.datetime(2016, 11, 15, 1, 0, tzinfo=UTC), dt.datetime(2017, 2, 15, 1, 0, tzinfo=UTC)),
])
def test_returned_mail_is_held_three_calendar_months(returned, until):
    assert policy.hold_until(returned) == until
