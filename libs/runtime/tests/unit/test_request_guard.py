"""The generic request guard (requests.py) on real protobuf messages: nested, repeated and map fields."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from mynumber_runtime.errors import InvalidArgument
from mynumber_runtime.requests import CORRUPT, RequestLimits, check_request, lenient

FORBIDDEN = {chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]}


def test_a_nested_repeated_string_with_nul_is_refused_by_its_path():
    f = descriptor_pb2.FileDescriptorProto(name="a.proto", message_type=[
        descriptor_pb2.DescriptorProto(name="Ok"),
        descriptor_pb2.DescriptorProto(name="Person", field=[descriptor_pb2.FieldDescriptorProto(name="x\x00y")]),
    ])
    with pytest.raises(InvalidArgument) as e:
        check_request(f)
    assert (e.value.field, e.value.rule) == ("message_type[1].field[0].name",
                                             "must not contain NUL or control characters")


def test_a_map_key_is_checked_but_never_named():
    s = struct_pb2.Struct()
    s.update({"山田\x07": 1})
    with pytest.raises(InvalidArgument) as e:
        check_request(s)
    assert e.value.field == "fields.key" and "山田" not in str(e.value)


def test_limits_are_per_service_and_per_field():
    f = descriptor_pb2.FileDescriptorProto(name="n" * 100, package="p" * 100)
    limits = RequestLimits(max_string=50, fields={"google.protobuf.FileDescriptorProto.name": 200})
    with pytest.raises(InvalidArgument) as e:
        check_request(f, limits)
    assert (e.value.field, e.value.rule) == ("package", "must be at most 50 characters")
    check_request(f)  # the default 4096 lets both through


def test_a_lone_surrogate_on_the_wire_is_refused():
    # UTF-8-encoded U+DC80 in field 1 (name). A proto3 parser refuses it (a corrupt message); a proto2 string, as
    # here, comes through as bytes, which the guard refuses.
    with pytest.raises(InvalidArgument, match="name: must be valid UTF-8"):
        check_request(lenient(descriptor_pb2.FileDescriptorProto.FromString)(b"\x0a\x04a\xed\xb2\x80"))


def test_undecodable_bytes_become_the_corrupt_marker_and_then_invalid_argument():
    parse = lenient(struct_pb2.Struct.FromString)
    assert parse(b"\x0a\xff\xff") is CORRUPT
    with pytest.raises(InvalidArgument) as e:
        check_request(parse(b"\x0a\xff\xff"))
    assert str(e.value) == "request: not a valid protobuf message" and e.value.reason == "MALFORMED_REQUEST"
    assert lenient(None) is None


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=8))
def test_fuzz_any_text_passes_exactly_when_it_has_no_forbidden_character_and_is_never_echoed(texts):
    f = descriptor_pb2.FileDescriptorProto(dependency=texts)
    bad = [i for i, t in enumerate(texts) if FORBIDDEN & set(t) or any(0xD800 <= ord(c) <= 0xDFFF for c in t)]
    try:
        check_request(f, RequestLimits(max_string=50))
    except InvalidArgument as e:
        first_long = [i for i, t in enumerate(texts) if len(t) > 50]
        assert e.field == f"dependency[{min(bad + first_long)}]"
        # Nothing but the path and a fixed rule: no value echoed.
        assert e.rule in {"must not contain NUL or control characters", "must be at most 50 characters"}
        assert str(e) == f"{e.field}: {e.rule}"
    else:
        assert not bad and all(len(t) <= 50 for t in texts)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes_never_make_the_deserializer_raise(data):
    parsed = lenient(descriptor_pb2.FileDescriptorProto.FromString)(data)
    try:
        check_request(parsed)
    except InvalidArgument as e:
        assert e.field and e.rule
