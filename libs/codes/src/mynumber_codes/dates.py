"""Calendar dates as the services take them: strict ISO 8601 `YYYY-MM-DD`, ASCII digits, 明治 onward."""

from __future__ import annotations

import datetime as dt

from mynumber_runtime.errors import InvalidArgument

from mynumber_codes._strings import require_str

# 明治 began 1868 (the earliest era a 住民票 birth date is written in, domain.md §4.3 era codes); the upper bound
# keeps arithmetic on expiry dates (5th birthday, 10 years) far from date.max and refuses typos like 20250-01-01.
EARLIEST_DATE = dt.date(1868, 1, 1)
LATEST_DATE = dt.date(2200, 12, 31)

RULE_DATE_FORMAT = "must be a date written YYYY-MM-DD (ASCII digits)"
RULE_DATE_REAL = "must be a real calendar date"
RULE_DATE_RANGE = "must be between 1868-01-01 and 2200-12-31"


def validate_date(value: str, field: str) -> dt.date:
    text = require_str(value, field)
    # date.fromisoformat alone would take 20250101, 2025-W01-1 and (3.11+) other ISO forms: check the shape first.
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise InvalidArgument(field, RULE_DATE_FORMAT)
    digits = text[:4] + text[5:7] + text[8:]
    if not digits.isascii() or not digits.isdigit():
        raise InvalidArgument(field, RULE_DATE_FORMAT)
    try:
        date = dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        raise InvalidArgument(field, RULE_DATE_REAL) from None
    if not EARLIEST_DATE <= date <= LATEST_DATE:
        raise InvalidArgument(field, RULE_DATE_RANGE)
    return date
