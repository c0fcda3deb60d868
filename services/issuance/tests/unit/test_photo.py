"""The photo is decoded, not trusted: format, byte size, pixel size and orientation, each refusal naming the field
and the rule and never the bytes."""

from __future__ import annotations

import pytest
from issuance.photo import (
    RULE_DIMENSIONS,
    RULE_FORMAT,
    RULE_PORTRAIT,
    RULE_SIZE,
    check_photo,
)
from mynumber_runtime.errors import InvalidArgument

from .fakes import jpeg


def refused(data: bytes) -> str:
    with pytest.raises(InvalidArgument) as e:
        check_photo(data)
    assert e.value.field == "photo"  # type: ignore[attr-defined]
    return e.value.rule  # type: ignore[attr-defined,no-any-return]


def test_a_portrait_jpeg_of_the_accepted_size_is_accepted() -> None:
    p = check_photo(jpeg(600, 800))
    assert (p.format, p.width, p.height) == ("JPEG", 600, 800)


def test_a_png_is_refused_even_named_as_a_jpeg() -> None:
    assert refused(jpeg(600, 800, fmt="PNG")) == RULE_FORMAT


def test_bytes_that_are_no_image_are_refused() -> None:
    assert refused(b"\xff\xd8\xff\xe0" + b"not a jpeg at all" * 2000) == RULE_FORMAT


def test_a_truncated_jpeg_is_refused() -> None:
    data = jpeg(600, 800)
    assert refused(data[: len(data) // 2]) == RULE_FORMAT


def test_too_few_bytes_are_refused_before_decoding() -> None:
    assert refused(b"\xff\xd8" * 100) == RULE_SIZE
    assert refused(b"") == RULE_SIZE


def test_a_photo_below_480_pixels_a_side_is_refused() -> None:
    assert refused(jpeg(479, 800)) == RULE_DIMENSIONS


def test_a_landscape_photo_is_refused() -> None:
    assert refused(jpeg(800, 600)) == RULE_PORTRAIT


def test_nothing_of_the_photo_is_echoed() -> None:
    data = b"SECRET-PAYLOAD" * 3000
    with pytest.raises(InvalidArgument) as e:
        check_photo(data)
    assert "SECRET" not in str(e.value) and "SECRET" not in e.value.message
