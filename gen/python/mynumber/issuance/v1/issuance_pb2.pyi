import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_MAIL: _ClassVar[Channel]
    CHANNEL_ONLINE: _ClassVar[Channel]
    CHANNEL_COUNTER: _ClassVar[Channel]
    CHANNEL_EMPLOYER_BULK: _ClassVar[Channel]
    CHANNEL_EMPLOYER_VISIT: _ClassVar[Channel]

class HandoverMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HANDOVER_METHOD_UNSPECIFIED: _ClassVar[HandoverMethod]
    HANDOVER_METHOD_AT_COLLECTION: _ClassVar[HandoverMethod]
    HANDOVER_METHOD_AT_APPLICATION: _ClassVar[HandoverMethod]
    HANDOVER_METHOD_AT_APPLICATION_RESIDENCE: _ClassVar[HandoverMethod]
    HANDOVER_METHOD_EMPLOYER_BULK: _ClassVar[HandoverMethod]
    HANDOVER_METHOD_STAFF_VISIT: _ClassVar[HandoverMethod]

class ApplicationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPLICATION_STATE_UNSPECIFIED: _ClassVar[ApplicationState]
    APPLICATION_STATE_ACCEPTED: _ClassVar[ApplicationState]
    APPLICATION_STATE_ORDERED: _ClassVar[ApplicationState]
    APPLICATION_STATE_PERSONALISED: _ClassVar[ApplicationState]
    APPLICATION_STATE_HANDED_OVER: _ClassVar[ApplicationState]
    APPLICATION_STATE_WITHDRAWN: _ClassVar[ApplicationState]
    APPLICATION_STATE_SUPERSEDED: _ClassVar[ApplicationState]
    APPLICATION_STATE_REFUSED: _ClassVar[ApplicationState]

class Sex(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEX_UNSPECIFIED: _ClassVar[Sex]
    SEX_MALE: _ClassVar[Sex]
    SEX_FEMALE: _ClassVar[Sex]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_MAIL: Channel
CHANNEL_ONLINE: Channel
CHANNEL_COUNTER: Channel
CHANNEL_EMPLOYER_BULK: Channel
CHANNEL_EMPLOYER_VISIT: Channel
HANDOVER_METHOD_UNSPECIFIED: HandoverMethod
HANDOVER_METHOD_AT_COLLECTION: HandoverMethod
HANDOVER_METHOD_AT_APPLICATION: HandoverMethod
HANDOVER_METHOD_AT_APPLICATION_RESIDENCE: HandoverMethod
HANDOVER_METHOD_EMPLOYER_BULK: HandoverMethod
HANDOVER_METHOD_STAFF_VISIT: HandoverMethod
APPLICATION_STATE_UNSPECIFIED: ApplicationState
APPLICATION_STATE_ACCEPTED: ApplicationState
APPLICATION_STATE_ORDERED: ApplicationState
APPLICATION_STATE_PERSONALISED: ApplicationState
APPLICATION_STATE_HANDED_OVER: ApplicationState
APPLICATION_STATE_WITHDRAWN: ApplicationState
APPLICATION_STATE_SUPERSEDED: ApplicationState
APPLICATION_STATE_REFUSED: ApplicationState
SEX_UNSPECIFIED: Sex
SEX_MALE: Sex
SEX_FEMALE: Sex

class Applicant(_message.Message):
    __slots__ = ("name", "address", "birth_date", "sex")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    birth_date: str
    sex: Sex
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., birth_date: _Optional[str] = ..., sex: _Optional[_Union[Sex, str]] = ...) -> None: ...

class SubmitApplicationRequest(_message.Message):
    __slots__ = ("municipality_code", "application_id", "channel", "handover_method", "applicant", "photo")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    HANDOVER_METHOD_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_FIELD_NUMBER: _ClassVar[int]
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    application_id: str
    channel: Channel
    handover_method: HandoverMethod
    applicant: Applicant
    photo: bytes
    def __init__(self, municipality_code: _Optional[str] = ..., application_id: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., handover_method: _Optional[_Union[HandoverMethod, str]] = ..., applicant: _Optional[_Union[Applicant, _Mapping]] = ..., photo: _Optional[bytes] = ...) -> None: ...

class Application(_message.Message):
    __slots__ = ("application_ref", "municipality_code", "channel", "handover_method", "state", "submitted_at", "updated_at", "photo_width", "photo_height")
    APPLICATION_REF_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    HANDOVER_METHOD_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    PHOTO_WIDTH_FIELD_NUMBER: _ClassVar[int]
    PHOTO_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    application_ref: str
    municipality_code: str
    channel: Channel
    handover_method: HandoverMethod
    state: ApplicationState
    submitted_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    photo_width: int
    photo_height: int
    def __init__(self, application_ref: _Optional[str] = ..., municipality_code: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., handover_method: _Optional[_Union[HandoverMethod, str]] = ..., state: _Optional[_Union[ApplicationState, str]] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., photo_width: _Optional[int] = ..., photo_height: _Optional[int] = ...) -> None: ...

class SubmitApplicationResponse(_message.Message):
    __slots__ = ("application",)
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    application: Application
    def __init__(self, application: _Optional[_Union[Application, _Mapping]] = ...) -> None: ...

class GetApplicationRequest(_message.Message):
    __slots__ = ("municipality_code", "application_ref")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_REF_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    application_ref: str
    def __init__(self, municipality_code: _Optional[str] = ..., application_ref: _Optional[str] = ...) -> None: ...

class StateChange(_message.Message):
    __slots__ = ("state", "at")
    STATE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    state: ApplicationState
    at: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[_Union[ApplicationState, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetApplicationResponse(_message.Message):
    __slots__ = ("application", "history")
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    application: Application
    history: _containers.RepeatedCompositeFieldContainer[StateChange]
    def __init__(self, application: _Optional[_Union[Application, _Mapping]] = ..., history: _Optional[_Iterable[_Union[StateChange, _Mapping]]] = ...) -> None: ...

class ListApplicationsRequest(_message.Message):
    __slots__ = ("municipality_code", "state", "limit", "page_token")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    state: ApplicationState
    limit: int
    page_token: str
    def __init__(self, municipality_code: _Optional[str] = ..., state: _Optional[_Union[ApplicationState, str]] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListApplicationsResponse(_message.Message):
    __slots__ = ("applications", "next_page_token")
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    applications: _containers.RepeatedCompositeFieldContainer[Application]
    next_page_token: str
    def __init__(self, applications: _Optional[_Iterable[_Union[Application, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WithdrawApplicationRequest(_message.Message):
    __slots__ = ("municipality_code", "application_ref")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_REF_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    application_ref: str
    def __init__(self, municipality_code: _Optional[str] = ..., application_ref: _Optional[str] = ...) -> None: ...

class WithdrawApplicationResponse(_message.Message):
    __slots__ = ("application",)
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    application: Application
    def __init__(self, application: _Optional[_Union[Application, _Mapping]] = ...) -> None: ...
