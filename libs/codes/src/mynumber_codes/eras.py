"""元号: the eras of the Japanese calendar since 明治, with the first day of each and the JPKI code digit
(domain.md §4.3: the birth-date value `EYYYYMMDD`). One table for every service (certificates, print documents)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Era:
    name: str  # 令和
    code: str  # the JPKI digit: 5 令和, 4 平成, 3 昭和, 2 大正, 1 明治 (0: none of them)
    first_day: dt.date

    def year_of(self, day: dt.date) -> int:
        """The era year of `day` (1 is 元年)."""
        return day.year - self.first_day.year + 1


# Newest first.
ERAS = (
    Era("令和", "5", dt.date(2019, 5, 1)),
    Era("平成", "4", dt.date(1989, 1, 8)),
    Era("昭和", "3", dt.date(1926, 12, 25)),
    Era("大正", "2", dt.date(1912, 7, 30)),
    Era("明治", "1", dt.date(1868, 10, 23)),
)
FIRST_DAY = ERAS[-1].first_day


def era_of(day: dt.date) -> Era | None:
    """The era `day` falls in; None before 明治 (1868-10-23)."""
    return next((e for e in ERAS if day >= e.first_day), None)
