"""What one export hands to both of its writers, the MNB1 batch file (`notice.export`) and the PDF (`notice.pdf`):
the envelopes and cards of a batch, and the owner-only file they are written to. Both writers import this module
and neither imports the other's internals (`export` calls `pdf` one way, for `write_batch(with_pdfs=True)`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = ["SEX", "CardRecord", "Envelope", "private_file"]

# 性別 as the 住民票 writes it (the list's 1/2).
SEX = {1: "男", 2: "女"}


@dataclass(frozen=True)
class CardRecord:
    application_id: str
    document: str  # policy.NOTICE_CARD or policy.NOTIFICATION_LETTER: what this person is sent
    number: str
    name: str
    address: str
    birth_date: str
    sex: int


@dataclass(frozen=True)
class Envelope:
    mailing_id: str
    municipality_code: str
    kind: str
    destination: str
    postal_code: str
    address: str
    addressee: str
    sealed_label: bytes
    cards: Sequence[CardRecord]


def private_file(path: Path, buffering: int = -1) -> BinaryIO:
    """A new file only its owner can read: it holds personal data from the first byte."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb", buffering=buffering)
