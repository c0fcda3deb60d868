"""Every form in which a 個人番号 or a 住民票コード could appear in clear, and a search for them."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def forms(value: str) -> list[str]:
    """Plain, grouped 4-4-4 with a space or a hyphen (as printed on cards and letters), full-width, and the hex
    of its bytes (how PostgreSQL prints bytea)."""
    groups = [value[i:i + 4] for i in range(0, len(value), 4)]
    plain = [value, " ".join(groups), "-".join(groups), "".join(chr(ord(c) + 0xFEE0) for c in value)]
    return plain + [f.encode().hex() for f in plain[:3]]


def normalized(text: str) -> str:
    """Full-width digits as ASCII, and no space or hyphen: any grouping of the digits becomes the plain run."""
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c not in " -\u3000\u2010\u2212\uff0d")


def found(text: str, values: Iterable[str]) -> list[str]:
    """The values (numbers or codes) that appear in `text` in any form."""
    flat = normalized(text)
    return [v for v in values if any(f in text for f in forms(v)) or v in flat]


def found_in_bytes(data: bytes, values: Iterable[str]) -> list[str]:
    return [v for v in values if any(f.encode() in data for f in forms(v))
            or any(f.encode("utf-16-le") in data for f in forms(v)[:3])]
