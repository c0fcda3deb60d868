import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mynumber.numbering.v1 import numbering_pb2 as _numbering_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SealedIdentity(_message.Message):
    __slots__ = ("resident_code", "individual_number", "previous")
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    INDIVIDUAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    resident_code: str
    individual_number: str
    previous: str
    def __init__(self, resident_code: _Optional[str] = ..., individual_number: _Optional[str] = ..., previous: _Optional[str] = ...) -> None: ...

class AssignedNumbers(_message.Message):
    __slots__ = ("municipality_codes", "resident_codes", "individual_numbers")
    MUNICIPALITY_CODES_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODES_FIELD_NUMBER: _ClassVar[int]
    INDIVIDUAL_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    municipality_codes: _containers.RepeatedScalarFieldContainer[str]
    resident_codes: _containers.RepeatedScalarFieldContainer[str]
    individual_numbers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, municipality_codes: _Optional[_Iterable[str]] = ..., resident_codes: _Optional[_Iterable[str]] = ..., individual_numbers: _Optional[_Iterable[str]] = ...) -> None: ...

class NumberAssigned(_message.Message):
    __slots__ = ("sealed_assignments", "assigned_at", "count")
    SEALED_ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    sealed_assignments: bytes
    assigned_at: _timestamp_pb2.Timestamp
    count: int
    def __init__(self, sealed_assignments: _Optional[bytes] = ..., assigned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., count: _Optional[int] = ...) -> None: ...

class NumberChanged(_message.Message):
    __slots__ = ("municipality_code", "sealed_identity", "reason", "changed_at")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    SEALED_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    sealed_identity: bytes
    reason: _numbering_pb2.ChangeReason
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, municipality_code: _Optional[str] = ..., sealed_identity: _Optional[bytes] = ..., reason: _Optional[_Union[_numbering_pb2.ChangeReason, str]] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResidentCodeChanged(_message.Message):
    __slots__ = ("municipality_code", "sealed_identity", "changed_at")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    SEALED_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    sealed_identity: bytes
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, municipality_code: _Optional[str] = ..., sealed_identity: _Optional[bytes] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NumberMoved(_message.Message):
    __slots__ = ("from_municipality_code", "to_municipality_code", "sealed_identity", "moved_at")
    FROM_MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    TO_MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    SEALED_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    MOVED_AT_FIELD_NUMBER: _ClassVar[int]
    from_municipality_code: str
    to_municipality_code: str
    sealed_identity: bytes
    moved_at: _timestamp_pb2.Timestamp
    def __init__(self, from_municipality_code: _Optional[str] = ..., to_municipality_code: _Optional[str] = ..., sealed_identity: _Optional[bytes] = ..., moved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
