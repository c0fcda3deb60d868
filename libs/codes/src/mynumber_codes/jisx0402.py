"""全国地方公共団体コード (JIS X 0402): 6 digits, a check digit, and a body that really exists.

A code is refused unless it is well formed (prefecture part 01-47 per JIS X 0401, the JIS X 0402 check digit)
AND names a body in the list kept as data in this package (`data/municipalities.csv`): the 47 prefectures, every
市町村, the 23 特別区 of Tokyo, the 20 政令指定都市 and their 行政区. The list is generated from a maintained
source by `libs/codes/scripts/regenerate_municipalities.py` (see there why it is data and not a run-time
dependency); a unit test checks the file still matches that source.

`kind` is one of a closed set (`KINDS`):
- "prefecture": a 都道府県 (code pp000c), e.g. 130001 東京都.
- "designated_city": a 政令指定都市 as a whole, e.g. 141003 横浜市.
- "ward": a 行政区 of a designated city (地方自治法 第252条の20), e.g. 141011 横浜市鶴見区; not a 地方公共団体 itself,
  but it has its own code and a ward office keeps the register day to day.
- "special_ward": one of Tokyo's 23 特別区 (地方自治法 第281条), e.g. 131016 千代田区.
- "city", "town", "village": every other 市, 町, 村.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from mynumber_runtime.errors import InvalidArgument

from mynumber_codes._strings import require_digits

KINDS = frozenset({"prefecture", "designated_city", "ward", "special_ward", "city", "town", "village"})
# Bodies whose register holds residents (住民基本台帳法 第5条: 市町村 and 特別区; a designated city's register is
# kept ward by ward). Prefectures keep none.
MUNICIPAL_KINDS = KINDS - {"prefecture"}

MUNICIPALITY_CODE_DIGITS = 6
RULE_MUNICIPALITY_LENGTH = "must be exactly 6 digits (JIS X 0402 code with its check digit)"
RULE_MUNICIPALITY_PREFECTURE = "prefecture part must be 01-47 (JIS X 0401)"
RULE_MUNICIPALITY_CHECK = "check digit does not match (JIS X 0402)"
RULE_MUNICIPALITY_UNKNOWN = "not a municipality in the JIS X 0402 list"
RULE_MUNICIPALITY_KIND = "names a kind of body not accepted here (JIS X 0402)"

_CHECK_WEIGHTS = (6, 5, 4, 3, 2)


@dataclass(frozen=True)
class Municipality:
    code: str  # 6 digits with the check digit
    name: str  # as the 総務省 list writes it: 千代田区, 札幌市中央区, 洞爺湖町 (no 郡)
    prefecture_code: str  # JIS X 0401, 2 digits
    prefecture_name: str
    kind: str  # one of KINDS


def municipality_check_digit(five: str) -> str:
    """JIS X 0402 check digit: 11 - (Σ d·w mod 11) with weights 6,5,4,3,2, the last digit of that (10 -> 0)."""
    total = sum(int(d) * w for d, w in zip(five, _CHECK_WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


@functools.cache
def _bodies() -> Mapping[str, Municipality]:
    text = resources.files("mynumber_codes").joinpath("data").joinpath("municipalities.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    # Read-only: the one cached list is shared by every caller in the process.
    return MappingProxyType({row["code"]: Municipality(row["code"], row["name"], row["prefecture_code"],
                                                       row["prefecture_name"], row["kind"]) for row in rows})


def municipalities() -> Mapping[str, Municipality]:
    """Every body in the list, by code (read-only view)."""
    return _bodies()


def municipality(code: str) -> Municipality | None:
    """The body a code names, or None (also for anything that is not a well-formed code)."""
    if not isinstance(code, str):
        return None
    return _bodies().get(code)


def validate_municipality_code(
    value: str, field: str = "municipality_code", *, kinds: frozenset[str] | None = None
) -> Municipality:
    """The body `value` names. `kinds` (e.g. MUNICIPAL_KINDS) narrows which kinds of body the caller accepts."""
    code = require_digits(value, field, length=MUNICIPALITY_CODE_DIGITS, rule=RULE_MUNICIPALITY_LENGTH)
    if not 1 <= int(code[:2]) <= 47:
        raise InvalidArgument(field, RULE_MUNICIPALITY_PREFECTURE)
    if municipality_check_digit(code[:5]) != code[5]:
        raise InvalidArgument(field, RULE_MUNICIPALITY_CHECK)
    body = _bodies().get(code)
    if body is None:
        raise InvalidArgument(field, RULE_MUNICIPALITY_UNKNOWN)
    if kinds is not None and body.kind not in kinds:
        raise InvalidArgument(field, RULE_MUNICIPALITY_KIND)
    return body
