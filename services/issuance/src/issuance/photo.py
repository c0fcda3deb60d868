"""The applicant's photo, decoded (Pillow), never trusted by its extension or a declared type.

The limits are J-LIS's for online applications (a JPEG of 20 KB to 7 MB, each side 480 to 6000 pixels); a mailed
photo reaches us scanned by the intake and is held to the same rule. The photo is decoded at one eighth of its
size (JPEG's DCT scaling): a corrupt or truncated file fails as a full decode would, at a fraction of the cost."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from mynumber_runtime.errors import InvalidArgument
from PIL import Image

MIN_BYTES, MAX_BYTES = 20 * 1024, 7 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 480, 6000
FORMATS = ("JPEG",)

RULE_SIZE = f"must be {MIN_BYTES // 1024} KB to {MAX_BYTES // (1024 * 1024)} MB"
RULE_FORMAT = "must be a JPEG image (decoded, not judged by its name)"
RULE_DIMENSIONS = f"each side must be {MIN_SIDE} to {MAX_SIDE} pixels"
RULE_PORTRAIT = "must be portrait (taller than wide), as the card's 4.5 x 3.5 cm photo"


@dataclass(frozen=True)
class Photo:
    format: str
    width: int
    height: int
    size: int


def check_photo(data: bytes, field: str = "photo") -> Photo:
    """The decoded photo's facts, or InvalidArgument naming the field and the rule (never the bytes)."""
    if not MIN_BYTES <= len(data) <= MAX_BYTES:
        raise InvalidArgument(field, RULE_SIZE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = img.size
            if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
                raise InvalidArgument(field, RULE_DIMENSIONS)
            img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            img.load()
    except InvalidArgument:
        raise
    except Exception:  # Pillow's own errors (UnidentifiedImageError, OSError on truncation, bomb warnings)
        raise InvalidArgument(field, RULE_FORMAT) from None
    if height <= width:
        raise InvalidArgument(field, RULE_PORTRAIT)
    return Photo("JPEG", width, height, len(data))
