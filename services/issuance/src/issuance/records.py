"""Records of issuance as the rules see them (frozen, no SQL)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from mynumber_runtime.errors import InvalidArgument

from issuance.channels import Channel, HandoverMethod
from issuance.states import ApplicationState


@dataclass(frozen=True)
class Form:
    """A 交付申請書 notice made, found by its 申請書ID's keyed hash."""

    form_hash: bytes
    person_hash: bytes
    municipality_code: str
    facts_digest: bytes
    issued_at: dt.datetime
    superseded_at: dt.datetime | None = None


@dataclass(frozen=True)
class Person:
    """The person a form was made for, by the keyed hash of their 個人番号: the municipality of their newest form
    holds them here, and only that form is current."""

    person_hash: bytes
    municipality_code: str
    current_form_hash: bytes
    current_issued_at: dt.datetime
    sealed_number: bytes


@dataclass(frozen=True)
class Application:
    ref: str
    person_hash: bytes
    form_hash: bytes
    municipality_code: str
    channel: Channel
    handover_method: HandoverMethod
    state: ApplicationState
    submitted_at: dt.datetime
    updated_at: dt.datetime
    photo_width: int
    photo_height: int


@dataclass(frozen=True)
class NewApplication:
    application: Application
    sealed_applicant: bytes
    sealed_photo: bytes


@dataclass(frozen=True)
class StateChange:
    state: ApplicationState
    at: dt.datetime


@dataclass(frozen=True)
class Position:
    """Where a page of applications ended (keyset: newest first by submitted_at, then ref); its token is opaque to
    clients and names only what the municipality already saw on that page."""

    submitted_at: dt.datetime
    ref: str

    def token(self) -> str:
        return base64.urlsafe_b64encode(f"{self.submitted_at.isoformat()}|{self.ref}".encode()).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> Position:
        try:
            at, sep, ref = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().partition("|")
            when = dt.datetime.fromisoformat(at)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidArgument("page_token", "not a token this service issued") from None
        if not sep or when.tzinfo is None or len(ref) != 32 or not ref.isalnum():
            raise InvalidArgument("page_token", "not a token this service issued")
        return cls(when, ref)


# An access record's details: flat JSON of short facts (bases, references), never personal data.
AccessDetails = dict[str, str | int]
