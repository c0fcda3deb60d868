"""The generic request guard at the edge: every request message is walked before a servicer sees it.

It refuses what no field of any service may carry: NUL and other control characters (C0 except tab, line feed and
carriage return; DEL; C1), lone surrogates, strings beyond a length limit, repeated and map fields beyond a count
limit, and bytes that are not a protobuf message at all. Each refusal is `InvalidArgument(<field path>, <rule>)`
and never quotes the value (issue 9: NUL bytes and megabyte strings reached the database and gave INTERNAL).
Field-specific rules (check digits, code formats) stay with the services and `mynumber_codes`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from mynumber_runtime.errors import InvalidArgument

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
CORRUPT_FIELD = "request"
CORRUPT_RULE = "not a valid protobuf message"
CORRUPT_REASON = "MALFORMED_REQUEST"


@dataclass(frozen=True)
class RequestLimits:
    """Per service (`ServiceBinding.limits`). `max_string` counts characters; `fields` raises (or lowers) it for
    one field by its full protobuf name, e.g. `{"mynumber.notice.v1.Note.text": 20000}`."""

    max_string: int = 4096
    # Above the largest legitimate list (numbering's bulk chunks hold at most 10,000 residents).
    max_repeated: int = 100_000
    fields: Mapping[str, int] = field(default_factory=dict)


DEFAULT_LIMITS = RequestLimits()


class _Corrupt:
    """What the wrapped deserializer returns for bytes that do not parse: the interceptor refuses it after the
    caller is identified (grpc would otherwise answer UNKNOWN with the parser's exception text)."""

    __slots__ = ()


CORRUPT = _Corrupt()


def lenient(deserializer: Any) -> Any:
    """Wrap a request deserializer so that undecodable bytes yield CORRUPT instead of raising."""
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # DecodeError, and whatever a broken message makes the parser raise
            return CORRUPT

    return deserialize


def corrupt() -> InvalidArgument:
    return InvalidArgument(CORRUPT_FIELD, CORRUPT_RULE, reason=CORRUPT_REASON)


def check_request(request: Any, limits: RequestLimits = DEFAULT_LIMITS) -> None:
    """Raise InvalidArgument for the first field that breaks a rule. Anything not a protobuf message (a raw
    bytes handler) passes untouched, except the marker of bytes that did not parse."""
    if request is CORRUPT:
        raise corrupt()
    if isinstance(request, Message):
        _walk(request, "", limits)


def _check_string(value: str | bytes, path: str, limit: int) -> None:
    if isinstance(value, bytes):
        # A proto2 string field is not checked by the parser: invalid UTF-8 comes through as bytes.
        raise InvalidArgument(path, "must be valid UTF-8")
    if len(value) > limit:
        raise InvalidArgument(path, f"must be at most {limit} characters")
    if _FORBIDDEN.search(value):
        raise InvalidArgument(path, "must not contain NUL or control characters")
    if _SURROGATE.search(value):
        raise InvalidArgument(path, "must be valid Unicode (no lone surrogates)")


def _walk(msg: Message, prefix: str, limits: RequestLimits) -> None:
    for fd, value in msg.ListFields():
        path = f"{prefix}{fd.name}"
        limit = limits.fields.get(fd.full_name, limits.max_string)
        is_map = fd.type == FieldDescriptor.TYPE_MESSAGE and fd.message_type.GetOptions().map_entry
        if is_map:
            if len(value) > limits.max_repeated:
                raise InvalidArgument(path, f"must have at most {limits.max_repeated} entries")
            key_fd = fd.message_type.fields_by_name["key"]
            value_fd = fd.message_type.fields_by_name["value"]
            # Keys are not quoted in the path: a key may itself be personal data.
            for k, v in value.items():
                if key_fd.type == FieldDescriptor.TYPE_STRING:
                    _check_string(k, f"{path}.key", limit)
                _one(value_fd, v, f"{path}.value", limits, limits.fields.get(value_fd.full_name, limits.max_string))
        elif fd.is_repeated:
            if len(value) > limits.max_repeated:
                raise InvalidArgument(path, f"must have at most {limits.max_repeated} entries")
            for i, item in enumerate(value):
                _one(fd, item, f"{path}[{i}]", limits, limit)
        else:
            _one(fd, value, path, limits, limit)


def _one(fd: FieldDescriptor, value: Any, path: str, limits: RequestLimits, limit: int) -> None:
    if fd.type == FieldDescriptor.TYPE_STRING:
        _check_string(value, path, limit)
    elif fd.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
        _walk(value, f"{path}.", limits)
