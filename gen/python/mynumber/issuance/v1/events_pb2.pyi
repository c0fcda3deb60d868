import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mynumber.issuance.v1 import issuance_pb2 as _issuance_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApplicationChanged(_message.Message):
    __slots__ = ("application_ref", "municipality_code", "state", "previous_state", "channel", "handover_method", "at")
    APPLICATION_REF_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    HANDOVER_METHOD_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    application_ref: str
    municipality_code: str
    state: _issuance_pb2.ApplicationState
    previous_state: _issuance_pb2.ApplicationState
    channel: _issuance_pb2.Channel
    handover_method: _issuance_pb2.HandoverMethod
    at: _timestamp_pb2.Timestamp
    def __init__(self, application_ref: _Optional[str] = ..., municipality_code: _Optional[str] = ..., state: _Optional[_Union[_issuance_pb2.ApplicationState, str]] = ..., previous_state: _Optional[_Union[_issuance_pb2.ApplicationState, str]] = ..., channel: _Optional[_Union[_issuance_pb2.Channel, str]] = ..., handover_method: _Optional[_Union[_issuance_pb2.HandoverMethod, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
