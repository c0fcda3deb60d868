"""Purpose binding (番号法 第9条, 第19条): a call that uses a 個人番号 names the 事務 it serves, and the gateway
refuses it unless the registry lets the caller use the number for that 事務.

The registry is data: the 別表第一 rows a municipality carries out (data/purposes.toml, shipped with the gateway),
each municipality's own 第9条2項 条例 事務 (only social security, local tax and disaster response, each with its
条例 and the day it takes effect), and the 一部事務組合 / 広域連合 with their member municipalities and the 事務
each was given (seed C4: a joint body acts for its members as one of their departments, only within those 事務).
The last two come from the deployment's ordinance file (settings `purposes_file`, TOML). A bad entry fails the
start, naming it. The chosen code rides upstream (runtime identity.PURPOSE_KEY) into every access record."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mynumber_runtime.clock import JST

CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
ORDINANCE_CATEGORIES = frozenset({"social_security", "local_tax", "disaster"})  # 第9条2項
STATUTE_CATEGORIES = ORDINANCE_CATEGORIES | {"resident_register"}
MUNICIPALITY_CODE = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class Purpose:
    code: str
    name: str
    basis: str  # the law (別表第一) or the 条例
    category: str
    # Whose 事務 it is: None for a 別表第一 row (every municipality); else the one municipality whose 条例 made it.
    municipality: str | None = None
    effective_from: dt.date | None = None


@dataclass(frozen=True)
class Union:
    """A 一部事務組合 or 広域連合: its own 団体コード, its members, and the 事務 they gave it."""

    code: str
    name: str
    members: frozenset[str]
    purposes: frozenset[str]


class PurposeRefused(Exception):
    """Why a purpose was refused, as a text naming the header and the rule (never a person)."""


@dataclass(frozen=True)
class Registry:
    purposes: Mapping[str, Purpose]
    unions: Mapping[str, Union]

    def union(self, code: str) -> Union | None:
        return self.unions.get(code)

    def check(self, caller_code: str, acting_for: str, code: str, today: dt.date) -> Purpose:
        """The purpose `code` if `caller_code` (a municipality, or a union acting for its member `acting_for`) may
        use the number for it on `today`; PurposeRefused otherwise."""
        purpose = self.purposes.get(code)
        if purpose is None:
            raise PurposeRefused("Purpose-Of-Use: not a 事務 of the purpose registry")
        union = self.unions.get(caller_code)
        if union is not None:
            if acting_for not in union.members:
                raise PurposeRefused("Acting-For: not a member municipality of this 一部事務組合")
            if code not in union.purposes:
                raise PurposeRefused("Purpose-Of-Use: not a 事務 this 一部事務組合 was given")
        elif acting_for != caller_code:
            raise PurposeRefused("Acting-For: only a 一部事務組合 acts for another municipality")
        if purpose.municipality is not None and purpose.municipality != acting_for:
            raise PurposeRefused("Purpose-Of-Use: another municipality's 条例 事務")
        if purpose.effective_from is not None and today < purpose.effective_from:
            raise PurposeRefused("Purpose-Of-Use: the 条例 is not yet in force")
        return purpose


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: {key} is required (a text)")
    return value


def _code(entry: Mapping[str, Any], where: str) -> str:
    code = _text(entry, "code", where)
    if not CODE.fullmatch(code):
        raise ValueError(f"{where}: code must be 1-64 of a-z, 0-9 and -, starting with a letter or digit")
    return code


def _municipality(value: object, where: str) -> str:
    if not isinstance(value, str) or not MUNICIPALITY_CODE.fullmatch(value):
        raise ValueError(f"{where}: a 6-digit 団体コード")
    return value


def load(ordinances: Path | None = None) -> Registry:
    statute = tomllib.loads(resources.files("gateway").joinpath("data").joinpath("purposes.toml")
                            .read_text(encoding="utf-8"))
    local: dict[str, Any] = tomllib.loads(ordinances.read_text(encoding="utf-8")) if ordinances else {}
    purposes: dict[str, Purpose] = {}

    def add(p: Purpose, where: str) -> None:
        if p.code in purposes:
            raise ValueError(f"{where}: code {p.code} is listed twice")
        purposes[p.code] = p

    for n, row in enumerate(statute.get("beppyo1", []), start=1):
        where = f"beppyo1 entry {n}"
        category = _text(row, "category", where)
        if category not in STATUTE_CATEGORIES:
            raise ValueError(f"{where}: category must be one of {sorted(STATUTE_CATEGORIES)}")
        add(Purpose(_code(row, where), _text(row, "name", where), _text(row, "law", where), category), where)
    for n, row in enumerate(local.get("jorei", []), start=1):
        where = f"jorei entry {n}"
        category = _text(row, "category", where)
        if category not in ORDINANCE_CATEGORIES:
            raise ValueError(f"{where}: category must be one of {sorted(ORDINANCE_CATEGORIES)} (番号法 第9条2項)")
        effective = row.get("effective_from")
        if not isinstance(effective, dt.date):
            raise ValueError(f"{where}: effective_from is required (a TOML date, YYYY-MM-DD)")
        add(Purpose(_code(row, where), _text(row, "name", where), _text(row, "ordinance", where), category,
                    _municipality(row.get("municipality"), f"{where}: municipality"), effective), where)
    unions: dict[str, Union] = {}
    for n, row in enumerate(local.get("union", []), start=1):
        where = f"union entry {n}"
        code = _municipality(row.get("code"), f"{where}: code")
        members = frozenset(_municipality(m, f"{where}: members") for m in row.get("members", []))
        given = frozenset(str(c) for c in row.get("purposes", []))
        if not members or not given:
            raise ValueError(f"{where}: members and purposes are required")
        if unknown := sorted(given - purposes.keys()):
            raise ValueError(f"{where}: purposes names codes the registry does not have: {unknown}")
        if code in unions or code in members:
            raise ValueError(f"{where}: code {code} is listed twice or is its own member")
        unions[code] = Union(code, _text(row, "name", where), members, given)
    return Registry(purposes, unions)


def today() -> dt.date:
    return dt.datetime.now(JST).date()
