import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Sex(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEX_UNSPECIFIED: _ClassVar[Sex]
    SEX_MALE: _ClassVar[Sex]
    SEX_FEMALE: _ClassVar[Sex]

class ResidenceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESIDENCE_KIND_UNSPECIFIED: _ClassVar[ResidenceKind]
    RESIDENCE_KIND_EVACUEE: _ClassVar[ResidenceKind]
    RESIDENCE_KIND_DV_VICTIM: _ClassVar[ResidenceKind]

class ResidenceSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESIDENCE_SOURCE_UNSPECIFIED: _ClassVar[ResidenceSource]
    RESIDENCE_SOURCE_APPLICATION: _ClassVar[ResidenceSource]
    RESIDENCE_SOURCE_MUNICIPAL_RECORDS: _ClassVar[ResidenceSource]
    RESIDENCE_SOURCE_CONFIRMED_WITH_PERSON: _ClassVar[ResidenceSource]

class MailAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MAIL_ACTION_UNSPECIFIED: _ClassVar[MailAction]
    MAIL_ACTION_NOTHING_IN_TRANSIT: _ClassVar[MailAction]
    MAIL_ACTION_REROUTED: _ClassVar[MailAction]
    MAIL_ACTION_RECALLED: _ClassVar[MailAction]
    MAIL_ACTION_ALREADY_DELIVERED: _ClassVar[MailAction]
    MAIL_ACTION_HELD_AT_OFFICE: _ClassVar[MailAction]
    MAIL_ACTION_RECALL_AT_POST_OFFICE: _ClassVar[MailAction]

class Destination(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DESTINATION_UNSPECIFIED: _ClassVar[Destination]
    DESTINATION_ADDRESS: _ClassVar[Destination]
    DESTINATION_RESIDENCE: _ClassVar[Destination]
    DESTINATION_OFFICE: _ClassVar[Destination]

class MailingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MAILING_STATUS_UNSPECIFIED: _ClassVar[MailingStatus]
    MAILING_STATUS_PREPARED: _ClassVar[MailingStatus]
    MAILING_STATUS_EXPORTED: _ClassVar[MailingStatus]
    MAILING_STATUS_PRINTED: _ClassVar[MailingStatus]
    MAILING_STATUS_POSTED: _ClassVar[MailingStatus]
    MAILING_STATUS_DELIVERED: _ClassVar[MailingStatus]
    MAILING_STATUS_HELD_AT_OFFICE: _ClassVar[MailingStatus]
    MAILING_STATUS_RETURNED: _ClassVar[MailingStatus]
    MAILING_STATUS_RECALLED: _ClassVar[MailingStatus]
    MAILING_STATUS_RESOLVED: _ClassVar[MailingStatus]
    MAILING_STATUS_DISPOSED: _ClassVar[MailingStatus]

class ReturnReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETURN_REASON_UNSPECIFIED: _ClassVar[ReturnReason]
    RETURN_REASON_NO_SUCH_ADDRESS: _ClassVar[ReturnReason]
    RETURN_REASON_REFUSED: _ClassVar[ReturnReason]
    RETURN_REASON_HOLD_EXPIRED: _ClassVar[ReturnReason]

class MailingKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MAILING_KIND_UNSPECIFIED: _ClassVar[MailingKind]
    MAILING_KIND_INITIAL: _ClassVar[MailingKind]
    MAILING_KIND_RESEND: _ClassVar[MailingKind]
    MAILING_KIND_REISSUE: _ClassVar[MailingKind]
    MAILING_KIND_MUNICIPAL_RESEND: _ClassVar[MailingKind]
    MAILING_KIND_NOTIFICATION_LETTER: _ClassVar[MailingKind]

class PrintStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRINT_STATUS_UNSPECIFIED: _ClassVar[PrintStatus]
    PRINT_STATUS_PRINTED: _ClassVar[PrintStatus]
    PRINT_STATUS_POSTED: _ClassVar[PrintStatus]

class Finding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINDING_UNSPECIFIED: _ClassVar[Finding]
    FINDING_COLLECTED_AT_COUNTER: _ClassVar[Finding]
    FINDING_MUNICIPAL_RESEND: _ClassVar[Finding]
    FINDING_MOVED_WITHIN: _ClassVar[Finding]
    FINDING_MOVED_OUT: _ClassVar[Finding]
    FINDING_DELETED: _ClassVar[Finding]

class Preference(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PREFERENCE_UNSPECIFIED: _ClassVar[Preference]
    PREFERENCE_ENDORSE: _ClassVar[Preference]
    PREFERENCE_NEW_ISSUE: _ClassVar[Preference]

class MoveKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MOVE_KIND_UNSPECIFIED: _ClassVar[MoveKind]
    MOVE_KIND_TENKYO: _ClassVar[MoveKind]
    MOVE_KIND_TENSHUTSU: _ClassVar[MoveKind]
    MOVE_KIND_TENNYU: _ClassVar[MoveKind]

class ReissueReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REISSUE_REASON_UNSPECIFIED: _ClassVar[ReissueReason]
    REISSUE_REASON_LOSS: _ClassVar[ReissueReason]
    REISSUE_REASON_ENDORSEMENT_SPACE_FULL: _ClassVar[ReissueReason]
    REISSUE_REASON_ISSUER_FAULT: _ClassVar[ReissueReason]
SEX_UNSPECIFIED: Sex
SEX_MALE: Sex
SEX_FEMALE: Sex
RESIDENCE_KIND_UNSPECIFIED: ResidenceKind
RESIDENCE_KIND_EVACUEE: ResidenceKind
RESIDENCE_KIND_DV_VICTIM: ResidenceKind
RESIDENCE_SOURCE_UNSPECIFIED: ResidenceSource
RESIDENCE_SOURCE_APPLICATION: ResidenceSource
RESIDENCE_SOURCE_MUNICIPAL_RECORDS: ResidenceSource
RESIDENCE_SOURCE_CONFIRMED_WITH_PERSON: ResidenceSource
MAIL_ACTION_UNSPECIFIED: MailAction
MAIL_ACTION_NOTHING_IN_TRANSIT: MailAction
MAIL_ACTION_REROUTED: MailAction
MAIL_ACTION_RECALLED: MailAction
MAIL_ACTION_ALREADY_DELIVERED: MailAction
MAIL_ACTION_HELD_AT_OFFICE: MailAction
MAIL_ACTION_RECALL_AT_POST_OFFICE: MailAction
DESTINATION_UNSPECIFIED: Destination
DESTINATION_ADDRESS: Destination
DESTINATION_RESIDENCE: Destination
DESTINATION_OFFICE: Destination
MAILING_STATUS_UNSPECIFIED: MailingStatus
MAILING_STATUS_PREPARED: MailingStatus
MAILING_STATUS_EXPORTED: MailingStatus
MAILING_STATUS_PRINTED: MailingStatus
MAILING_STATUS_POSTED: MailingStatus
MAILING_STATUS_DELIVERED: MailingStatus
MAILING_STATUS_HELD_AT_OFFICE: MailingStatus
MAILING_STATUS_RETURNED: MailingStatus
MAILING_STATUS_RECALLED: MailingStatus
MAILING_STATUS_RESOLVED: MailingStatus
MAILING_STATUS_DISPOSED: MailingStatus
RETURN_REASON_UNSPECIFIED: ReturnReason
RETURN_REASON_NO_SUCH_ADDRESS: ReturnReason
RETURN_REASON_REFUSED: ReturnReason
RETURN_REASON_HOLD_EXPIRED: ReturnReason
MAILING_KIND_UNSPECIFIED: MailingKind
MAILING_KIND_INITIAL: MailingKind
MAILING_KIND_RESEND: MailingKind
MAILING_KIND_REISSUE: MailingKind
MAILING_KIND_MUNICIPAL_RESEND: MailingKind
MAILING_KIND_NOTIFICATION_LETTER: MailingKind
PRINT_STATUS_UNSPECIFIED: PrintStatus
PRINT_STATUS_PRINTED: PrintStatus
PRINT_STATUS_POSTED: PrintStatus
FINDING_UNSPECIFIED: Finding
FINDING_COLLECTED_AT_COUNTER: Finding
FINDING_MUNICIPAL_RESEND: Finding
FINDING_MOVED_WITHIN: Finding
FINDING_MOVED_OUT: Finding
FINDING_DELETED: Finding
PREFERENCE_UNSPECIFIED: Preference
PREFERENCE_ENDORSE: Preference
PREFERENCE_NEW_ISSUE: Preference
MOVE_KIND_UNSPECIFIED: MoveKind
MOVE_KIND_TENKYO: MoveKind
MOVE_KIND_TENSHUTSU: MoveKind
MOVE_KIND_TENNYU: MoveKind
REISSUE_REASON_UNSPECIFIED: ReissueReason
REISSUE_REASON_LOSS: ReissueReason
REISSUE_REASON_ENDORSEMENT_SPACE_FULL: ReissueReason
REISSUE_REASON_ISSUER_FAULT: ReissueReason

class Member(_message.Message):
    __slots__ = ("resident_code", "name", "birth_date", "sex")
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    resident_code: str
    name: str
    birth_date: str
    sex: Sex
    def __init__(self, resident_code: _Optional[str] = ..., name: _Optional[str] = ..., birth_date: _Optional[str] = ..., sex: _Optional[_Union[Sex, str]] = ...) -> None: ...

class Household(_message.Message):
    __slots__ = ("household_id", "address", "postal_code", "members")
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    household_id: str
    address: str
    postal_code: str
    members: _containers.RepeatedCompositeFieldContainer[Member]
    def __init__(self, household_id: _Optional[str] = ..., address: _Optional[str] = ..., postal_code: _Optional[str] = ..., members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ...) -> None: ...

class SubmitMailingListRequest(_message.Message):
    __slots__ = ("municipality_code", "households")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLDS_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    households: _containers.RepeatedCompositeFieldContainer[Household]
    def __init__(self, municipality_code: _Optional[str] = ..., households: _Optional[_Iterable[_Union[Household, _Mapping]]] = ...) -> None: ...

class SubmitMailingListResponse(_message.Message):
    __slots__ = ("residents", "envelopes_prepared", "refused")
    RESIDENTS_FIELD_NUMBER: _ClassVar[int]
    ENVELOPES_PREPARED_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    residents: int
    envelopes_prepared: int
    refused: _containers.RepeatedCompositeFieldContainer[RefusedMember]
    def __init__(self, residents: _Optional[int] = ..., envelopes_prepared: _Optional[int] = ..., refused: _Optional[_Iterable[_Union[RefusedMember, _Mapping]]] = ...) -> None: ...

class RefusedMember(_message.Message):
    __slots__ = ("household_index", "member_index", "field", "reason")
    HOUSEHOLD_INDEX_FIELD_NUMBER: _ClassVar[int]
    MEMBER_INDEX_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    household_index: int
    member_index: int
    field: str
    reason: str
    def __init__(self, household_index: _Optional[int] = ..., member_index: _Optional[int] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RegisterResidenceRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code", "kind", "address", "postal_code", "documents", "hold_at_office", "source", "sharing_consent")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    HOLD_AT_OFFICE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SHARING_CONSENT_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    kind: ResidenceKind
    address: str
    postal_code: str
    documents: _containers.RepeatedScalarFieldContainer[str]
    hold_at_office: bool
    source: ResidenceSource
    sharing_consent: bool
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ..., kind: _Optional[_Union[ResidenceKind, str]] = ..., address: _Optional[str] = ..., postal_code: _Optional[str] = ..., documents: _Optional[_Iterable[str]] = ..., hold_at_office: _Optional[bool] = ..., source: _Optional[_Union[ResidenceSource, str]] = ..., sharing_consent: _Optional[bool] = ...) -> None: ...

class RegisterResidenceResponse(_message.Message):
    __slots__ = ("destination", "mail_action", "rerouted_mailing_ids", "recalled_mailing_ids")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    MAIL_ACTION_FIELD_NUMBER: _ClassVar[int]
    REROUTED_MAILING_IDS_FIELD_NUMBER: _ClassVar[int]
    RECALLED_MAILING_IDS_FIELD_NUMBER: _ClassVar[int]
    destination: Destination
    mail_action: MailAction
    rerouted_mailing_ids: _containers.RepeatedScalarFieldContainer[str]
    recalled_mailing_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, destination: _Optional[_Union[Destination, str]] = ..., mail_action: _Optional[_Union[MailAction, str]] = ..., rerouted_mailing_ids: _Optional[_Iterable[str]] = ..., recalled_mailing_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetResidenceRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ...) -> None: ...

class GetResidenceResponse(_message.Message):
    __slots__ = ("kind", "address", "hold_at_office", "source", "sharing_consent")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    HOLD_AT_OFFICE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SHARING_CONSENT_FIELD_NUMBER: _ClassVar[int]
    kind: ResidenceKind
    address: str
    hold_at_office: bool
    source: ResidenceSource
    sharing_consent: bool
    def __init__(self, kind: _Optional[_Union[ResidenceKind, str]] = ..., address: _Optional[str] = ..., hold_at_office: _Optional[bool] = ..., source: _Optional[_Union[ResidenceSource, str]] = ..., sharing_consent: _Optional[bool] = ...) -> None: ...

class Mailing(_message.Message):
    __slots__ = ("mailing_id", "household_id", "status", "return_reason", "kind", "items", "destination", "hold_until", "fee_yen", "reissue_reason")
    MAILING_ID_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RETURN_REASON_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    HOLD_UNTIL_FIELD_NUMBER: _ClassVar[int]
    FEE_YEN_FIELD_NUMBER: _ClassVar[int]
    REISSUE_REASON_FIELD_NUMBER: _ClassVar[int]
    mailing_id: str
    household_id: str
    status: MailingStatus
    return_reason: ReturnReason
    kind: MailingKind
    items: int
    destination: Destination
    hold_until: _timestamp_pb2.Timestamp
    fee_yen: int
    reissue_reason: ReissueReason
    def __init__(self, mailing_id: _Optional[str] = ..., household_id: _Optional[str] = ..., status: _Optional[_Union[MailingStatus, str]] = ..., return_reason: _Optional[_Union[ReturnReason, str]] = ..., kind: _Optional[_Union[MailingKind, str]] = ..., items: _Optional[int] = ..., destination: _Optional[_Union[Destination, str]] = ..., hold_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fee_yen: _Optional[int] = ..., reissue_reason: _Optional[_Union[ReissueReason, str]] = ...) -> None: ...

class ListMailingsRequest(_message.Message):
    __slots__ = ("municipality_code", "page_size", "page_token")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    page_size: int
    page_token: str
    def __init__(self, municipality_code: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMailingsResponse(_message.Message):
    __slots__ = ("mailings", "next_page_token")
    MAILINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    mailings: _containers.RepeatedCompositeFieldContainer[Mailing]
    next_page_token: str
    def __init__(self, mailings: _Optional[_Iterable[_Union[Mailing, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ExportPrintBatchRequest(_message.Message):
    __slots__ = ("municipality_codes", "with_pdfs")
    MUNICIPALITY_CODES_FIELD_NUMBER: _ClassVar[int]
    WITH_PDFS_FIELD_NUMBER: _ClassVar[int]
    municipality_codes: _containers.RepeatedScalarFieldContainer[str]
    with_pdfs: bool
    def __init__(self, municipality_codes: _Optional[_Iterable[str]] = ..., with_pdfs: _Optional[bool] = ...) -> None: ...

class ExportPrintBatchResponse(_message.Message):
    __slots__ = ("batch_id", "path", "envelopes", "records", "sha256", "pdf_paths", "recalls")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    PDF_PATHS_FIELD_NUMBER: _ClassVar[int]
    RECALLS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    path: str
    envelopes: int
    records: int
    sha256: str
    pdf_paths: _containers.RepeatedScalarFieldContainer[str]
    recalls: int
    def __init__(self, batch_id: _Optional[str] = ..., path: _Optional[str] = ..., envelopes: _Optional[int] = ..., records: _Optional[int] = ..., sha256: _Optional[str] = ..., pdf_paths: _Optional[_Iterable[str]] = ..., recalls: _Optional[int] = ...) -> None: ...

class ReportPrintStatusRequest(_message.Message):
    __slots__ = ("batch_id", "status")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    status: PrintStatus
    def __init__(self, batch_id: _Optional[str] = ..., status: _Optional[_Union[PrintStatus, str]] = ...) -> None: ...

class ReportPrintStatusResponse(_message.Message):
    __slots__ = ("envelopes",)
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    envelopes: int
    def __init__(self, envelopes: _Optional[int] = ...) -> None: ...

class RecordDeliveryRequest(_message.Message):
    __slots__ = ("municipality_code", "mailing_id", "delivered", "return_reason")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    MAILING_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    RETURN_REASON_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    mailing_id: str
    delivered: bool
    return_reason: ReturnReason
    def __init__(self, municipality_code: _Optional[str] = ..., mailing_id: _Optional[str] = ..., delivered: _Optional[bool] = ..., return_reason: _Optional[_Union[ReturnReason, str]] = ...) -> None: ...

class RecordDeliveryResponse(_message.Message):
    __slots__ = ("mailing",)
    MAILING_FIELD_NUMBER: _ClassVar[int]
    mailing: Mailing
    def __init__(self, mailing: _Optional[_Union[Mailing, _Mapping]] = ...) -> None: ...

class ResolveReturnedMailRequest(_message.Message):
    __slots__ = ("municipality_code", "mailing_id", "resident_code", "finding", "preference", "new_address", "new_postal_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    MAILING_ID_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    FINDING_FIELD_NUMBER: _ClassVar[int]
    PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    NEW_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NEW_POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    mailing_id: str
    resident_code: str
    finding: Finding
    preference: Preference
    new_address: str
    new_postal_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., mailing_id: _Optional[str] = ..., resident_code: _Optional[str] = ..., finding: _Optional[_Union[Finding, str]] = ..., preference: _Optional[_Union[Preference, str]] = ..., new_address: _Optional[str] = ..., new_postal_code: _Optional[str] = ...) -> None: ...

class ResolveReturnedMailResponse(_message.Message):
    __slots__ = ("steps", "new_mailing_id")
    STEPS_FIELD_NUMBER: _ClassVar[int]
    NEW_MAILING_ID_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedScalarFieldContainer[str]
    new_mailing_id: str
    def __init__(self, steps: _Optional[_Iterable[str]] = ..., new_mailing_id: _Optional[str] = ...) -> None: ...

class RecordMoveRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code", "kind", "new_address", "new_postal_code", "new_household_id", "former_household_may_receive", "preference", "member", "destination_municipality_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NEW_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NEW_POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    NEW_HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    FORMER_HOUSEHOLD_MAY_RECEIVE_FIELD_NUMBER: _ClassVar[int]
    PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    kind: MoveKind
    new_address: str
    new_postal_code: str
    new_household_id: str
    former_household_may_receive: bool
    preference: Preference
    member: Member
    destination_municipality_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ..., kind: _Optional[_Union[MoveKind, str]] = ..., new_address: _Optional[str] = ..., new_postal_code: _Optional[str] = ..., new_household_id: _Optional[str] = ..., former_household_may_receive: _Optional[bool] = ..., preference: _Optional[_Union[Preference, str]] = ..., member: _Optional[_Union[Member, _Mapping]] = ..., destination_municipality_code: _Optional[str] = ...) -> None: ...

class RecordMoveResponse(_message.Message):
    __slots__ = ("steps", "new_mailing_id")
    STEPS_FIELD_NUMBER: _ClassVar[int]
    NEW_MAILING_ID_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedScalarFieldContainer[str]
    new_mailing_id: str
    def __init__(self, steps: _Optional[_Iterable[str]] = ..., new_mailing_id: _Optional[str] = ...) -> None: ...

class RequestResendRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code", "reason")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    reason: ReissueReason
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ..., reason: _Optional[_Union[ReissueReason, str]] = ...) -> None: ...

class RequestResendResponse(_message.Message):
    __slots__ = ("kind", "fee_yen", "new_mailing_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    FEE_YEN_FIELD_NUMBER: _ClassVar[int]
    NEW_MAILING_ID_FIELD_NUMBER: _ClassVar[int]
    kind: MailingKind
    fee_yen: int
    new_mailing_id: str
    def __init__(self, kind: _Optional[_Union[MailingKind, str]] = ..., fee_yen: _Optional[int] = ..., new_mailing_id: _Optional[str] = ...) -> None: ...

class ExpireReturnedMailRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ExpireReturnedMailResponse(_message.Message):
    __slots__ = ("disposed",)
    DISPOSED_FIELD_NUMBER: _ClassVar[int]
    disposed: int
    def __init__(self, disposed: _Optional[int] = ...) -> None: ...

class EndorseAtCounterRequest(_message.Message):
    __slots__ = ("municipality_code", "resident_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    resident_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., resident_code: _Optional[str] = ...) -> None: ...

class EndorseAtCounterResponse(_message.Message):
    __slots__ = ("steps",)
    STEPS_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, steps: _Optional[_Iterable[str]] = ...) -> None: ...

class RecordOldCardReturnedRequest(_message.Message):
    __slots__ = ("municipality_code", "mailing_id", "resident_code")
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    MAILING_ID_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    municipality_code: str
    mailing_id: str
    resident_code: str
    def __init__(self, municipality_code: _Optional[str] = ..., mailing_id: _Optional[str] = ..., resident_code: _Optional[str] = ...) -> None: ...

class RecordOldCardReturnedResponse(_message.Message):
    __slots__ = ("steps",)
    STEPS_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, steps: _Optional[_Iterable[str]] = ...) -> None: ...
