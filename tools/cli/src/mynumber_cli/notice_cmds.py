"""`mynumber notice ...`: the mailing of the 通知カード / 個人番号通知書, as a municipal clerk, the print vendor and the
J-LIS operator run it (each acts as its own identity: `--as municipality:131016`, `--as vendor:...`,
`--as operator:...`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
import grpc
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber.notice.v1 import notice_pb2_grpc as pb_grpc
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mynumber_cli.base import CliError, Ctx, err, rpc_error, run_call
from mynumber_cli.mailing_file import HouseholdLines, line_of, parse_mailing_list
from mynumber_cli.register_file import LineError


def words(proto: Any) -> dict[str, int]:
    """A proto enum's values by the word the clerk types and reads: MAILING_STATUS_HELD_AT_OFFICE is
    `held_at_office`. These are the values of notice's states (notice.states; its wire test ties the two)."""
    prefix = proto.DESCRIPTOR.values_by_number[0].name.removesuffix("UNSPECIFIED")
    return {v.name.removeprefix(prefix).lower(): v.number for v in proto.DESCRIPTOR.values if v.number}


def names(table: dict[str, int]) -> dict[int, str]:
    return {number: word for word, number in table.items()}


RESIDENCE_KINDS = {"evacuee": pb.RESIDENCE_KIND_EVACUEE, "dv": pb.RESIDENCE_KIND_DV_VICTIM}
RESIDENCE_KIND_NAMES = names(RESIDENCE_KINDS)
DOCUMENTS = ("application", "identity_copy", "address_proof", "disaster_proof", "dv_proof")
RESIDENCE_SOURCES = words(pb.ResidenceSource)
REISSUE_REASONS = words(pb.ReissueReason)
PRINT_STATUSES = words(pb.PrintStatus)
# 日本郵便's words, as the clerk reads them off the returned envelope (notice.states.ReturnReason's values).
RETURN_REASONS = {"あて所なし": pb.RETURN_REASON_NO_SUCH_ADDRESS, "受取拒否": pb.RETURN_REASON_REFUSED,
                  "保管期間経過": pb.RETURN_REASON_HOLD_EXPIRED}
RETURN_REASON_NAMES = names(RETURN_REASONS)
# The seed's chart writes 受取り拒否: accepted as the same reason (what is printed back is the one stored word).
RETURN_REASON_WORDS = {**RETURN_REASONS, "受取り拒否": pb.RETURN_REASON_REFUSED}
FINDINGS = words(pb.Finding)
MOVES = words(pb.MoveKind)
PREFERENCES = words(pb.Preference)
MAIL_ACTIONS = names(words(pb.MailAction))
MAILING_STATUSES = names(words(pb.MailingStatus))
MAILING_KINDS = names(words(pb.MailingKind))
DESTINATIONS = names(words(pb.Destination))
HOUSEHOLDS_PER_REQUEST = 500


def word(table: dict[int, str], number: int) -> str:
    # A value this CLI predates (a newer server): shown, never a crash.
    return table.get(number, "?" if number else "")


def _stub(ch: grpc.aio.Channel) -> pb_grpc.NoticeServiceStub:
    return pb_grpc.NoticeServiceStub(ch)


@click.group()
def notice() -> None:
    """Mailing the 通知カード / 個人番号通知書: lists, 居所, print batches, deliveries, returns, moves."""


@notice.command("submit")
@click.argument("municipality_code")
@click.argument("mailing_list", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def submit(c: Ctx, municipality_code: str, mailing_list: Path) -> None:
    """Send a 送付先情報 file (CSV: household_id,address,postal_code,resident_code,name,birth_date,sex; one line
    per member, a household's lines together).

    A file with malformed lines is refused before anything is sent, each bad line named with its field and rule
    (never its content). Households go in requests of 500; a request the service refuses stops the run, naming
    the file's line, and the requests before it stay stored (a list may simply be sent again)."""
    households: list[HouseholdLines] = []
    errors: list[LineError] = []
    with mailing_list.open("rb") as f:
        for item in parse_mailing_list(f):
            if isinstance(item, LineError):
                errors.append(item)
            else:
                households.append(item)
    if errors:
        for e in errors[:20]:
            err.print(str(e), markup=False, highlight=False, soft_wrap=True)
        more = f" ({len(errors) - 20} more not shown)" if len(errors) > 20 else ""
        raise CliError(f"{mailing_list.name}: {len(errors)} malformed line(s){more}; nothing was sent")
    totals = {"residents": 0, "envelopes": 0, "refused": 0}

    async def call() -> None:
        async with c.channel("notice") as ch:
            stub = _stub(ch)
            with Progress(TextColumn("households"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=err, transient=True) as progress:
                task = progress.add_task("submit", total=len(households))
                for start in range(0, len(households), HOUSEHOLDS_PER_REQUEST):
                    chunk = households[start:start + HOUSEHOLDS_PER_REQUEST]
                    request = pb.SubmitMailingListRequest(municipality_code=municipality_code, households=[
                        pb.Household(household_id=h.household_id, address=h.address, postal_code=h.postal_code,
                                     members=[pb.Member(resident_code=m.resident_code, name=m.name,
                                                        birth_date=m.birth_date, sex=pb.Sex.ValueType(m.sex))
                                              for m in h.members]) for h in chunk])
                    try:
                        r = await stub.SubmitMailingList(request, timeout=c.timeout)
                    except grpc.aio.AioRpcError as e:
                        done = f"; households before line {chunk[0].line} were stored" if start else ""
                        raise CliError(line_of(rpc_error(e).split(": ", 1)[-1], chunk) + done) from None
                    totals["residents"] += r.residents
                    totals["envelopes"] += r.envelopes_prepared
                    totals["refused"] += len(r.refused)
                    for refused in r.refused:
                        member = chunk[refused.household_index].members[refused.member_index]
                        err.print(f"line {member.line}: resident_code: {refused.reason}", markup=False,
                                  highlight=False)
                    progress.advance(task, len(chunk))

    run_call(call)
    click.echo(f"households {len(households)}, residents stored {totals['residents']}, envelopes prepared "
               f"{totals['envelopes']}, refused {totals['refused']}")
    if totals["refused"]:
        raise SystemExit(3)


@notice.command("mailings")
@click.argument("municipality_code")
@click.pass_obj
def mailings(c: Ctx, municipality_code: str) -> None:
    """The municipality's envelopes: id, household, status, kind, destination, items, fee, hold until."""

    async def call() -> list[pb.Mailing]:
        out: list[pb.Mailing] = []
        async with c.channel("notice") as ch:
            token = None
            while token != "":  # every page (ListMailings gives at most 1,000 at a time)
                r = await _stub(ch).ListMailings(pb.ListMailingsRequest(
                    municipality_code=municipality_code, page_token=token or ""), timeout=c.timeout)
                out += r.mailings
                token = r.next_page_token
        return out

    for m in run_call(call):
        hold = m.hold_until.ToDatetime(tzinfo=dt.UTC).date().isoformat() if m.HasField("hold_until") else ""
        reason = f"\t{word(RETURN_REASON_NAMES, m.return_reason)}" if m.return_reason else ""
        click.echo(f"{m.mailing_id}\t{m.household_id}\t{word(MAILING_STATUSES, m.status)}"
                   f"\t{word(MAILING_KINDS, m.kind)}\t{word(DESTINATIONS, m.destination)}\t{m.items} item(s)"
                   f"\t{m.fee_yen} yen" + (f"\thold until {hold}" if hold else "") + reason)


@notice.command("export")
@click.option("--municipality", "municipalities", multiple=True, help="only these municipalities (repeatable)")
@click.option("--pdfs/--no-pdfs", default=True, show_default=True, help="also render the print PDFs")
@click.pass_obj
def export(c: Ctx, municipalities: tuple[str, ...], pdfs: bool) -> None:
    """J-LIS operator: write the print batch of every prepared envelope (and the recall instructions)."""

    async def call() -> pb.ExportPrintBatchResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).ExportPrintBatch(pb.ExportPrintBatchRequest(
                municipality_codes=list(municipalities), with_pdfs=pdfs), timeout=max(c.timeout, 600))

    r = run_call(call)
    click.echo(f"batch {r.batch_id}: {r.envelopes} envelope(s), {r.records} record(s), {r.recalls} recall(s)")
    click.echo(f"file {r.path}\tsha256 {r.sha256}")
    for p in r.pdf_paths:
        click.echo(f"pdf {p}")


@notice.command("print-status")
@click.argument("batch_id")
@click.argument("status", type=click.Choice(list(PRINT_STATUSES)))
@click.pass_obj
def print_status(c: Ctx, batch_id: str, status: str) -> None:
    """Print vendor: the batch was printed, or posted."""

    async def call() -> pb.ReportPrintStatusResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).ReportPrintStatus(pb.ReportPrintStatusRequest(
                batch_id=batch_id, status=PRINT_STATUSES[status]), timeout=c.timeout)

    click.echo(f"{run_call(call).envelopes} envelope(s) {status}")


def _mailing_line(m: pb.Mailing) -> str:
    return (f"{m.mailing_id}\t{word(MAILING_STATUSES, m.status)}\t{word(MAILING_KINDS, m.kind)}"
            f"\t{word(DESTINATIONS, m.destination)}"
            + (f"\t{word(RETURN_REASON_NAMES, m.return_reason)}" if m.return_reason else ""))


@notice.command("delivered")
@click.argument("municipality_code")
@click.argument("mailing_id")
@click.pass_obj
def delivered(c: Ctx, municipality_code: str, mailing_id: str) -> None:
    """The post office delivered the envelope (a recalled one: it came back to the office)."""

    async def call() -> pb.RecordDeliveryResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).RecordDelivery(pb.RecordDeliveryRequest(
                municipality_code=municipality_code, mailing_id=mailing_id, delivered=True), timeout=c.timeout)

    click.echo(_mailing_line(run_call(call).mailing))


@notice.command("returned")
@click.argument("municipality_code")
@click.argument("mailing_id")
@click.option("--reason", type=click.Choice(list(RETURN_REASON_WORDS)), required=True,
              help="the post office's reason (受取り拒否 is 受取拒否)")
@click.pass_obj
def returned(c: Ctx, municipality_code: str, mailing_id: str, reason: str) -> None:
    """The envelope came back undelivered (held at the office for 3 months)."""

    async def call() -> pb.RecordDeliveryResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).RecordDelivery(pb.RecordDeliveryRequest(
                municipality_code=municipality_code, mailing_id=mailing_id, delivered=False,
                return_reason=RETURN_REASON_WORDS[reason]), timeout=c.timeout)

    click.echo(_mailing_line(run_call(call).mailing))


@notice.command("resolve")
@click.argument("municipality_code")
@click.argument("mailing_id")
@click.argument("resident_code")
@click.argument("finding", type=click.Choice(list(FINDINGS)))
@click.option("--preference", type=click.Choice(list(PREFERENCES)),
              help="moved_within: " + " or ".join(PREFERENCES))
@click.option("--new-address", default="", help="moved_within: the new address")
@click.option("--new-postal-code", default="", help="moved_within: the new postal code")
@click.pass_obj
def resolve(c: Ctx, municipality_code: str, mailing_id: str, resident_code: str, finding: str,
            preference: str | None, new_address: str, new_postal_code: str) -> None:
    """What investigating a returned envelope found (the returned-mail chart): prints the steps taken."""

    async def call() -> pb.ResolveReturnedMailResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).ResolveReturnedMail(pb.ResolveReturnedMailRequest(
                municipality_code=municipality_code, mailing_id=mailing_id, resident_code=resident_code,
                finding=FINDINGS[finding], preference=PREFERENCES[preference] if preference else 0,
                new_address=new_address,
                new_postal_code=new_postal_code), timeout=c.timeout)

    r = run_call(call)
    click.echo(" ".join(r.steps) + (f"\tnew envelope {r.new_mailing_id}" if r.new_mailing_id else ""))


@notice.command("expire-returns")
@click.pass_obj
def expire_returns(c: Ctx) -> None:
    """J-LIS operator: returned mail held 3 months becomes 返還登録 and is disposed of (also runs on schedule)."""

    async def call() -> pb.ExpireReturnedMailResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).ExpireReturnedMail(pb.ExpireReturnedMailRequest(), timeout=c.timeout)

    click.echo(f"{run_call(call).disposed} envelope(s) disposed")


@notice.command("move")
@click.argument("municipality_code")
@click.argument("resident_code")
@click.argument("kind", type=click.Choice(list(MOVES)))
@click.option("--new-address", default="", help="the new address")
@click.option("--new-postal-code", default="", help="the new postal code")
@click.option("--new-household-id", default="", help="the new household key")
@click.option("--destination", "destination_municipality_code", default="",
              help="tenshutsu: the 団体コード of the municipality the resident moves to")
@click.option("--preference", type=click.Choice(list(PREFERENCES)),
              help="the resident's wish, where the chart asks: " + " or ".join(PREFERENCES))
@click.option("--former-household-may-receive", is_flag=True,
              help="a former household member may receive an undelivered card at the former address")
@click.pass_obj
def move(c: Ctx, municipality_code: str, resident_code: str, kind: str, new_address: str, new_postal_code: str,
         new_household_id: str, destination_municipality_code: str, preference: str | None,
         former_household_may_receive: bool) -> None:
    """A move after numbering: tenkyo (転居), tenshutsu (転出, by the former municipality), tennyu (転入, by the
    destination the 転出 named)."""

    async def call() -> pb.RecordMoveResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).RecordMove(pb.RecordMoveRequest(
                municipality_code=municipality_code, resident_code=resident_code, kind=MOVES[kind],
                new_address=new_address, new_postal_code=new_postal_code, new_household_id=new_household_id,
                former_household_may_receive=former_household_may_receive,
                preference=PREFERENCES[preference] if preference else 0,
                destination_municipality_code=destination_municipality_code), timeout=c.timeout)

    r = run_call(call)
    click.echo(" ".join(r.steps) + (f"\tnew envelope {r.new_mailing_id}" if r.new_mailing_id else ""))


@notice.command("resend")
@click.argument("municipality_code")
@click.argument("resident_code")
@click.option("--reason", type=click.Choice(list(REISSUE_REASONS)), default=None,
              help="why a card the person had is re-issued: loss, endorsement_space_full (追記欄), issuer_fault "
                   "(the municipality's or J-LIS's mistake: free)")
@click.pass_obj
def resend(c: Ctx, municipality_code: str, resident_code: str, reason: str | None) -> None:
    """Send a resident's card again: resend (free in the free period) or re-issue (the ordinance's fee)."""

    async def call() -> pb.RequestResendResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).RequestResend(pb.RequestResendRequest(
                municipality_code=municipality_code, resident_code=resident_code,
                reason=REISSUE_REASONS[reason] if reason else pb.REISSUE_REASON_UNSPECIFIED), timeout=c.timeout)

    r = run_call(call)
    click.echo(f"{word(MAILING_KINDS, r.kind)}\t{r.fee_yen} yen\tnew envelope {r.new_mailing_id}")


@notice.command("endorse-at-counter")
@click.argument("municipality_code")
@click.argument("resident_code")
@click.pass_obj
def endorse_at_counter(c: Ctx, municipality_code: str, resident_code: str) -> None:
    """来庁時に裏書き: the card the former household received is brought in; endorsed and handed over."""

    async def call() -> pb.EndorseAtCounterResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).EndorseAtCounter(pb.EndorseAtCounterRequest(
                municipality_code=municipality_code, resident_code=resident_code), timeout=c.timeout)

    for step in run_call(call).steps:
        click.echo(step)


@notice.command("old-card-returned")
@click.argument("municipality_code")
@click.argument("mailing_id")
@click.argument("resident_code")
@click.pass_obj
def old_card_returned(c: Ctx, municipality_code: str, mailing_id: str, resident_code: str) -> None:
    """A card superseded by a resend is handed back at the counter: 返還登録 and 廃棄."""

    async def call() -> pb.RecordOldCardReturnedResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).RecordOldCardReturned(pb.RecordOldCardReturnedRequest(
                municipality_code=municipality_code, mailing_id=mailing_id, resident_code=resident_code),
                timeout=c.timeout)

    for step in run_call(call).steps:
        click.echo(step)


@notice.group()
def residence() -> None:
    """居所 of evacuees and DV victims (seed 別紙 1 and 2)."""


@residence.command("register")
@click.argument("municipality_code")
@click.argument("resident_code")
@click.option("--kind", type=click.Choice(sorted(RESIDENCE_KINDS)), required=True, help="evacuee (被災者) or dv")
@click.option("--address", required=True, help="the 居所 address")
@click.option("--postal-code", required=True, help="its 郵便番号")
@click.option("--document", "documents", type=click.Choice(DOCUMENTS), multiple=True,
              help="a document received (repeat): application, identity_copy, address_proof, disaster_proof, "
                   "dv_proof (the first three are required for an application)")
@click.option("--hold-at-office", is_flag=True, help="DV victims: hold the card at the municipal office")
@click.option("--source", type=click.Choice(list(RESIDENCE_SOURCES)), default="application", show_default=True,
              help="application (the person's, with documents), municipal_records (an evacuee's 避難先情報 the "
                   "municipality holds), confirmed_with_person (a DV victim's, confirmed by the municipality)")
@click.option("--sharing-consent", is_flag=True, help="evacuees: consent to share the 避難先情報 (同意欄)")
@click.pass_obj
def residence_register(c: Ctx, municipality_code: str, resident_code: str, kind: str, address: str,
                       postal_code: str, documents: tuple[str, ...], hold_at_office: bool, source: str,
                       sharing_consent: bool) -> None:
    """Register a 居所; says where later mail goes and what happened to mail already on its way."""

    async def call() -> pb.RegisterResidenceResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).RegisterResidence(pb.RegisterResidenceRequest(
                municipality_code=municipality_code, resident_code=resident_code, kind=RESIDENCE_KINDS[kind],
                address=address, postal_code=postal_code, documents=list(documents),
                hold_at_office=hold_at_office, source=RESIDENCE_SOURCES[source],
                sharing_consent=sharing_consent), timeout=c.timeout)

    r = run_call(call)
    click.echo(f"destination {word(DESTINATIONS, r.destination)}\tmail {word(MAIL_ACTIONS, r.mail_action)}")
    for m in r.rerouted_mailing_ids:
        click.echo(f"rerouted {m}")
    for m in r.recalled_mailing_ids:
        click.echo(f"recalled {m}: expect it back at the office")


@residence.command("get")
@click.argument("municipality_code")
@click.argument("resident_code")
@click.pass_obj
def residence_get(c: Ctx, municipality_code: str, resident_code: str) -> None:
    """A resident's 居所 (a DV victim's only to the municipality that registered it)."""

    async def call() -> pb.GetResidenceResponse:
        async with c.channel("notice") as ch:
            return await _stub(ch).GetResidence(pb.GetResidenceRequest(
                municipality_code=municipality_code, resident_code=resident_code), timeout=c.timeout)

    r = run_call(call)
    click.echo(f"{RESIDENCE_KIND_NAMES.get(r.kind, '?')}\t{r.address}" + ("\thold at office" if r.hold_at_office
                                                                         else "")
               + f"\tsource {word(names(RESIDENCE_SOURCES), r.source)}"
               + ("\tsharing consent" if r.sharing_consent else ""))
