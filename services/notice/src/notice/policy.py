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
# 通知カード re-issue fee, the standard the ordinances follow (seed 注２, domain.md §6: 500 yen, 名古屋市 FAQ);
# each municipality's own is its ordinance's (notice.fees).
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


def resend_terms(at: dt.datetime, *, hold_until: dt.datetime | None = None, card_received: bool = False,
                 reissue_fee_yen: int = REISSUE_FEE_YEN) -> ResendTerms:
    """One rule for every card sent again (転居, moved-within, RequestResend, 転入, the 転出元-held card re-sent by
    the 転入先 「再交付に準じて」): a free 再送 through 2015-12-31 (seed ~21894 「H27.12.31までは通知カードを無料で
    再送」) and while the returned card's 3-month hold lasts; a 再交付 with the fee from 2016-01-01 (「H28.1月以降は
    再交付扱い（有料）」) or once the hold has ended (chart ② ※2 「一定期間経過後は返還登録の上廃棄処理とし、以後の
    通知カードの発行は再発行扱いとする」). A 返還登録 the municipality makes itself as step 1 of a resend (①-1
    「1. 返還登録 2. 廃棄処理 3. …通知カードを再送」) does not make it a 再交付: the chart still calls it 再送. A card
    that reached the person (delivered, handed over) and is asked for again is a 再交付 (紛失等), whatever the date.
    Not wording: the subsidy is reduced per 再交付 (`counts_against_subsidy`). The fee of a 再交付 is the
    municipality's ordinance's (`notice.fees`, the standard 500 yen unless given)."""
    hold_ended = hold_until is not None and at >= hold_until
    if card_received or hold_ended or jst_day(at) > FREE_RESEND_LAST_DAY:
        return ResendTerms(kind="reissue", fee_yen=reissue_fee_yen)
    return ResendTerms(kind="resend", fee_yen=0)


# Seed 別紙 (~30870, 省令§11Ⅰ): 再交付がやむを得ないと認められる場合 (国庫補助対象 ○): the 追記欄 has no space left
# (§11Ⅰ②), or the municipality or J-LIS caused it (紛失等 ただし市区町村・J-LISのミスによる場合). A loss (§11Ⅰ①) is ×.
UNAVOIDABLE_REISSUE = frozenset({"endorsement_space_full", "issuer_fault"})


def counts_against_subsidy(kind: str, reissue_reason: str | None = None) -> bool:
    """Seed 交付事務費補助金の骨子 (~28429): the subsidy is reduced by 再交付した通知カードの枚数 × 再交付手数料
    (再交付がやむを得ないと認められる場合を除く). Only a re-issue counts, and not an unavoidable one; a free resend
    (再送) never does, so the label decides money."""
    return kind == "reissue" and reissue_reason not in UNAVOIDABLE_REISSUE


def hold_until(returned_at: dt.datetime) -> dt.datetime:
    """Three calendar months after the return (JST), same day-of-month or the month's last day (relativedelta's
    month arithmetic: 11/30 + 3 months = the last day of February)."""
    until: dt.datetime = returned_at.astimezone(JST) + relativedelta(months=RETURN_HOLD_MONTHS)
    return until.astimezone(dt.UTC)
