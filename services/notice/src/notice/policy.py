"""Dated policies. Each answers "what applies at this instant" so tests can stand on either side of a cut-off.

Dates are Japanese calendar days (JST): the seed and the ordinances speak of days in Japan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# python-dateutil ships no type information (its stubs would be one more dev pin); the one use below is typed.
from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]
from mynumber_runtime.clock import JST

# Seed p.「通知カードの再送期間」: H27.12.31 までは通知カードを無料で再送; H28.1月以降は再交付扱い（有料）.
FREE_RESEND_LAST_DAY = dt.date(2015, 12, 31)
# 通知カード re-issue fee (domain.md §6: 500 yen, 名古屋市 FAQ).
REISSUE_FEE_YEN = 500
# 通知カード abolished on 2020-05-25 (last valid day 5/24): new numbers get a 個人番号通知書; no re-issue, no
# address endorsement afterwards (domain.md §6, [S72][S73]).
NOTICE_CARD_ABOLISHED = dt.date(2020, 5, 25)
# Seed chart ②: returned cards are kept 3 months (初期送付期間が10～12月であることを踏まえ、保存期間は３ヶ月).
RETURN_HOLD_MONTHS = 3

NOTICE_CARD = "notice_card"
NOTIFICATION_LETTER = "notification_letter"


def jst_day(at: dt.datetime) -> dt.date:
    return at.astimezone(JST).date()


def document_for_notice(made_at: dt.datetime) -> str:
    """What a numbered person is sent, by the JST day the notice is made: the day the municipality's 送付先情報
    and the number are both at hand and the envelope is prepared (seed: 送付先情報をJ-LISに送信 -> 通知カード作成),
    not the day of numbering.

    Why that day: 番号法 第7条 puts the duty on the numbering municipality (seed ~22198 「番号法上の通知義務は付番を
    した…市区町村にある」), and the seed counts it fulfilled when the notice is given (「一度は通知したことで通知義務は
    果たした」). The duty arises at numbering; its form is the law's on the day it is carried out, and from
    2020-05-25 the law knows only the 個人番号通知書. So a number assigned on 2020-05-24 whose mailing list arrives
    on 05-26 gets a 個人番号通知書: after the abolition no 通知カード is ever made again. The export and print days
    do not decide (an envelope prepared on 05-24 is a notice already made)."""
    return NOTIFICATION_LETTER if jst_day(made_at) >= NOTICE_CARD_ABOLISHED else NOTICE_CARD


def notice_card_in_force(at: dt.datetime) -> bool:
    return jst_day(at) < NOTICE_CARD_ABOLISHED


@dataclass(frozen=True)
class ResendTerms:
    kind: str  # "resend" (free) or "reissue"
    fee_yen: int


def resend_terms(at: dt.datetime, *, after_return_registration: bool = False) -> ResendTerms:
    """Free resend until 2015-12-31; afterwards a re-issue with a fee. After 返還登録 (chart ② ※2) a new card is a
    re-issue whatever the date, but the fee follows the date: the free period covered the initial mailing."""
    free = jst_day(at) <= FREE_RESEND_LAST_DAY
    kind = "reissue" if after_return_registration or not free else "resend"
    return ResendTerms(kind=kind, fee_yen=0 if free else REISSUE_FEE_YEN)


def counts_against_subsidy(kind: str) -> bool:
    """Seed 交付事務費補助金の骨子 (~28429): the subsidy is reduced by 再交付した通知カードの枚数 × 再交付手数料.
    Only a re-issue counts; a free resend (再送) never does, so the label decides money."""
    return kind == "reissue"


def hold_until(returned_at: dt.datetime) -> dt.datetime:
    """Three calendar months after the return (JST), same day-of-month or the month's last day (relativedelta's
    month arithmetic: 11/30 + 3 months = the last day of February)."""
    until: dt.datetime = returned_at.astimezone(JST) + relativedelta(months=RETURN_HOLD_MONTHS)
    return until.astimezone(dt.UTC)
