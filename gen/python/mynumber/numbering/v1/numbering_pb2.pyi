import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NumberStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NUMBER_STATUS_UNSPECIFIED: _ClassVar[NumberStatus]
    NUMBER_STATUS_ACTIVE: _ClassVar[NumberStatus]
    NUMBER_STATUS_RETIRED: _ClassVar[NumberStatus]

class ChangeReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_REASON_UNSPECIFIED: _ClassVar[ChangeReason]
    CHANGE_REASON_LEAKED_ON_REQUEST: _ClassVar[ChangeReason]
    CHANGE_REASON_LEAKED_EX_OFFICIO: _ClassVar[ChangeReason]

class LookupBasis(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOOKUP_BASIS_UNSPECIFIED: _ClassVar[LookupBasis]
    LOOKUP_BASIS_OWN_REGISTER: _ClassVar[LookupBasis]
    LOOKUP_BASIS_SAME_PREFECTURE: _ClassVar[LookupBasis]
NUMBER_STATUS_UNSPECIFIED: NumberStatus
NUMBER_STATUS_ACTIVE: NumberStatus
NUMBER_STATUS_RETIRED: NumberStatus
CHANGE_REASON_UNSPECIFIED: ChangeReason
CHANGE_REASON_LEAKED_ON_REQUEST: ChangeReason
CHANGE_REASON_LEAKED_EX_OFFICIO: ChangeReason
LOOKUP_BASIS_UNSPECIFIED: LookupBasis
LOOKUP_BASIS_OWN_REGISTER: LookupBasis
LOOKUP_BASIS_SAME_PREFECTURE: LookupBasis

class AssignNumberRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ...) -> None: ...

class AssignNumberResponse(_message.Message):
    __slots__ = ("individual_number", "newly_assigned", "assigned_at")
    INDIVIDUAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NEWLY_ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    individual_number: str
    newly_assigned: bool
    assigned_at: _timestamp_pb2.Timestamp
    def __init__(self, individual_number: _Optional[str] = ..., newly_assigned: _Optional[bool] = ..., assigned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AssignNumbersRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_codes")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODES_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, municipality_code: _Optional[str] = ..., resident_codes: _Optional[_Iterable[str]] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("index", "reason", "field", "message")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    index: int
    reason: str
    field: str
    message: str
    def __init__(self, index: _Optional[int] = ..., reason: _Optional[str] = ..., field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class BulkProgress(_message.Message):
    __slots__ = ("received", "assigned", "already_assigned", "failed")
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    received: int
    assigned: int
    already_assigned: int
    failed: int
    def __init__(self, received: _Optional[int] = ..., assigned: _Optional[int] = ..., already_assigned: _Optional[int] = ..., failed: _Optional[int] = ...) -> None: ...

class AssignNumbersResponse(_message.Message):
    __slots__ = ("first_index", "individual_numbers", "newly_assigned", "errors", "progress")
    FIRST_INDEX_FIELD_NUMBER: _ClassVar[int]
    INDIVIDUAL_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    NEWLY_ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    first_index: int
    individual_numbers: _containers.RepeatedScalarFieldContainer[str]
    newly_assigned: _containers.RepeatedScalarFieldContainer[bool]
    errors: _containers.RepeatedCompositeFieldContainer[ItemError]
    progress: BulkProgress
    def __init__(self, first_index: _Optional[int] = ..., individual_numbers: _Optional[_Iterable[str]] = ..., newly_assigned: _Optional[_Iterable[bool]] = ..., errors: _Optional[_Iterable[_Union[ItemError, _Mapping]]] = ..., progress: _Optional[_Union[BulkProgress, _Mapping]] = ...) -> None: ...

class ChangeNumberRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code", "reason", "reason_detail")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASON_DETAIL_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    reason: ChangeReason
    reason_detail: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ..., reason: _Optional[_Union[ChangeReason, str]] = ..., reason_detail: _Optional[str] = ...) -> None: ...

class ChangeNumberResponse(_message.Message):
    __slots__ = ("individual_number", "changed_at")
    INDIVIDUAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    individual_number: str
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, individual_number: _Optional[str] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChangeResidentCodeRequest(_message.Message):
    __slots__ = ("municipality_code", "old_resident_code", "new_resident_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    OLD_RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    NEW_RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    old_resident_code: str
    new_resident_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., old_resident_code: _Optional[str] = ..., new_resident_code: _Optional[str] = ...) -> None: ...

class ChangeResidentCodeResponse(_message.Message):
    __slots__ = ("individual_number", "changed_at")
    INDIVIDUAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    individual_number: str
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, individual_number: _Optional[str] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LookupNumberRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code", "basis", "case_reference")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    CASE_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    basis: LookupBasis
    case_reference: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ..., basis: _Optional[_Union[LookupBasis, str]] = ..., case_reference: _Optional[str] = ...) -> None: ...

class LookupNumberResponse(_message.Message):
    __slots__ = ("individual_number", "assigned_at")
    INDIVIDUAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    individual_number: str
    assigned_at: _timestamp_pb2.Timestamp
    def __init__(self, individual_number: _Optional[str] = ..., assigned_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListNumberHistoryRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ...) -> None: ...

class NumberRecord(_message.Message):
    __slots__ = ("individual_number", "status", "issued_at", "retired_at", "retired_reason", "issuing_region")
    INDIVIDUAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    RETIRED_AT_FIELD_NUMBER: _ClassVar[int]
    RETIRED_REASON_FIELD_NUMBER: _ClassVar[int]
    ISSUING_REGION_FIELD_NUMBER: _ClassVar[int]
    individual_number: str
    status: NumberStatus
    issued_at: _timestamp_pb2.Timestamp
    retired_at: _timestamp_pb2.Timestamp
    retired_reason: ChangeReason
    issuing_region: int
    def __init__(self, individual_number: _Optional[str] = ..., status: _Optional[_Union[NumberStatus, str]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retired_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retired_reason: _Optional[_Union[ChangeReason, str]] = ..., issuing_region: _Optional[int] = ...) -> None: ...

class ListNumberHistoryResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[NumberRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[NumberRecord, _Mapping]]] = ...) -> None: ...

class RecordMoveOutRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code", "destination_municipality_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    destination_municipality_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ..., destination_municipality_code: _Optional[str] = ...) -> None: ...

class RecordMoveOutResponse(_message.Message):
    __slots__ = ("moved_out_at",)
    MOVED_OUT_AT_FIELD_NUMBER: _ClassVar[int]
    moved_out_at: _timestamp_pb2.Timestamp
    def __init__(self, moved_out_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordMoveInRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ...) -> None: ...

class RecordMoveInResponse(_message.Message):
    __slots__ = ("individual_number", "moved_in_at")
    INDIVIDUAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    MOVED_IN_AT_FIELD_NUMBER: _ClassVar[int]
    individual_number: str
    moved_in_at: _timestamp_pb2.Timestamp
    def __init__(self, individual_number: _Optional[str] = ..., moved_in_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CancelMoveOutRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ...) -> None: ...

class CancelMoveOutResponse(_message.Message):
    __slots__ = ("cancelled_at",)
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    cancelled_at: _timestamp_pb2.Timestamp
    def __init__(self, cancelled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueSectorCodeRequest(_message.Message):
    __slots__ = ("agency_code", "individual_number")
    AGENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    INDIVIDUAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    agency_code: str
    individual_number: str
    def __init__(self, agency_code: _Optional[str] = ..., individual_number: _Optional[str] = ...) -> None: ...

class IssueSectorCodeResponse(_message.Message):
    __slots__ = ("sector_code",)
    SECTOR_CODE_FIELD_NUMBER: _ClassVar[int]
    sector_code: str
    def __init__(self, sector_code: _Optional[str] = ...) -> None: ...
