"""Fuzz of every issuance RPC through the real gRPC server (the conftest's), with generated field values and with
raw corrupt bytes. Whatever comes in: never INTERNAL or UNKNOWN; every INVALID_ARGUMENT names a field of the
request and a rule ("<field>: <rule>"); no error echoes an input value of 4+ characters.

The tally (cases per RPC and status code) is printed at the end of the module (`-s` or `-rP` shows it)."""

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
from mynumber.issuance.v1 import issuance_pb2 as pb

from .conftest import MUNICIPALITY, OTHER_MUNICIPALITY, PHOTO, applicant, jpeg

_SOURCES = [p for d in ("services/issuance/src/issuance", "libs/runtime/src/mynumber_runtime", "libs/codes/src")
            for p in sorted((Path(__file__).resolve().parents[4] / d).rglob("*.py"))]
CORPUS = "\n".join(p.read_text() for p in _SOURCES)

pytestmark = pytest.mark.integration

EXAMPLES = 120
RAW_EXAMPLES = 40
TALLY: collections.Counter[tuple[str, str]] = collections.Counter()
SERVICE = "/mynumber.issuance.v1.IssuanceService/"
_FIELD_RULE = re.compile(r"^([a-z_.]+): (\S.*)$", re.S)
KNOWN: dict[str, list[Any]] = {"forms": [], "refs": []}

_unicode = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
_controls = st.text(st.sampled_from("\x00\x01\x07\x1b\x7f\x85\u200b\n\r\t\x1f"), min_size=1, max_size=8)
_huge = st.builds(lambda ch, n: ch * n, st.sampled_from(["0", "１", "住", "\x00"]), st.integers(5000, 70000))
_callers = st.sampled_from([f"municipality:{MUNICIPALITY}", f"municipality:{OTHER_MUNICIPALITY}",
                            "operator:intake", "service:jpki"])
_municipalities = st.one_of(st.sampled_from([MUNICIPALITY, OTHER_MUNICIPALITY, "131017", "130001", ""]),
                            _unicode, _controls)
_enum = st.one_of(st.integers(0, 7), st.sampled_from([-1, 99, 2**31 - 1]))
_photos = st.sampled_from([PHOTO, jpeg(480, 481), jpeg(600, 500), PHOTO[: len(PHOTO) // 3], b"", b"GIF89a" * 5000,
                           b"\x89PNG\r\n\x1a\n" + b"\0" * 30000])


def _text(kind: str) -> st.SearchStrategy[str]:
    good = {"name": "山田　太郎", "address": "東京都千代田区千代田1-1", "birth_date": "1980-06-15"}[kind]
    return st.one_of(st.just(good), _unicode, _controls, _huge, st.sampled_from(["", " ", "2030-01-01", "1980-02-30"]))


def _form_ids() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(0, len(KNOWN["forms"]) * 4).map(
        lambda i: KNOWN["forms"][i][0] if i < len(KNOWN["forms"]) else f"{i:023d}"),
        _unicode, _controls, st.sampled_from(["", "１" * 23, "0" * 22]))


def _refs() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(0, 20).map(lambda i: KNOWN["refs"][i] if i < len(KNOWN["refs"]) else "0" * 32),
                     _unicode, st.sampled_from(["", "A" * 32, "g" * 32]))


@pytest.fixture(scope="module", autouse=True)
async def forms(issuance) -> None:
    for k in range(12):
        m = MUNICIPALITY if k % 2 else OTHER_MUNICIPALITY
        form_id, _ = await issuance.known_form(municipality=m)
        KNOWN["forms"].append((form_id, m))
        if k < 4:
            r = await issuance.stub(f"municipality:{m}").SubmitApplication(pb.SubmitApplicationRequest(
                municipality_code=m, application_id=form_id, channel=pb.CHANNEL_COUNTER,
                handover_method=pb.HANDOVER_METHOD_AT_APPLICATION, applicant=applicant(), photo=PHOTO))
            KNOWN["refs"].append(r.application.application_ref)


def inputs_of(request: Any) -> list[str]:
    out: list[str] = []
    for _, value in request.ListFields():
        if isinstance(value, str):
            out.append(value)
        elif hasattr(value, "ListFields"):
            out.extend(inputs_of(value))
    return [v for v in out if len(v) >= 4 and not (v.isascii() and v.isalpha())]


def field_names(descriptor: Any, prefix: str = "") -> set[str]:
    names = set()
    for f in descriptor.fields:
        names.add(prefix + f.name)
        if f.message_type is not None and f.message_type.full_name.startswith("mynumber."):
            names |= field_names(f.message_type, f"{prefix}{f.name}.")
    return names


def check_refusal(method: str, err: grpc.aio.AioRpcError, fields: set[str], inputs: list[str]) -> None:
    code = err.code()
    TALLY[(method, code.name)] += 1
    assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (method, err.details())
    details = err.details() or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        m = _FIELD_RULE.match(details)
        assert m and m.group(1) in fields and m.group(2).strip(), (method, details)
    for value in inputs:
        if value not in CORPUS:
            assert value not in details, (method, "echoed an input")


async def call(issuance, caller: str, method: str, request: Any) -> None:
    try:
        await getattr(issuance.stub(caller), method)(request, timeout=30)
        TALLY[(method, "OK")] += 1
    except grpc.aio.AioRpcError as err:
        check_refusal(method, err, field_names(request.DESCRIPTOR), inputs_of(request))


_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.function_scoped_fixture, HealthCheck.large_base_example])


_FIELDS = ("municipality_code", "application_id", "channel", "handover_method", "name", "address", "birth_date",
           "sex", "photo", "caller")


@_SETTINGS
@given(data=st.data(), base=st.integers(0, 11), broken=st.lists(st.sampled_from(_FIELDS), max_size=3),
       everything=st.booleans())
async def test_fuzz_submit_application(issuance, data, base, broken, everything):
    """Half the cases a valid request for a known form with 0-3 fields broken (so the deep paths run: accepted,
    a second live application, another municipality's form), half every field generated."""
    form_id, holder = KNOWN["forms"][base]
    v: dict[str, Any] = {"municipality_code": holder, "application_id": form_id, "channel": pb.CHANNEL_COUNTER,
                         "handover_method": pb.HANDOVER_METHOD_AT_APPLICATION, "name": "山田　太郎",
                         "address": "東京都千代田区千代田1-1", "birth_date": "1980-06-15", "sex": 1, "photo": PHOTO,
                         "caller": f"municipality:{holder}"}
    gen = {"municipality_code": _municipalities, "application_id": _form_ids(), "channel": _enum,
           "handover_method": _enum, "name": _text("name"), "address": _text("address"),
           "birth_date": _text("birth_date"), "sex": _enum, "photo": _photos, "caller": _callers}
    for f in (_FIELDS if everything else broken):
        v[f] = data.draw(gen[f], label=f)
    req = pb.SubmitApplicationRequest(municipality_code=v["municipality_code"], application_id=v["application_id"],
                                      channel=v["channel"], handover_method=v["handover_method"], photo=v["photo"],
                                      applicant=pb.Applicant(name=v["name"], address=v["address"],
                                                             birth_date=v["birth_date"], sex=v["sex"]))
    await call(issuance, v["caller"], "SubmitApplication", req)


@_SETTINGS
@given(caller=_callers, m=_municipalities, ref=_refs())
async def test_fuzz_get_and_withdraw_application(issuance, caller, m, ref):
    await call(issuance, caller, "GetApplication", pb.GetApplicationRequest(municipality_code=m, application_ref=ref))
    await call(issuance, caller, "WithdrawApplication",
               pb.WithdrawApplicationRequest(municipality_code=m, application_ref=ref))


@_SETTINGS
@given(caller=_callers, m=_municipalities, state=_enum, limit=st.one_of(st.integers(0, 2000), st.just(2**32 - 1)),
       token=st.one_of(st.text(max_size=80), st.sampled_from(["", "MjAxNi0wMi0wMVQxMDowMDowMHwx"])))
async def test_fuzz_list_applications(issuance, caller, m, state, limit, token):
    await call(issuance, caller, "ListApplications",
               pb.ListApplicationsRequest(municipality_code=m, state=state, limit=limit, page_token=token))


UNARY = {
    "SubmitApplication": pb.SubmitApplicationRequest(municipality_code=MUNICIPALITY, application_id="1" * 23,
                                                     channel=1, handover_method=1, applicant=applicant(),
                                                     photo=b"\xff\xd8" * 20),
    "GetApplication": pb.GetApplicationRequest(municipality_code=MUNICIPALITY, application_ref="0" * 32),
    "ListApplications": pb.ListApplicationsRequest(municipality_code=MUNICIPALITY, state=1, limit=5),
    "WithdrawApplication": pb.WithdrawApplicationRequest(municipality_code=MUNICIPALITY, application_ref="0" * 32),
}


def _corrupt(valid: bytes) -> st.SearchStrategy[bytes]:
    flip = st.tuples(st.integers(0, len(valid) - 1), st.integers(1, 255)).map(
        lambda t: valid[:t[0]] + bytes([valid[t[0]] ^ t[1]]) + valid[t[0] + 1:])
    return st.one_of(st.binary(min_size=1, max_size=200), st.integers(1, len(valid) - 1).map(lambda n: valid[:n]),
                     flip, st.just(b"\x0a\x7f\x31"), st.just(b"\x0f\x01"))


@settings(_SETTINGS, max_examples=RAW_EXAMPLES * len(UNARY))
@given(case=st.one_of(*(_corrupt(msg.SerializeToString()).map(lambda b, m=m: (m, b)) for m, msg in UNARY.items())),
       caller=_callers)
async def test_fuzz_raw_corrupt_bytes_to_every_method(issuance, case, caller):
    method, payload = case
    issuance.stub(caller)  # opens (and keeps) the caller's channel
    rpc: Callable[..., Any] = issuance.channels[caller].unary_unary(SERVICE + method)
    try:
        await rpc(payload, timeout=30)
        TALLY[(f"{method}[raw]", "OK")] += 1
    except grpc.aio.AioRpcError as err:
        TALLY[(f"{method}[raw]", err.code().name)] += 1
        assert err.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (method, err.details())
        for run in re.findall(rb"[\x21-\x7e]{4,}", payload):
            assert run.decode() not in (err.details() or "") or run.decode() in CORPUS, (method, "echoed")


def test_fuzz_tally(issuance):
    """Runs last in the module: what the fuzz saw, per RPC and status."""
    for (method, code), n in sorted(TALLY.items()):
        print(f"{method:28} {code:20} {n}")
    assert not any(code in ("INTERNAL", "UNKNOWN") for _, code in TALLY)
    # The deep paths ran: applications accepted, and refused past the edge.
    assert TALLY[("SubmitApplication", "OK")] > 0
    assert TALLY[("SubmitApplication", "ALREADY_EXISTS")] + TALLY[("SubmitApplication", "NOT_FOUND")] > 0
