"""google.protobuf.Timestamp and datetime, both ways, in one place (absent means unset, house style)."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from mynumber_runtime.errors import InvalidArgument

# Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_SECONDS = range(-62_135_596_800, 253_402_300_800)


def timestamp(at: dt.datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(at)
    return t


def maybe_timestamp(at: dt.datetime | None) -> Timestamp | None:
    return None if at is None else timestamp(at)


def datetime_of(t: Timestamp, field: str) -> dt.datetime:
    """A request's Timestamp as an aware UTC datetime; one outside Timestamp's range is `field`'s error."""
    if t.seconds not in _SECONDS or not 0 <= t.nanos < 1_000_000_000:
        raise InvalidArgument(field, "a Timestamp from 0001-01-01 to 9999-12-31")
    at: dt.datetime = t.ToDatetime(tzinfo=dt.UTC)
    return at
