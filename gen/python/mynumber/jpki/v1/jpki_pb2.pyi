import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CaKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CA_KIND_UNSPECIFIED: _ClassVar[CaKind]
    CA_KIND_SIGN: _ClassVar[CaKind]
    CA_KIND_AUTH: _ClassVar[CaKind]

class RevocationCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVOCATION_CAUSE_UNSPECIFIED: _ClassVar[RevocationCause]
    REVOCATION_CAUSE_LOSS_OR_COMPROMISE: _ClassVar[RevocationCause]
    REVOCATION_CAUSE_HOLDER_REQUEST: _ClassVar[RevocationCause]
    REVOCATION_CAUSE_DEATH: _ClassVar[RevocationCause]
    REVOCATION_CAUSE_RECORD_ERROR: _ClassVar[RevocationCause]
    REVOCATION_CAUSE_SUSPENSION: _ClassVar[RevocationCause]
    REVOCATION_CAUSE_FACTS_CHANGED: _ClassVar[RevocationCause]

class CertificateState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CERTIFICATE_STATE_UNSPECIFIED: _ClassVar[CertificateState]
    CERTIFICATE_STATE_GOOD: _ClassVar[CertificateState]
    CERTIFICATE_STATE_HOLD: _ClassVar[CertificateState]
    CERTIFICATE_STATE_REVOKED: _ClassVar[CertificateState]

class VerifierKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERIFIER_KIND_UNSPECIFIED: _ClassVar[VerifierKind]
    VERIFIER_KIND_SIGNATURE_VERIFIER: _ClassVar[VerifierKind]
    VERIFIER_KIND_USER_VERIFIER: _ClassVar[VerifierKind]
    VERIFIER_KIND_PLATFORM_OPERATOR: _ClassVar[VerifierKind]
    VERIFIER_KIND_PLATFORM_SERVICE: _ClassVar[VerifierKind]
CA_KIND_UNSPECIFIED: CaKind
CA_KIND_SIGN: CaKind
CA_KIND_AUTH: CaKind
REVOCATION_CAUSE_UNSPECIFIED: RevocationCause
REVOCATION_CAUSE_LOSS_OR_COMPROMISE: RevocationCause
REVOCATION_CAUSE_HOLDER_REQUEST: RevocationCause
REVOCATION_CAUSE_DEATH: RevocationCause
REVOCATION_CAUSE_RECORD_ERROR: RevocationCause
REVOCATION_CAUSE_SUSPENSION: RevocationCause
REVOCATION_CAUSE_FACTS_CHANGED: RevocationCause
CERTIFICATE_STATE_UNSPECIFIED: CertificateState
CERTIFICATE_STATE_GOOD: CertificateState
CERTIFICATE_STATE_HOLD: CertificateState
CERTIFICATE_STATE_REVOKED: CertificateState
VERIFIER_KIND_UNSPECIFIED: VerifierKind
VERIFIER_KIND_SIGNATURE_VERIFIER: VerifierKind
VERIFIER_KIND_USER_VERIFIER: VerifierKind
VERIFIER_KIND_PLATFORM_OPERATOR: VerifierKind
VERIFIER_KIND_PLATFORM_SERVICE: VerifierKind

class BasicFacts(_message.Message):
    __slots__ = ("name", "birth_date", "sex", "address", "name_substitutes", "address_substitutes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NAME_SUBSTITUTES_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_SUBSTITUTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    birth_date: str
    sex: int
    address: str
    name_substitutes: str
    address_substitutes: str
    def __init__(self, name: _Optional[str] = ..., birth_date: _Optional[str] = ..., sex: _Optional[int] = ..., address: _Optional[str] = ..., name_substitutes: _Optional[str] = ..., address_substitutes: _Optional[str] = ...) -> None: ...

class IssueCertificateRequest(_message.Message):
    __slots__ = ("ca", "card_id", "resident_code", "municipality_code", "prefecture_name", "municipality_name", "birth_date", "card_expiry", "public_key", "csr", "facts", "adult_ward", "idempotency_key", "on_hold")
    CA_FIELD_NUMBER: _ClassVar[int]
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_CODE_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    PREFECTURE_NAME_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_NAME_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    CARD_EXPIRY_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    CSR_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    ADULT_WARD_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ON_HOLD_FIELD_NUMBER: _ClassVar[int]
    ca: CaKind
    card_id: str
    resident_code: str
    municipality_code: str
    prefecture_name: str
    municipality_name: str
    birth_date: str
    card_expiry: str
    public_key: bytes
    csr: bytes
    facts: BasicFacts
    adult_ward: bool
    idempotency_key: str
    on_hold: bool
    def __init__(self, ca: _Optional[_Union[CaKind, str]] = ..., card_id: _Optional[str] = ..., resident_code: _Optional[str] = ..., municipality_code: _Optional[str] = ..., prefecture_name: _Optional[str] = ..., municipality_name: _Optional[str] = ..., birth_date: _Optional[str] = ..., card_expiry: _Optional[str] = ..., public_key: _Optional[bytes] = ..., csr: _Optional[bytes] = ..., facts: _Optional[_Union[BasicFacts, _Mapping]] = ..., adult_ward: _Optional[bool] = ..., idempotency_key: _Optional[str] = ..., on_hold: _Optional[bool] = ...) -> None: ...

class IssueCertificateResponse(_message.Message):
    __slots__ = ("serial_hex", "certificate", "not_before", "not_after", "state", "replayed")
    SERIAL_HEX_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    serial_hex: str
    certificate: bytes
    not_before: _timestamp_pb2.Timestamp
    not_after: _timestamp_pb2.Timestamp
    state: CertificateState
    replayed: bool
    def __init__(self, serial_hex: _Optional[str] = ..., certificate: _Optional[bytes] = ..., not_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[CertificateState, str]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class CertificateStatus(_message.Message):
    __slots__ = ("ca", "serial_hex", "state", "revoked_at", "cause", "not_after")
    CA_FIELD_NUMBER: _ClassVar[int]
    SERIAL_HEX_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    ca: CaKind
    serial_hex: str
    state: CertificateState
    revoked_at: _timestamp_pb2.Timestamp
    cause: RevocationCause
    not_after: _timestamp_pb2.Timestamp
    def __init__(self, ca: _Optional[_Union[CaKind, str]] = ..., serial_hex: _Optional[str] = ..., state: _Optional[_Union[CertificateState, str]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cause: _Optional[_Union[RevocationCause, str]] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RevokeCertificateRequest(_message.Message):
    __slots__ = ("ca", "serial_hex", "cause")
    CA_FIELD_NUMBER: _ClassVar[int]
    SERIAL_HEX_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    ca: CaKind
    serial_hex: str
    cause: RevocationCause
    def __init__(self, ca: _Optional[_Union[CaKind, str]] = ..., serial_hex: _Optional[str] = ..., cause: _Optional[_Union[RevocationCause, str]] = ...) -> None: ...

class RevokeCertificateResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: CertificateStatus
    def __init__(self, status: _Optional[_Union[CertificateStatus, _Mapping]] = ...) -> None: ...

class ReleaseHoldRequest(_message.Message):
    __slots__ = ("ca", "serial_hex")
    CA_FIELD_NUMBER: _ClassVar[int]
    SERIAL_HEX_FIELD_NUMBER: _ClassVar[int]
    ca: CaKind
    serial_hex: str
    def __init__(self, ca: _Optional[_Union[CaKind, str]] = ..., serial_hex: _Optional[str] = ...) -> None: ...

class ReleaseHoldResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: CertificateStatus
    def __init__(self, status: _Optional[_Union[CertificateStatus, _Mapping]] = ...) -> None: ...

class SuspendCardRequest(_message.Message):
    __slots__ = ("card_id",)
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    card_id: str
    def __init__(self, card_id: _Optional[str] = ...) -> None: ...

class SuspendCardResponse(_message.Message):
    __slots__ = ("statuses",)
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedCompositeFieldContainer[CertificateStatus]
    def __init__(self, statuses: _Optional[_Iterable[_Union[CertificateStatus, _Mapping]]] = ...) -> None: ...

class ResumeCardRequest(_message.Message):
    __slots__ = ("card_id",)
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    card_id: str
    def __init__(self, card_id: _Optional[str] = ...) -> None: ...

class ResumeCardResponse(_message.Message):
    __slots__ = ("statuses",)
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedCompositeFieldContainer[CertificateStatus]
    def __init__(self, statuses: _Optional[_Iterable[_Union[CertificateStatus, _Mapping]]] = ...) -> None: ...

class GetCertificateRequest(_message.Message):
    __slots__ = ("ca", "serial_hex")
    CA_FIELD_NUMBER: _ClassVar[int]
    SERIAL_HEX_FIELD_NUMBER: _ClassVar[int]
    ca: CaKind
    serial_hex: str
    def __init__(self, ca: _Optional[_Union[CaKind, str]] = ..., serial_hex: _Optional[str] = ...) -> None: ...

class GetCertificateResponse(_message.Message):
    __slots__ = ("certificate", "status")
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    certificate: bytes
    status: CertificateStatus
    def __init__(self, certificate: _Optional[bytes] = ..., status: _Optional[_Union[CertificateStatus, _Mapping]] = ...) -> None: ...

class GenerateCrlsRequest(_message.Message):
    __slots__ = ("ca",)
    CA_FIELD_NUMBER: _ClassVar[int]
    ca: CaKind
    def __init__(self, ca: _Optional[_Union[CaKind, str]] = ...) -> None: ...

class GenerateCrlsResponse(_message.Message):
    __slots__ = ("generated",)
    GENERATED_FIELD_NUMBER: _ClassVar[int]
    generated: int
    def __init__(self, generated: _Optional[int] = ...) -> None: ...

class VerifyAuditChainRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VerifyAuditChainResponse(_message.Message):
    __slots__ = ("ok", "entries", "first_bad_seq", "problem", "anchored_seq", "note")
    OK_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    FIRST_BAD_SEQ_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    ANCHORED_SEQ_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    entries: int
    first_bad_seq: int
    problem: str
    anchored_seq: int
    note: str
    def __init__(self, ok: _Optional[bool] = ..., entries: _Optional[int] = ..., first_bad_seq: _Optional[int] = ..., problem: _Optional[str] = ..., anchored_seq: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class ListCertificatesRequest(_message.Message):
    __slots__ = ("ca", "municipality_code", "card_id", "state", "issued_from", "issued_before", "page_size", "page_token")
    CA_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FROM_FIELD_NUMBER: _ClassVar[int]
    ISSUED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ca: CaKind
    municipality_code: str
    card_id: str
    state: CertificateState
    issued_from: _timestamp_pb2.Timestamp
    issued_before: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, ca: _Optional[_Union[CaKind, str]] = ..., municipality_code: _Optional[str] = ..., card_id: _Optional[str] = ..., state: _Optional[_Union[CertificateState, str]] = ..., issued_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., issued_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class CertificateSummary(_message.Message):
    __slots__ = ("status", "card_id", "municipality_code", "issued_at")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    status: CertificateStatus
    card_id: str
    municipality_code: str
    issued_at: _timestamp_pb2.Timestamp
    def __init__(self, status: _Optional[_Union[CertificateStatus, _Mapping]] = ..., card_id: _Optional[str] = ..., municipality_code: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListCertificatesResponse(_message.Message):
    __slots__ = ("certificates", "next_page_token")
    CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    certificates: _containers.RepeatedCompositeFieldContainer[CertificateSummary]
    next_page_token: str
    def __init__(self, certificates: _Optional[_Iterable[_Union[CertificateSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RevokeMassRequest(_message.Message):
    __slots__ = ("ca", "municipality_code", "card_id", "state", "issued_from", "issued_before", "cause", "execute")
    CA_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    CARD_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FROM_FIELD_NUMBER: _ClassVar[int]
    ISSUED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_FIELD_NUMBER: _ClassVar[int]
    ca: CaKind
    municipality_code: str
    card_id: str
    state: CertificateState
    issued_from: _timestamp_pb2.Timestamp
    issued_before: _timestamp_pb2.Timestamp
    cause: RevocationCause
    execute: bool
    def __init__(self, ca: _Optional[_Union[CaKind, str]] = ..., municipality_code: _Optional[str] = ..., card_id: _Optional[str] = ..., state: _Optional[_Union[CertificateState, str]] = ..., issued_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., issued_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cause: _Optional[_Union[RevocationCause, str]] = ..., execute: _Optional[bool] = ...) -> None: ...

class RevokeMassResponse(_message.Message):
    __slots__ = ("executed", "selected", "revoked", "sample")
    EXECUTED_FIELD_NUMBER: _ClassVar[int]
    SELECTED_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    executed: bool
    selected: int
    revoked: int
    sample: _containers.RepeatedCompositeFieldContainer[CertificateSummary]
    def __init__(self, executed: _Optional[bool] = ..., selected: _Optional[int] = ..., revoked: _Optional[int] = ..., sample: _Optional[_Iterable[_Union[CertificateSummary, _Mapping]]] = ...) -> None: ...

class CheckCertificateStatusRequest(_message.Message):
    __slots__ = ("certificate",)
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    certificate: bytes
    def __init__(self, certificate: _Optional[bytes] = ...) -> None: ...

class CheckCertificateStatusResponse(_message.Message):
    __slots__ = ("status", "checked_at")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    status: CertificateStatus
    checked_at: _timestamp_pb2.Timestamp
    def __init__(self, status: _Optional[_Union[CertificateStatus, _Mapping]] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Verifier(_message.Message):
    __slots__ = ("verifier_id", "kind", "organization", "filing_ref", "registered_at", "deregistered_at")
    VERIFIER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    FILING_REF_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    DEREGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    verifier_id: str
    kind: VerifierKind
    organization: str
    filing_ref: str
    registered_at: _timestamp_pb2.Timestamp
    deregistered_at: _timestamp_pb2.Timestamp
    def __init__(self, verifier_id: _Optional[str] = ..., kind: _Optional[_Union[VerifierKind, str]] = ..., organization: _Optional[str] = ..., filing_ref: _Optional[str] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deregistered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterVerifierRequest(_message.Message):
    __slots__ = ("kind", "organization", "filing_ref")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    FILING_REF_FIELD_NUMBER: _ClassVar[int]
    kind: VerifierKind
    organization: str
    filing_ref: str
    def __init__(self, kind: _Optional[_Union[VerifierKind, str]] = ..., organization: _Optional[str] = ..., filing_ref: _Optional[str] = ...) -> None: ...

class RegisterVerifierResponse(_message.Message):
    __slots__ = ("verifier", "token")
    VERIFIER_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    verifier: Verifier
    token: str
    def __init__(self, verifier: _Optional[_Union[Verifier, _Mapping]] = ..., token: _Optional[str] = ...) -> None: ...

class DeregisterVerifierRequest(_message.Message):
    __slots__ = ("verifier_id",)
    VERIFIER_ID_FIELD_NUMBER: _ClassVar[int]
    verifier_id: str
    def __init__(self, verifier_id: _Optional[str] = ...) -> None: ...

class DeregisterVerifierResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVerifiersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVerifiersResponse(_message.Message):
    __slots__ = ("verifiers",)
    VERIFIERS_FIELD_NUMBER: _ClassVar[int]
    verifiers: _containers.RepeatedCompositeFieldContainer[Verifier]
    def __init__(self, verifiers: _Optional[_Iterable[_Union[Verifier, _Mapping]]] = ...) -> None: ...
