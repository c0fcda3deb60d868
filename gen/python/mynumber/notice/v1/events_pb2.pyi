import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MailingChanged(_message.Message):
    __slots__ = ("mailing_id", "municipality_code", "status", "return_reason", "at", "items", "batch_id")
    MAILING_ID_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RETURN_REASON_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    mailing_id: str
    municipality_code: str
    status: str
    return_reason: str
    at: _timestamp_pb2.Timestamp
    items: int
    batch_id: str
    def __init__(self, mailing_id: _Optional[str] = ..., municipality_code: _Optional[str] = ..., status: _Optional[str] = ..., return_reason: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., items: _Optional[int] = ..., batch_id: _Optional[str] = ...) -> None: ...

class IssuedForm(_message.Message):
    __slots__ = ("application_id", "individual_number", "name", "address", "birth_date", "sex")
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    INDIVIDUAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    application_id: str
    individual_number: str
    name: str
    address: str
    birth_date: str
    sex: int
    def __init__(self, application_id: _Optional[str] = ..., individual_number: _Optional[str] = ..., name: _Optional[str] = ..., address: _Optional[str] = ..., birth_date: _Optional[str] = ..., sex: _Optional[int] = ...) -> None: ...

class ApplicationFormIssued(_message.Message):
    __slots__ = ("municipality_code", "sealed_form", "issued_at")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    SEALED_FORM_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    sealed_form: bytes
    issued_at: _timestamp_pb2.Timestamp
    def __init__(self, municipality_code: _Optional[str] = ..., sealed_form: _Optional[bytes] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
