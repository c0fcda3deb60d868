"""Fuzz of every notice RPC through the real gRPC server (issue 9): random unicode, NUL and control characters,
full-width digits, huge strings, well-formed codes with wrong check digits, unknown municipalities, and raw
corrupt bytes. Never INTERNAL or UNKNOWN; every INVALID_ARGUMENT names a field and a rule; no answer repeats
what was sent (any string of 4+ characters that is not our own fixed text).

Hypothesis runs in a worker thread; each example's call runs on the test's event loop, where the server lives.
The counts of every run are printed (pytest -s) and asserted to reach the thousands."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Coroutine
from importlib import resources
from pathlib import Path
from typing import Any

import grpc
import mynumber_codes
import notice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_codes import ResidentCodeRule, municipality_check_digit

from .conftest import MUNICIPALITY, OPERATOR, OTHER

SERVICE = "/mynumber.notice.v1.NoticeService/"
EXAMPLES = 300  # per RPC
CORRUPT_EXAMPLES = 60  # per RPC
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
FIELD_AND_RULE = re.compile(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: \S.*", re.DOTALL)
BAD = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
RULE = ResidentCodeRule()


def _literals() -> str:
    """Every string literal of notice's and the codes library's sources: text an answer may carry (a rule, a
    field name, an allowed value) even when an input happens to contain it."""
    out = []
    for pkg in (notice, mynumber_codes):
        for path in Path(str(resources.files(pkg))).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    out.append(node.value)
    return "\n".join(out)


OWN_TEXT = _literals()


def strings_of(msg: Any) -> list[str]:
    out: list[str] = []
    for _fd, value in msg.ListFields():
        values = [value] if isinstance(value, str | bytes | int | float) or hasattr(value, "ListFields") \
            else list(value)  # a repeated field
        for v in values:
            if isinstance(v, str):
                out.append(v)
            elif hasattr(v, "ListFields"):
                out += strings_of(v)
    return out


def echoed(details: str, sent: list[str]) -> list[str]:
    return [s for s in sent if len(s.strip()) >= 4 and s in details and s not in OWN_TEXT]


# --- strategies ---------------------------------------------------------------------------------------------
chars = st.characters(blacklist_categories=("Cs",))  # protobuf strings are UTF-8: no lone surrogates
junk = st.one_of(
    st.text(chars, max_size=30),
    st.text(st.sampled_from("\x00\x01\x07\x1b\x7f\x85\u2028\u202e\ufeff\t\n\r"), min_size=1, max_size=8),
    st.text(st.sampled_from("０１２３４５６７８９٠١٢"), min_size=1, max_size=14),
    st.integers(201, 300_000).map(lambda n: "長" * n),  # beyond every length limit, up to ~1 MB
    st.just(""),
)


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from("0123456789"), min_size=n, max_size=n)


def wrong_last(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def mostly(valid: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three in four values well formed, so that whole requests often pass the edge and reach the database."""
    # (one_of would flatten the bad branch's own alternatives and drown the valid one)
    return st.integers(0, 3).flatmap(lambda i: bad if i == 3 else valid)


letters = st.characters(categories=("L", "N"))
text = st.text(letters, min_size=1, max_size=30)


def rpcs(known_codes: list[str], known_mailings: list[str]) -> dict[str, tuple[str, Any, st.SearchStrategy[Any]]]:
    """Every RPC with its caller, its response type and a strategy of requests. `known_*`: residents and
    envelopes the server holds, so that valid requests also reach the rules, not only the edge."""
    resident_codes = mostly(
        st.one_of(st.sampled_from(known_codes), digits(10).map(RULE.make)),  # held here, or nobody's
        st.one_of(digits(10).map(RULE.make).map(wrong_last),
                  digits(10).map(RULE.make).map(lambda c: c.translate(FULL_WIDTH)), digits(11), junk))
    municipality_codes = mostly(
        st.just(MUNICIPALITY),
        st.one_of(st.sampled_from([OTHER, "131017", "130001", "990006", "１３１０１６", "13101"]),
                  digits(5).map(lambda b: b + municipality_check_digit(b)),  # well formed; mostly no such body
                  junk))
    postal_codes = mostly(st.one_of(st.just("100-0001"), digits(7).filter(lambda d: d != "0000000")),
                          st.one_of(st.sampled_from(["0000000", "１０００００１", "100-00001"]), junk))
    dates = mostly(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2015, 1, 1)).map(dt.date.isoformat),
                   st.one_of(st.sampled_from(["19800101", "1980-W01-2", "1980-02-30", "1850-01-01"]), junk))
    names = mostly(text, junk)
    addresses = mostly(text, junk)
    household_ids = mostly(text, junk)
    int32 = st.integers(-(2**31), 2**31 - 1)
    mailing_ids = mostly(st.one_of(st.sampled_from(known_mailings), st.just("0" * 32)),
                         st.one_of(st.text(st.sampled_from("0123456789abcdef"), max_size=40), junk))
    batch_ids = mostly(st.just("20151020010000-0123abcd"), junk)
    members = st.builds(pb.Member, resident_code=resident_codes, name=names, birth_date=dates,
                        sex=mostly(st.sampled_from([1, 2]), int32))
    households = st.builds(pb.Household, household_id=household_ids, address=addresses, postal_code=postal_codes,
                           members=st.lists(members, min_size=1, max_size=3))
    documents = mostly(st.just(["application", "identity_copy", "address_proof"]),
                       st.lists(st.one_of(st.sampled_from(["application", "disaster_proof"]), junk), max_size=9))

    def enum_of(proto: Any) -> st.SearchStrategy[int]:
        # Three in four a number the proto enum defines (UNSPECIFIED included), else any int32: almost always
        # one it does not define (proto3 enums are open: such a number parses and reaches the service).
        return mostly(st.sampled_from([v.number for v in proto.DESCRIPTOR.values]), int32)

    return {
        "SubmitMailingList": (MUNICIPAL, pb.SubmitMailingListResponse, st.builds(
            pb.SubmitMailingListRequest, municipality_code=municipality_codes,
            households=st.lists(households, max_size=3))),
        "RegisterResidence": (MUNICIPAL, pb.RegisterResidenceResponse, st.builds(
            pb.RegisterResidenceRequest, municipality_code=municipality_codes, resident_code=resident_codes,
            kind=enum_of(pb.ResidenceKind), address=addresses, postal_code=postal_codes,
            documents=documents, hold_at_office=st.booleans())),
        "GetResidence": (MUNICIPAL, pb.GetResidenceResponse, st.builds(
            pb.GetResidenceRequest, municipality_code=municipality_codes, resident_code=resident_codes)),
        "ListMailings": (MUNICIPAL, pb.ListMailingsResponse, st.builds(
            pb.ListMailingsRequest, municipality_code=municipality_codes, page_size=st.integers(0, 2**32 - 1),
            page_token=st.one_of(st.text(max_size=80), st.sampled_from(["", "MjAxNi0wMi0wMVQxMDowMDowMHwx"])))),
        "ExportPrintBatch": (OPERATOR, pb.ExportPrintBatchResponse, st.builds(
            pb.ExportPrintBatchRequest, municipality_codes=st.lists(municipality_codes, max_size=4),
            with_pdfs=st.just(False))),
        "ReportPrintStatus": (OPERATOR, pb.ReportPrintStatusResponse, st.builds(
            pb.ReportPrintStatusRequest, batch_id=batch_ids, status=enum_of(pb.PrintStatus))),
        "RecordDelivery": (MUNICIPAL, pb.RecordDeliveryResponse, st.builds(
            pb.RecordDeliveryRequest, municipality_code=municipality_codes, mailing_id=mailing_ids,
            delivered=st.booleans(), return_reason=enum_of(pb.ReturnReason))),
        "ResolveReturnedMail": (MUNICIPAL, pb.ResolveReturnedMailResponse, st.builds(
            pb.ResolveReturnedMailRequest, municipality_code=municipality_codes, mailing_id=mailing_ids,
            resident_code=resident_codes,
            finding=enum_of(pb.Finding), preference=enum_of(pb.Preference), new_address=addresses,
            new_postal_code=postal_codes)),
        "RecordMove": (MUNICIPAL, pb.RecordMoveResponse, st.builds(
            pb.RecordMoveRequest, municipality_code=municipality_codes, resident_code=resident_codes,
            kind=enum_of(pb.MoveKind), new_address=addresses, new_postal_code=postal_codes,
            new_household_id=household_ids, former_household_may_receive=st.booleans(),
            preference=enum_of(pb.Preference), member=st.one_of(st.none(), members),
            destination_municipality_code=mostly(st.just(OTHER), municipality_codes))),
        "RequestResend": (MUNICIPAL, pb.RequestResendResponse, st.builds(
            pb.RequestResendRequest, municipality_code=municipality_codes, resident_code=resident_codes)),
        "ExpireReturnedMail": (OPERATOR, pb.ExpireReturnedMailResponse, st.just(pb.ExpireReturnedMailRequest())),
        "EndorseAtCounter": (MUNICIPAL, pb.EndorseAtCounterResponse, st.builds(
            pb.EndorseAtCounterRequest, municipality_code=municipality_codes, resident_code=resident_codes)),
        "RecordOldCardReturned": (MUNICIPAL, pb.RecordOldCardReturnedResponse, st.builds(
            pb.RecordOldCardReturnedRequest, municipality_code=municipality_codes, mailing_id=mailing_ids,
            resident_code=resident_codes)),
    }


MUNICIPAL = f"municipality:{MUNICIPALITY}"
METHODS = [m.name for m in pb.DESCRIPTOR.services_by_name["NoticeService"].methods]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def on_loop(loop: asyncio.AbstractEventLoop) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)
    return run


async def known_data(notice) -> tuple[list[str], list[str]]:
    """Residents and envelopes in every state the rules branch on: prepared, posted, returned, delivered."""
    codes, mailings = [], []
    for _ in range(2):
        _hid, people = await notice.household(2)
        codes += [p.resident_code for p in people]
    m, people = await notice.posted_household(1)
    codes.append(people[0].resident_code)
    mailings.append(m.mailing_id)
    m, people = await notice.returned()
    codes.append(people[0].resident_code)
    mailings.append(m.mailing_id)
    mailings += [x.mailing_id for x in await notice.mailings()]
    return codes, sorted(set(mailings))


async def test_no_notice_rpc_answers_internal_or_echoes_its_input_whatever_it_is_sent(notice):
    RPCS = rpcs(*await known_data(notice))
    assert sorted(RPCS) == sorted(METHODS)  # every RPC of the service, none forgotten
    loop = asyncio.get_running_loop()
    run = on_loop(loop)
    tally: Counter[str] = Counter()
    refused_on: Counter[str] = Counter()
    problems: list[str] = []

    async def call(method: str, caller: str, response: Any, request: Any) -> None:
        stub = notice.stub(caller)  # builds the conftest's channel for this caller
        channel = notice.channels[caller]
        rpc = channel.unary_unary(SERVICE + method, request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=response.FromString)
        del stub
        try:
            await rpc(request, timeout=30)
            tally["ok"] += 1
        except grpc.aio.AioRpcError as e:
            tally[e.code().name] += 1
            if e.code() == grpc.StatusCode.INVALID_ARGUMENT:
                refused_on[method + " " + (e.details() or "").split(":")[0]] += 1
            check(method, e, strings_of(request))

    def check(method: str, e: grpc.aio.AioRpcError, sent: list[str]) -> None:
        details = e.details() or ""
        if e.code() in BAD:
            problems.append(f"{method}: {e.code().name}")
        if e.code() == grpc.StatusCode.INVALID_ARGUMENT and not FIELD_AND_RULE.match(details):
            problems.append(f"{method}: INVALID_ARGUMENT without field and rule: {details[:80]!r}")
        if echoed(details, sent):
            problems.append(f"{method}: {e.code().name} echoes its input")

    def fuzz_one(method: str, caller: str, response: Any, requests: st.SearchStrategy[Any]) -> None:
        @FUZZ
        @given(request=requests)
        def one(request: Any) -> None:
            run(call(method, caller, response, request))
            tally["cases"] += 1

        one()

    def fuzz_all() -> None:
        for method, (caller, response, requests) in RPCS.items():
            fuzz_one(method, caller, response, requests)

    await asyncio.to_thread(fuzz_all)
    print(f"\nnotice fuzz: {tally['cases']} typed cases over {len(RPCS)} RPCs: {dict(tally)}; "
          f"most refused fields: {refused_on.most_common(12)}")
    assert not problems, sorted(set(problems))[:20]
    assert tally["cases"] >= 2_000 and tally["INVALID_ARGUMENT"] > 0
    # Every enum field was sent numbers it does not define (and UNSPECIFIED) and was refused naming itself.
    enum_fields = ("RegisterResidence kind", "ReportPrintStatus status", "RecordDelivery return_reason",
                   "ResolveReturnedMail finding", "ResolveReturnedMail preference", "RecordMove kind",
                   "RecordMove preference")
    assert all(refused_on[f] for f in enum_fields), {f: refused_on[f] for f in enum_fields}


async def test_no_notice_rpc_answers_internal_to_corrupt_bytes(notice):
    RPCS = rpcs(["0"], ["0"])
    assert sorted(RPCS) == sorted(METHODS)
    loop = asyncio.get_running_loop()
    run = on_loop(loop)
    tally: Counter[str] = Counter()
    problems: list[str] = []

    async def call(method: str, caller: str, raw: bytes) -> None:
        notice.stub(caller)
        rpc = notice.channels[caller].unary_unary(SERVICE + method)  # no serializer: the bytes go as they are
        try:
            await rpc(raw, timeout=30)
            tally["ok"] += 1
        except grpc.aio.AioRpcError as e:
            tally[e.code().name] += 1
            details = e.details() or ""
            if e.code() in BAD:
                problems.append(f"{method}: {e.code().name}: {details[:60]!r}")
            if e.code() == grpc.StatusCode.INVALID_ARGUMENT and not FIELD_AND_RULE.match(details):
                problems.append(f"{method}: INVALID_ARGUMENT without field and rule")

    # Wire-format damage that no message parses: a truncated length, a bad tag, an invalid wire type, a string
    # field that is not UTF-8; plus random bytes.
    corrupt = st.one_of(st.binary(min_size=1, max_size=300),
                        st.sampled_from([b"\x0a\xff\xff\xff\xff\x0f", b"\x00", b"\x0f", b"\x0a\x05ab",
                                         b"\x0a\x02\xff\xfe", b"\x12\x03\x0a\x01\xc3"]))

    def fuzz_one(method: str, caller: str) -> None:
        @settings(FUZZ, max_examples=CORRUPT_EXAMPLES)
        @given(raw=corrupt)
        def one(raw: bytes) -> None:
            run(call(method, caller, raw))
            tally["cases"] += 1

        one()

    def fuzz_all() -> None:
        for method, (caller, _response, _requests) in RPCS.items():
            fuzz_one(method, caller)  # the caller the method allows: the bytes reach the parser

    await asyncio.to_thread(fuzz_all)
    print(f"\nnotice corrupt-bytes fuzz: {tally['cases']} cases over {len(RPCS)} RPCs: {dict(tally)}")
    assert not problems, sorted(set(problems))[:20]
    assert tally["cases"] >= 500
