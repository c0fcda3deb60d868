"""Records of issuance as the rules see them (frozen, no SQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


# An access record's details: flat JSON of short facts (bases, references), never personal data.
AccessDetails = dict[str, str | int]
