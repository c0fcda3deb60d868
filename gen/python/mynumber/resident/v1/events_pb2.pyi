import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Fact(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FACT_UNSPECIFIED: _ClassVar[Fact]
    FACT_NAME: _ClassVar[Fact]
    FACT_ADDRESS: _ClassVar[Fact]
    FACT_BIRTH_DATE: _ClassVar[Fact]
    FACT_SEX: _ClassVar[Fact]
FACT_UNSPECIFIED: Fact
FACT_NAME: Fact
FACT_ADDRESS: Fact
FACT_BIRTH_DATE: Fact
FACT_SEX: Fact

class SealedResident(_message.Message):
    __slots__ = ("resident_code",)
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    resident_code: str
    def __init__(self, resident_code: _Optional[str] = ...) -> None: ...

class ResidentFactsChanged(_message.Message):
    __slots__ = ("change_id", "municipality_code", "sealed_resident", "changed_facts", "changed_at")
    CHANGE_ID_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    SEALED_RESIDENT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FACTS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    change_id: str
    municipality_code: str
    sealed_resident: bytes
    changed_facts: _containers.RepeatedScalarFieldContainer[Fact]
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, change_id: _Optional[str] = ..., municipality_code: _Optional[str] = ..., sealed_resident: _Optional[bytes] = ..., changed_facts: _Optional[_Iterable[_Union[Fact, str]]] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
