"""`mynumber jpki revoke-mass` against a stand-in CA (a plain gRPC server on 127.0.0.1 answering RevokeMass): the
request it sends (dry run unless --execute, the selection, JST times), what it prints, and its one-line refusals.
The real CA behind it is tested in services/jpki/tests/integration (test_operator_cli, test_mass_revocation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from click.testing import CliRunner
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc
from mynumber_cli import base
from mynumber_cli.main import cli


class StandInCa(pb_grpc.CertificateAuthorityServiceServicer):
    """Selects `selected` certificates of 131016 and revokes them when asked to; refuses when `refuse` is set."""

    def __init__(self) -> None:
        self.requests: list[pb.RevokeMassRequest] = []
        self.selected = 25
        self.refuse: grpc.StatusCode | None = None

    def RevokeMass(self, request: pb.RevokeMassRequest, context: Any) -> pb.RevokeMassResponse:
        self.requests.append(request)
        if self.refuse is not None:
            context.abort(self.refuse, "only J-LIS operators revoke in mass")
        state = pb.CERTIFICATE_STATE_REVOKED if request.execute else pb.CERTIFICATE_STATE_GOOD
        sample = [pb.CertificateSummary(
            status=pb.CertificateStatus(ca=pb.CA_KIND_AUTH, serial_hex=format(0xA0 + i, "x"), state=state),
            card_id=f"card-{i}", municipality_code="131016") for i in range(min(self.selected, 20))]
        return pb.RevokeMassResponse(executed=request.execute, selected=self.selected,
                                     revoked=self.selected if request.execute else 0, sample=sample)


@pytest.fixture
def ca(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInCa]:
    servicer = StandInCa()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_CertificateAuthorityServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # The stand-in has no mTLS: the command's channel is replaced, everything else is the real command.
    monkeypatch.setattr(base.Ctx, "channel", lambda self, service="numbering": grpc.aio.insecure_channel(
        f"127.0.0.1:{port}"))
    try:
        yield servicer
    finally:
        server.stop(0)


def mynumber(*args: str) -> Any:
    return CliRunner().invoke(cli, ["--as", "operator:test", "jpki", "revoke-mass", *args])


def test_without_execute_it_is_a_dry_run_that_prints_the_count_and_the_first_serials(ca: StandInCa) -> None:
    done = mynumber("--municipality", "131016", "--cause", "loss")
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[-1] == "dry run: 25 certificate(s) would be revoked for loss (5 more not shown); add --execute"
    assert lines[0] == "would revoke\tauth\ta0\tgood\t131016\tcard-0" and len(lines) == 21
    [request] = ca.requests
    assert not request.execute
    assert (request.municipality_code, request.cause) == ("131016", pb.REVOCATION_CAUSE_LOSS_OR_COMPROMISE)
    assert not request.HasField("issued_from") and request.ca == pb.CA_KIND_UNSPECIFIED


def test_execute_revokes_the_selection_with_its_time_window_in_jst(ca: StandInCa) -> None:
    ca.selected = 3
    done = mynumber("--municipality", "131016", "--ca", "auth", "--issued-from", "2026-04-01T00:00:00",
                    "--issued-before", "2026-04-02T00:00:00", "--cause", "record-error", "--execute")
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[-1] == "executed: 3 certificate(s) revoked for record-error of 3 selected"
    assert [x.split("\t")[:4] for x in lines[:-1]] == [["revoked", "auth", f"{0xA0 + i:x}", "revoked"]
                                                       for i in range(3)]
    [request] = ca.requests
    assert request.execute and request.ca == pb.CA_KIND_AUTH and request.cause == pb.REVOCATION_CAUSE_RECORD_ERROR
    jst_midnight = dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC)  # 2026-04-01 00:00 JST
    assert request.issued_from.ToDatetime(tzinfo=dt.UTC) == jst_midnight
    assert request.issued_before.ToDatetime(tzinfo=dt.UTC) == jst_midnight + dt.timedelta(days=1)


def test_no_selection_is_refused_before_any_call(ca: StandInCa) -> None:
    done = mynumber("--cause", "loss", "--execute")
    assert done.exit_code == 2 and "name the selection" in done.output
    assert ca.requests == []


def test_a_refusal_is_one_line_and_exit_code_2(ca: StandInCa) -> None:
    ca.refuse = grpc.StatusCode.PERMISSION_DENIED
    done = mynumber("--municipality", "131016", "--cause", "death", "--execute")
    assert done.exit_code == 2 and "Traceback" not in done.output
    assert done.stderr.strip().splitlines() == ["error PERMISSION_DENIED: only J-LIS operators revoke in mass"]
    assert done.stdout == ""
