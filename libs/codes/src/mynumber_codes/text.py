"""Free text the services store and print (氏名, 住所, notes): which characters, how many.

A field is refused when it holds
- NUL or any other C0/C1 control character (U+0000-U+001F, U+007F-U+009F); only LF (`\\n`) in a multiline field,
- U+2028/U+2029 (line and paragraph separators: line breaks that are not `\\n`),
- the bidirectional embedding/override/isolate controls (U+202A-U+202E, U+2066-U+2069): on a printed envelope or
  a clerk's screen they reorder what is shown (an address that reads differently from what is stored),
- an unpaired surrogate (U+D800-U+DFFF: a Python str can hold one, UTF-8 cannot),
- a Unicode noncharacter (U+FDD0-U+FDEF and U+nFFFE/U+nFFFF of every plane),
- more than `max_chars` code points, or nothing but white space when the field is required.
Private-use characters are accepted on purpose: municipal systems map 外字 in 氏名 and 住所 to the private use area.
The value is returned unchanged (no normalisation): what the register holds is what gets printed.
"""

from __future__ import annotations

import re

from mynumber_runtime.errors import InvalidArgument

from mynumber_codes._strings import require_str

# 氏名: domain.md is silent on a 住民票 limit; 100 code points is what jpki's certificate profile takes
# (services/jpki/src/jpki/profiles.py) and holds the longest names with 通称 and 外国人 full names in Latin letters.
NAME_MAX_CHARS = 100
# 住所: domain.md §4.3, the JPKI certificate's address attribute holds at most 200 characters (from the
# 都道府県, no postal code); a 住所 the register holds must fit on the card.
ADDRESS_MAX_CHARS = 200

RULE_TEXT_REQUIRED = "is required (must not be blank)"
RULE_TEXT_NUL = "must not contain NUL characters"
RULE_TEXT_CONTROL = "must not contain control characters"
RULE_TEXT_SINGLE_LINE = "must be a single line (no line breaks)"
RULE_TEXT_SEPARATOR = "must not contain Unicode line or paragraph separators (U+2028, U+2029)"
RULE_TEXT_BIDI = "must not contain bidirectional control characters"
RULE_TEXT_SURROGATE = "must not contain unpaired surrogates (not valid Unicode text)"
RULE_TEXT_NONCHARACTER = "must not contain Unicode noncharacters"


def rule_text_too_long(max_chars: int) -> str:
    return f"must be at most {max_chars} characters"


_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
# Everything any field refuses, in one scan; the character found picks the rule.
_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff{_NONCHARACTERS}]")
_FORBIDDEN_MULTILINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                                  f"\ud800-\udfff{_NONCHARACTERS}]")


def _rule_for(char: str) -> str:
    point = ord(char)
    if point == 0:
        return RULE_TEXT_NUL
    if char == "\n":
        return RULE_TEXT_SINGLE_LINE
    if point < 0x20 or 0x7F <= point <= 0x9F:
        return RULE_TEXT_CONTROL
    if char in "\u2028\u2029":
        return RULE_TEXT_SEPARATOR
    if 0xD800 <= point <= 0xDFFF:
        return RULE_TEXT_SURROGATE
    if 0x202A <= point <= 0x202E or 0x2066 <= point <= 0x2069:
        return RULE_TEXT_BIDI
    return RULE_TEXT_NONCHARACTER


def validate_text(value: str, field: str, *, max_chars: int, required: bool = True, multiline: bool = False) -> str:
    text = require_str(value, field)
    # Length first: a megabyte string is refused without being scanned.
    if len(text) > max_chars:
        raise InvalidArgument(field, rule_text_too_long(max_chars))
    found = (_FORBIDDEN_MULTILINE if multiline else _FORBIDDEN).search(text)
    if found is not None:
        raise InvalidArgument(field, _rule_for(found.group()))
    if required and not text.strip():
        raise InvalidArgument(field, RULE_TEXT_REQUIRED)
    return text


def validate_name(value: str, field: str = "name") -> str:
    """氏名 (surname, U+3000, given name, as domain.md §4.3 writes it): one line, 1-NAME_MAX_CHARS characters."""
    return validate_text(value, field, max_chars=NAME_MAX_CHARS)


def validate_address(value: str, field: str = "address") -> str:
    """住所 from the 都道府県 on: one line, 1-ADDRESS_MAX_CHARS characters."""
    return validate_text(value, field, max_chars=ADDRESS_MAX_CHARS)
