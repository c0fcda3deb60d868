"""`mynumber issuance ...`: 個人番号カード applications, as the municipal counter (`--as municipality:131016`) and
J-LIS's intake of mailed, online and employer-bulk forms (`--as operator:intake`) submit and follow them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from mynumber.issuance.v1 import issuance_pb2 as pb
from mynumber.issuance.v1 import issuance_pb2_grpc as pb_grpc

from mynumber_cli.base import CliError, Ctx, run_call
from mynumber_cli.notice_cmds import names, word, words

CHANNELS = words(pb.Channel)  # mail, online, counter, employer_bulk, employer_visit
METHODS = {"1": pb.HANDOVER_METHOD_AT_COLLECTION, "2": pb.HANDOVER_METHOD_AT_APPLICATION,
           "3": pb.HANDOVER_METHOD_AT_APPLICATION_RESIDENCE, "4": pb.HANDOVER_METHOD_EMPLOYER_BULK,
           "5": pb.HANDOVER_METHOD_STAFF_VISIT}
METHOD_NAMES = {number: f"{circled}{name}" for number, circled, name in (
    (pb.HANDOVER_METHOD_AT_COLLECTION, "①", "交付時来庁"), (pb.HANDOVER_METHOD_AT_APPLICATION, "②", "申請時来庁"),
    (pb.HANDOVER_METHOD_AT_APPLICATION_RESIDENCE, "③", "申請時来庁(居所)"),
    (pb.HANDOVER_METHOD_EMPLOYER_BULK, "④", "勤務先一括申請"), (pb.HANDOVER_METHOD_STAFF_VISIT, "⑤", "職員出向"))}
STATES = words(pb.ApplicationState)
CHANNEL_NAMES, STATE_NAMES = names(CHANNELS), names(STATES)
SEXES = {"male": pb.SEX_MALE, "female": pb.SEX_FEMALE}
PHOTO_MAX_BYTES = 7 * 1024 * 1024


def _time(ts: object) -> str:
    return ts.ToDatetime(tzinfo=dt.UTC).isoformat(timespec="seconds")  # type: ignore[attr-defined,no-any-return]


def line(a: pb.Application) -> str:
    """One application, tab-separated: reference, state, channel, method, submitted (no personal data)."""
    return (f"{a.application_ref}\t{word(STATE_NAMES, a.state)}\t{word(CHANNEL_NAMES, a.channel)}"
            f"\t{METHOD_NAMES.get(a.handover_method, '?')}\t{_time(a.submitted_at)}")


@click.group()
def issuance() -> None:
    """個人番号カード: applications by every channel and the five hand-over methods (①-⑤)."""


@issuance.command("submit")
@click.argument("municipality_code")
@click.argument("application_id")
@click.option("--channel", type=click.Choice(sorted(CHANNELS)), default="counter", show_default=True,
              help="how the application came in (mailed form, online, counter, employer bulk, staff visit)")
@click.option("--method", type=click.Choice(sorted(METHODS)), default="2", show_default=True,
              help="hand-over method: 1 交付時来庁, 2 申請時来庁, 3 申請時来庁 (居所), 4 勤務先一括申請, 5 職員出向")
@click.option("--photo", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="the applicant's photo (JPEG)")
@click.option("--name", required=True, help="氏名 as the register holds it today")
@click.option("--address", required=True, help="住所 as the register holds it today")
@click.option("--birth-date", required=True, help="生年月日, YYYY-MM-DD")
@click.option("--sex", type=click.Choice(sorted(SEXES)), required=True, help="性別 as the register holds it")
@click.pass_obj
def submit(c: Ctx, municipality_code: str, application_id: str, channel: str, method: str, photo: Path,
           name: str, address: str, birth_date: str, sex: str) -> None:
    """Submit a 交付申請 on the form's 23-digit 申請書ID; prints the application's reference."""
    if photo.stat().st_size > PHOTO_MAX_BYTES:
        raise CliError(f"{photo.name}: the photo is larger than 7 MB; nothing was sent")
    request = pb.SubmitApplicationRequest(
        municipality_code=municipality_code, application_id=application_id, channel=CHANNELS[channel],
        handover_method=METHODS[method], photo=photo.read_bytes(),
        applicant=pb.Applicant(name=name, address=address, birth_date=birth_date, sex=SEXES[sex]))

    async def call() -> pb.SubmitApplicationResponse:
        async with c.channel("issuance") as ch:
            return await pb_grpc.IssuanceServiceStub(ch).SubmitApplication(request, timeout=c.timeout)

    click.echo(line(run_call(call).application))


@issuance.command("list")
@click.argument("municipality_code")
@click.option("--state", type=click.Choice(sorted(STATES)), default=None, help="only this state")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="at most this many applications")
@click.pass_obj
def list_applications(c: Ctx, municipality_code: str, state: str | None, limit: int) -> None:
    """The municipality's applications, newest first: reference, state, channel, method, submitted."""
    request = pb.ListApplicationsRequest(municipality_code=municipality_code, limit=limit,
                                         state=STATES[state] if state else pb.APPLICATION_STATE_UNSPECIFIED)

    async def call() -> pb.ListApplicationsResponse:
        async with c.channel("issuance") as ch:
            return await pb_grpc.IssuanceServiceStub(ch).ListApplications(request, timeout=c.timeout)

    for a in run_call(call).applications:
        click.echo(line(a))


@issuance.command("show")
@click.argument("municipality_code")
@click.argument("application_ref")
@click.pass_obj
def show(c: Ctx, municipality_code: str, application_ref: str) -> None:
    """One application and every state it went through."""

    async def call() -> pb.GetApplicationResponse:
        async with c.channel("issuance") as ch:
            return await pb_grpc.IssuanceServiceStub(ch).GetApplication(pb.GetApplicationRequest(
                municipality_code=municipality_code, application_ref=application_ref), timeout=c.timeout)

    r = run_call(call)
    a = r.application
    click.echo(f"application {a.application_ref}\nmunicipality {a.municipality_code}\nstate        "
               f"{word(STATE_NAMES, a.state)}\nchannel      {word(CHANNEL_NAMES, a.channel)}\nmethod       "
               f"{METHOD_NAMES.get(a.handover_method, '?')}\nphoto        {a.photo_width}x{a.photo_height}")
    for h in r.history:
        click.echo(f"  {_time(h.at)}  {word(STATE_NAMES, h.state)}")


@issuance.command("withdraw")
@click.argument("municipality_code")
@click.argument("application_ref")
@click.pass_obj
def withdraw(c: Ctx, municipality_code: str, application_ref: str) -> None:
    """Withdraw a live application (取下げ): the person may then apply again."""

    async def call() -> pb.WithdrawApplicationResponse:
        async with c.channel("issuance") as ch:
            return await pb_grpc.IssuanceServiceStub(ch).WithdrawApplication(pb.WithdrawApplicationRequest(
                municipality_code=municipality_code, application_ref=application_ref), timeout=c.timeout)

    click.echo(line(run_call(call).application))
