"""The 通知カード 再交付手数料 by municipal ordinance (seed ~26916 「※各市町村において手数料条例で定める必要あり」):
500 yen is the standard the ordinances follow (注２: 原紙の購入原価等を考慮し、通知カードは500円), a municipality may
decide to charge nothing (「申請者から徴収しないこととすることも、もとより可能」, ~30070), and a re-issue the
municipality or J-LIS caused is free (~30951 「市区町村・J-LISのミスによる場合」). Which re-issues reduce the
交付事務費補助金 is the 別紙's 国庫補助対象 column (`policy.counts_against_subsidy`).

A schedule is dated rows per municipality (`FeeOrdinance`); the one in force on the JST day applies, else the
standard. The service ships no row: an ordinance is a municipality's fact, added when it is known."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from notice import policy

ISSUER_FAULT = "issuer_fault"


@dataclass(frozen=True)
class FeeOrdinance:
    municipality_code: str
    effective_from: dt.date  # JST day
    fee_yen: int  # 0: the municipality does not collect it


@dataclass(frozen=True)
class FeeSchedule:
    by_municipality: Mapping[str, tuple[FeeOrdinance, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[FeeOrdinance]) -> FeeSchedule:
        by: dict[str, list[FeeOrdinance]] = {}
        for r in rows:
            if r.fee_yen < 0:
                raise ValueError("fee_yen: a fee is never negative")
            by.setdefault(r.municipality_code, []).append(r)
        return cls({k: tuple(sorted(v, key=lambda r: r.effective_from)) for k, v in by.items()})

    def reissue_fee(self, municipality_code: str, at: dt.datetime, reason: str = "") -> int:
        """The fee of one 通知カード 再交付 at `at` in this municipality, for this reason."""
        if reason == ISSUER_FAULT:
            return 0  # the municipality's or J-LIS's own mistake: the resident pays nothing
        day = policy.jst_day(at)
        fee = policy.REISSUE_FEE_YEN
        for row in self.by_municipality.get(municipality_code, ()):
            if row.effective_from <= day:
                fee = row.fee_yen
        return fee


def load_schedule(path: Path) -> FeeSchedule:
    """A schedule from a CSV with a header `code,effective_from,fee_yen` (団体コード, YYYY-MM-DD, yen). A bad row
    fails the start, naming its line (the values are a municipality's public ordinance, no personal data)."""
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            try:
                code = row["code"]
                if not (len(code) == 6 and code.isascii() and code.isdigit()):
                    raise ValueError("code: a 6-digit 団体コード")
                rows.append(FeeOrdinance(code, dt.date.fromisoformat(row["effective_from"]), int(row["fee_yen"])))
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"{path.name} line {n}: {e}") from None
    return FeeSchedule.of(rows)
