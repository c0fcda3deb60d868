"""Fuzz of every numbering RPC through the real gRPC server (the conftest's), with generated field values and with
raw corrupt bytes. Whatever comes in: never INTERNAL or UNKNOWN; every INVALID_ARGUMENT names a field of the
request and a rule ("<field>: <rule>", reason INVALID_ARGUMENT); no error echoes an input value of 4+ characters.

The tally (cases per RPC and status code) is printed at the end of the module (`-s` or `-rP` shows it).
"""

from __future__ import annotations

import collections
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from mynumber_codes import DEFAULT_RESIDENT_CODE_RULE, individual_number_check_digit
from mynumber_runtime.grpc_server import error_reason

from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY

# Every status message is a constant of the code that makes it: text that occurs in these sources is the platform's
# own wording, not an echo, even when a random input happens to contain it (b"requ" in "request: ...").
_SOURCES = [p for d in ("services/numbering/src/numbering", "libs/runtime/src/mynumber_runtime", "libs/codes/src")
            for p in sorted((Path(__file__).resolve().parents[4] / d).rglob("*.py"))]
CORPUS = "\n".join(p.read_text() for p in _SOURCES)

pytestmark = pytest.mark.integration

EXAMPLES = 200  # per RPC, generated fields
RAW_EXAMPLES = 60  # per RPC, raw bytes
TALLY: collections.Counter[tuple[str, str]] = collections.Counter()
NUMBERING = "/mynumber.numbering.v1.NumberingService/"
SECTOR = "/mynumber.numbering.v1.SectorCodeService/"
# "<field>: <rule>"; a repeated field may carry the index of the item ("resident_codes[3]: ...").
_FIELD_RULE = re.compile(r"^([a-z_]+)(?:\[\d+\])?: (\S.*)$", re.S)

# --- field values ----------------------------------------------------------------------------------------------

_unicode = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)  # Cs: unencodable surrogates
_controls = st.text(st.sampled_from("\x00\x01\x07\x1b\x7f\x85\u200b\n\r\t"), min_size=1, max_size=8)
_fullwidth = st.text(st.sampled_from("０１２３４５６７８９"), min_size=6, max_size=12)
_huge = st.builds(lambda ch, n: ch * n, st.sampled_from(["0", "１", "a", "\x00", "住"]),
                  st.integers(1 << 20, (1 << 20) + 16))  # megabyte strings


def _with_wrong_digit(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


_bodies10 = st.integers(0, 10**10 - 1).map(lambda b: f"{b:010d}")
_resident_codes = _bodies10.map(DEFAULT_RESIDENT_CODE_RULE.make)
_bad_resident_codes = _resident_codes.map(_with_wrong_digit)
_numbers = st.integers(0, 10**11 - 1).map(lambda b: f"{b:011d}").map(lambda b: b + individual_number_check_digit(b))
_bad_numbers = _numbers.map(_with_wrong_digit)


def _municipality(five: str) -> str:
    total = sum(int(d) * w for d, w in zip(five, (6, 5, 4, 3, 2), strict=True))
    return five + str((11 - total % 11) % 10)


# Valid-looking 団体コード (right check digit) of bodies that may not exist, plus real ones, plus wrong digits.
_municipalities = st.one_of(
    st.sampled_from([MUNICIPALITY, OTHER_MUNICIPALITY, "011002"]),
    st.integers(0, 99_999).map(lambda n: _municipality(f"{n:05d}")),
    st.sampled_from(["131017", "991016", "000000", "13101", "1310160", "１３１０１６"]),
)
_any_text = st.one_of(_unicode, _controls, _fullwidth, _huge, _resident_codes, _bad_resident_codes, _numbers,
                      _bad_numbers, _municipalities, st.just(""))


# 住民票コード the registry holds (numbered by the `registry` fixture, half by each municipality): calls that pass
# validation then go through the tenancy rule on real people, ours and theirs.
HELD = [DEFAULT_RESIDENT_CODE_RULE.make(f"{7_000_000_000 + 7919 * k:010d}") for k in range(40)]
_held = st.sampled_from(HELD)


def mix(*weighted: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Branches drawn by weight (st.one_of flattens nested branches and draws each leaf alike)."""
    slots = [strategy for weight, strategy in weighted for _ in range(weight)]
    return st.integers(0, len(slots) - 1).flatmap(lambda i: slots[i])


def text_for(kind: str) -> st.SearchStrategy[str]:
    """A field's values: mostly one that passes validation (so the call reaches the tenancy rule and the
    database), else a plausible mistake, else anything at all."""
    valid, mistaken = {
        "municipality": (st.sampled_from([MUNICIPALITY, MUNICIPALITY, OTHER_MUNICIPALITY]), _municipalities),
        "resident": (mix((2, _held), (1, _resident_codes)), _bad_resident_codes),
        "number": (_numbers, _bad_numbers),
        "free": (st.text(st.characters(codec="ascii", categories=("L", "N")), max_size=20), _unicode),
    }[kind]
    return mix((6, valid), (1, mistaken), (3, _any_text))


_callers = st.sampled_from([f"municipality:{MUNICIPALITY}"] * 3 + [f"municipality:{OTHER_MUNICIPALITY}",
                                                                    "operator:fuzz"])


@pytest.fixture(scope="module", autouse=True)
async def registry(numbering) -> None:
    for k, code in enumerate(HELD):
        m = MUNICIPALITY if k % 2 else OTHER_MUNICIPALITY
        await numbering.stub(f"municipality:{m}").AssignNumber(pb.AssignNumberRequest(municipality_code=m,
                                                                                      resident_code=code))
_reasons = st.sampled_from([1, 1, 2, 2, 0, -1, 3, 99])

# --- checks -------------------------------------------------------------------------------------------------------


def inputs_of(request: Any) -> list[str]:
    out: list[str] = []
    for _, value in request.ListFields():
        if isinstance(value, str):
            out.append(value)
        elif not isinstance(value, (int, bytes)):
            out.extend(v for v in value if isinstance(v, str))
    # Values of 4+ characters; a plain ASCII word ("numb", "must") may occur in a fixed field name or rule.
    return [v for v in out if len(v) >= 4 and not (v.isascii() and v.isalpha())]


def check_refusal(method: str, err: grpc.aio.AioRpcError, fields: set[str], inputs: list[str]) -> None:
    code = err.code()
    TALLY[(method, code.name)] += 1
    assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (method, err.details())
    details = err.details() or ""
    trailers = " ".join(str(v) for _, v in (err.trailing_metadata() or ()))
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        m = _FIELD_RULE.match(details)
        assert m and m.group(1) in fields and m.group(2).strip(), (method, details)
        assert error_reason(err) == "INVALID_ARGUMENT"
    for value in inputs:
        if value in CORPUS:
            continue
        assert value not in details and value not in trailers, (method, "echoed an input")


def check_items(method: str, responses: list[pb.AssignNumbersResponse], inputs: list[str]) -> None:
    for r in responses:
        for e in r.errors:
            TALLY[(f"{method}[item]", e.reason)] += 1
            assert e.reason not in ("INTERNAL", "UNKNOWN")
            if e.reason == "INVALID_ARGUMENT":
                assert e.field in {"resident_code", "municipality_code"} and e.message.strip()
            for value in inputs:
                assert value not in e.message and value not in e.field


async def call_unary(numbering, caller: str, method: str, request: Any) -> None:
    stub: Any = (pb_grpc.SectorCodeServiceStub if method == "IssueSectorCode" else pb_grpc.NumberingServiceStub)(
        numbering.channel(caller))
    fields = {f.name for f in request.DESCRIPTOR.fields}
    try:
        await getattr(stub, method)(request, timeout=30)
        TALLY[(method, "OK")] += 1
    except grpc.aio.AioRpcError as err:
        check_refusal(method, err, fields, inputs_of(request))


_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.function_scoped_fixture, HealthCheck.large_base_example])

# --- one test per RPC, generated fields ------------------------------------------------------------------------


@_SETTINGS
@given(caller=_callers, m=text_for("municipality"), r=text_for("resident"))
async def test_fuzz_assign_number(numbering, caller, m, r):
    await call_unary(numbering, caller, "AssignNumber", pb.AssignNumberRequest(municipality_code=m, resident_code=r))


@_SETTINGS
@given(caller=_callers, m=text_for("municipality"), r=text_for("resident"))
async def test_fuzz_lookup_number(numbering, caller, m, r):
    await call_unary(numbering, caller, "LookupNumber", pb.LookupNumberRequest(municipality_code=m, resident_code=r))


@_SETTINGS
@given(caller=_callers, m=text_for("municipality"), r=text_for("resident"))
async def test_fuzz_list_number_history(numbering, caller, m, r):
    await call_unary(numbering, caller, "ListNumberHistory",
                     pb.ListNumberHistoryRequest(municipality_code=m, resident_code=r))


@_SETTINGS
@given(caller=_callers, m=text_for("municipality"), r=text_for("resident"), reason=_reasons,
       detail=text_for("free"))
async def test_fuzz_change_number(numbering, caller, m, r, reason, detail):
    await call_unary(numbering, caller, "ChangeNumber", pb.ChangeNumberRequest(
        municipality_code=m, resident_code=r, reason=reason, reason_detail=detail))


@_SETTINGS
@given(caller=_callers, m=text_for("municipality"), old=text_for("resident"), new=text_for("resident"))
async def test_fuzz_change_resident_code(numbering, caller, m, old, new):
    await call_unary(numbering, caller, "ChangeResidentCode", pb.ChangeResidentCodeRequest(
        municipality_code=m, old_resident_code=old, new_resident_code=new))


@_SETTINGS
@given(caller=_callers, m=text_for("municipality"), r=text_for("resident"),
       to=mix((6, st.sampled_from([OTHER_MUNICIPALITY, "011002"])), (4, text_for("municipality"))))
async def test_fuzz_record_move_out(numbering, caller, m, r, to):
    await call_unary(numbering, caller, "RecordMoveOut", pb.RecordMoveOutRequest(
        municipality_code=m, resident_code=r, destination_municipality_code=to))


@_SETTINGS
@given(caller=_callers, m=text_for("municipality"), r=text_for("resident"))
async def test_fuzz_record_move_in(numbering, caller, m, r):
    await call_unary(numbering, caller, "RecordMoveIn", pb.RecordMoveInRequest(municipality_code=m, resident_code=r))


@_SETTINGS
@given(caller=_callers, m=text_for("municipality"), r=text_for("resident"))
async def test_fuzz_cancel_move_out(numbering, caller, m, r):
    await call_unary(numbering, caller, "CancelMoveOut", pb.CancelMoveOutRequest(municipality_code=m,
                                                                                 resident_code=r))


@_SETTINGS
@given(caller=st.sampled_from(["service:linkage", "operator:fuzz"]), agency=text_for("free"),
       number=text_for("number"))
async def test_fuzz_issue_sector_code(numbering, caller, agency, number):
    await call_unary(numbering, caller, "IssueSectorCode",
                     pb.IssueSectorCodeRequest(agency_code=agency, individual_number=number))


_chunk_codes = st.lists(st.one_of(_resident_codes, _bad_resident_codes, _any_text.filter(lambda s: len(s) < 1000)),
                        max_size=30)


@settings(_SETTINGS, max_examples=EXAMPLES // 2)
@given(caller=_callers, chunks=st.lists(st.tuples(text_for("municipality"), _chunk_codes), min_size=1, max_size=3))
async def test_fuzz_assign_numbers(numbering, caller, chunks):
    requests = [pb.AssignNumbersRequest(municipality_code=m, resident_codes=codes) for m, codes in chunks]
    inputs = [v for r in requests for v in inputs_of(r)]

    # One chunk, then its answer, then the next: a client still sending after the server ended the call would
    # fail in its own gRPC core ("Internal error from Core"), which is not the server's answer.
    call = pb_grpc.NumberingServiceStub(numbering.channel(caller)).AssignNumbers(timeout=30)
    responses: list[pb.AssignNumbersResponse] = []
    try:
        for r in requests:
            await call.write(r)
            answer = await call.read()
            if answer is grpc.aio.EOF:
                break
            responses.append(answer)
        await call.done_writing()
        while (answer := await call.read()) is not grpc.aio.EOF:
            responses.append(answer)
        assert await call.code() == grpc.StatusCode.OK  # a refused call raises from read() above
        TALLY[("AssignNumbers", "OK")] += 1
        assert sum(len(r.individual_numbers) for r in responses) == sum(len(c) for _, c in chunks)
        check_items("AssignNumbers", responses, inputs)
    except grpc.aio.AioRpcError as err:
        check_refusal("AssignNumbers", err, {"municipality_code", "resident_codes"}, inputs)


# --- raw corrupt bytes to every method -------------------------------------------------------------------------

UNARY = {
    "AssignNumber": pb.AssignNumberRequest(municipality_code=MUNICIPALITY, resident_code="12345678903"),
    "LookupNumber": pb.LookupNumberRequest(municipality_code=MUNICIPALITY, resident_code="12345678903"),
    "ListNumberHistory": pb.ListNumberHistoryRequest(municipality_code=MUNICIPALITY, resident_code="12345678903"),
    "ChangeNumber": pb.ChangeNumberRequest(municipality_code=MUNICIPALITY, resident_code="12345678903", reason=1,
                                           reason_detail="case"),
    "ChangeResidentCode": pb.ChangeResidentCodeRequest(municipality_code=MUNICIPALITY,
                                                       old_resident_code="12345678903",
                                                       new_resident_code="12345678911"),
    "RecordMoveOut": pb.RecordMoveOutRequest(municipality_code=MUNICIPALITY, resident_code="12345678903",
                                             destination_municipality_code=OTHER_MUNICIPALITY),
    "RecordMoveIn": pb.RecordMoveInRequest(municipality_code=MUNICIPALITY, resident_code="12345678903"),
    "CancelMoveOut": pb.CancelMoveOutRequest(municipality_code=MUNICIPALITY, resident_code="12345678903"),
    "IssueSectorCode": pb.IssueSectorCodeRequest(agency_code="AG-01", individual_number="123456789018"),
}


def _corrupt(valid: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, and a valid message damaged: truncated, a flipped byte, invalid UTF-8 in a string field, a
    length prefix pointing past the end, a wire type no parser knows."""
    flip = st.tuples(st.integers(0, max(len(valid) - 1, 0)), st.integers(1, 255)).map(
        lambda t: valid[:t[0]] + bytes([valid[t[0]] ^ t[1]]) + valid[t[0] + 1:] if valid else b"\xff")
    return st.one_of(
        st.binary(min_size=1, max_size=200),
        st.integers(1, max(len(valid) - 1, 1)).map(lambda n: valid[:n]),
        flip,
        st.binary(min_size=1, max_size=8).map(lambda b: b"\x0a" + bytes([len(b) + 2]) + b"\xff\xfe" + b),
        st.just(b"\x0a\x7f\x31"),
        st.just(b"\x0f\x01"),
    )


def _raw_corrupt_cases() -> st.SearchStrategy[tuple[str, bytes]]:
    return st.one_of(*(_corrupt(msg.SerializeToString()).map(lambda b, m=m: (m, b)) for m, msg in UNARY.items()))


def check_raw(method: str, err: grpc.aio.AioRpcError | None, payload: bytes) -> None:
    if err is None:
        TALLY[(f"{method}[raw]", "OK")] += 1
        return
    TALLY[(f"{method}[raw]", err.code().name)] += 1
    assert err.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (method, err.details())
    details = err.details() or ""
    if err.code() == grpc.StatusCode.INVALID_ARGUMENT:
        assert ":" in details and details.split(":", 1)[1].strip(), (method, details)
    # No echo of the payload (its printable runs of 4+ characters).
    for run in re.findall(rb"[\x21-\x7e]{4,}", payload):
        assert run.decode() not in details or run.decode() in CORPUS, (method, "echoed the payload")


@settings(_SETTINGS, max_examples=RAW_EXAMPLES * len(UNARY))
@given(case=_raw_corrupt_cases(), caller=_callers)
async def test_fuzz_raw_corrupt_bytes_to_every_unary_method(numbering, case, caller):
    method, payload = case
    path = (SECTOR if method == "IssueSectorCode" else NUMBERING) + method
    call: Callable[..., Any] = numbering.channel(
        "service:linkage" if method == "IssueSectorCode" else caller).unary_unary(path)
    try:
        await call(payload, timeout=30)
        check_raw(method, None, payload)
    except grpc.aio.AioRpcError as err:
        check_raw(method, err, payload)


_VALID_CHUNK = pb.AssignNumbersRequest(municipality_code=MUNICIPALITY,
                                      resident_codes=["12345678903"]).SerializeToString()


@settings(_SETTINGS, max_examples=RAW_EXAMPLES)
@given(valid_before=st.integers(0, 2), corrupt=_corrupt(_VALID_CHUNK), caller=_callers)
async def test_fuzz_raw_corrupt_bytes_to_the_bulk_stream(numbering, valid_before, corrupt, caller):
    """Good chunks, then a corrupt one last: a client sending after the server ended the call would fail in its
    own gRPC core ("Internal error from Core"), which is not the server's answer."""
    call: Callable[..., Any] = numbering.channel(caller).stream_stream(NUMBERING + "AssignNumbers")
    payloads = [_VALID_CHUNK] * valid_before + [corrupt]

    async def stream():
        for p in payloads:
            yield p

    try:
        _ = [r async for r in call(stream(), timeout=30)]
        check_raw("AssignNumbers", None, corrupt)
    except grpc.aio.AioRpcError as err:
        check_raw("AssignNumbers", err, corrupt)


def test_fuzz_tally_covers_every_rpc_with_thousands_of_cases():
    """Runs last in the module: prints the outcomes and checks that every RPC was really exercised."""
    total = sum(TALLY.values())
    lines = [f"numbering fuzz: {total} cases"]
    for (method, status), n in sorted(TALLY.items()):
        lines.append(f"  {method:<28} {status:<28} {n:>6}")
    print("\n".join(lines))
    rpcs = {m.name for s in pb.DESCRIPTOR.services_by_name.values() for m in s.methods}
    exercised = {method.split("[")[0] for method, _ in TALLY}
    assert rpcs <= exercised, rpcs - exercised
    assert total >= 2000
    assert not any(status in ("INTERNAL", "UNKNOWN") for _, status in TALLY)
