import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mynumber.jpki.v1 import jpki_pb2 as _jpki_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CertificateIssued(_message.Message):
    __slots__ = ("ca", "serial_hex", "card_id", "municipality_code", "not_before", "not_after")
    CA_FIELD_NUMBER: _ClassVar[int]
    SERIAL_HEX_FIELD_NUMBER: _ClassVar[int]
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    ca: _jpki_pb2.CaKind
    serial_hex: str
    card_id: str
    municipality_code: str
    not_before: _timestamp_pb2.Timestamp
    not_after: _timestamp_pb2.Timestamp
    def __init__(self, ca: _Optional[_Union[_jpki_pb2.CaKind, str]] = ..., serial_hex: _Optional[str] = ..., card_id: _Optional[str] = ..., municipality_code: _Optional[str] = ..., not_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CertificateRevoked(_message.Message):
    __slots__ = ("ca", "serial_hex", "card_id", "cause", "revoked_at", "on_hold")
    CA_FIELD_NUMBER: _ClassVar[int]
    SERIAL_HEX_FIELD_NUMBER: _ClassVar[int]
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    ON_HOLD_FIELD_NUMBER: _ClassVar[int]
    ca: _jpki_pb2.CaKind
    serial_hex: str
    card_id: str
    cause: _jpki_pb2.RevocationCause
    revoked_at: _timestamp_pb2.Timestamp
    on_hold: bool
    def __init__(self, ca: _Optional[_Union[_jpki_pb2.CaKind, str]] = ..., serial_hex: _Optional[str] = ..., card_id: _Optional[str] = ..., cause: _Optional[_Union[_jpki_pb2.RevocationCause, str]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., on_hold: _Optional[bool] = ...) -> None: ...
