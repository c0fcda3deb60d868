"""The mailing-list file of `mynumber notice submit`: the municipality's 送付先情報 as CSV, one line per member:

    household_id,address,postal_code,resident_code,name,birth_date,sex

A household is the run of consecutive lines with the same household_id (one envelope); its address and postal code
are those of its first line, and a later line of the same household that names another address is an error (a
household has one address). sex is 1 / 2 (the 住基 codes) or male / female. An optional header line (these names,
or 世帯番号,住所,郵便番号,住民票コード,氏名,生年月日,性別) is skipped.

As for the register file, the parser never raises on what a file holds and never echoes a value: each line is a
member or a LineError naming the line, the field and the rule. The format rules of each field (check digits,
characters, lengths) are the notice service's; it names the offending field of a request, which `line_of` maps
back to the file's line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from mynumber_cli.register_file import LineError, csv_records

MAX_LINE_BYTES = 4096  # a name and an address of the platform's maximum length, quoted, in UTF-8
FIELDS = ("household_id", "address", "postal_code", "resident_code", "name", "birth_date", "sex")
HEADERS: set[tuple[str, ...]] = {FIELDS, ("世帯番号", "住所", "郵便番号", "住民票コード", "氏名", "生年月日", "性別")}
SEX = {"1": 1, "2": 2, "male": 1, "female": 2, "男": 1, "女": 2}
FIELD_PATH = re.compile(r"households\[(\d+)\](?:\.members\[(\d+)\])?\.?(\S*?):")


@dataclass(frozen=True)
class MemberLine:
    line: int
    resident_code: str
    name: str
    birth_date: str
    sex: int


@dataclass
class HouseholdLines:
    household_id: str
    address: str
    postal_code: str
    line: int
    members: list[MemberLine] = field(default_factory=list)


def parse_mailing_list(stream: IO[bytes]) -> Iterator[HouseholdLines | LineError]:
    """Households in file order (each once complete), and the LineErrors of the lines that are not members."""
    current: HouseholdLines | None = None
    for item in csv_records(stream, max_line_bytes=MAX_LINE_BYTES, headers=HEADERS):
        if isinstance(item, LineError):
            yield item
            continue
        number, fields = item
        if len(fields) != len(FIELDS):
            yield LineError(number, "line", f"expected {len(FIELDS)} fields ({','.join(FIELDS)}), got {len(fields)}")
            continue
        hid, address, postal, code, name, birth, sex = fields
        if not hid:
            yield LineError(number, "household_id", "is required")
            continue
        if sex.casefold() not in SEX:
            yield LineError(number, "sex", "must be 1 or 2 (male or female)")
            continue
        if current is not None and current.household_id == hid:
            if (address, postal) != (current.address, current.postal_code):
                yield LineError(number, "address", "a household has one address: must be its first line's")
                continue
        else:
            if current is not None:
                yield current
            current = HouseholdLines(hid, address, postal, number)
        current.members.append(MemberLine(number, code, name, birth, SEX[sex.casefold()]))
    if current is not None:
        yield current


def line_of(message: str, chunk: list[HouseholdLines]) -> str:
    """A service message naming `households[i].members[j].field: rule` of a request made from `chunk`, said as
    `line N: field: rule` of the file (anything else unchanged)."""
    found = FIELD_PATH.match(message)
    if found is None or int(found[1]) >= len(chunk):
        return message
    household = chunk[int(found[1])]
    line = household.line
    if found[2] is not None and int(found[2]) < len(household.members):
        line = household.members[int(found[2])].line
    return f"line {line}: {found[3] or 'household'}:{message[found.end():]}"
