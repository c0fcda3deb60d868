"""`mynumber`: talks to the platform's services over gRPC, always mTLS: with the operator's own certificate
(`--tls-ca/--tls-cert/--tls-key`), or on a local run as the identity named by `--as` (a certificate from the local
dev CA that `make run` made in the data folder). Numbers printed here go to the operator's own terminal, never to a
log."""

from __future__ import annotations

import asyncio
import csv
import os
import random
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import click
from mynumber.numbering.v1 import numbering_pb2 as pb
from mynumber.numbering.v1 import numbering_pb2_grpc as pb_grpc
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from mynumber_cli import issuance_cmds, jpki_cmds, notice_cmds, status
from mynumber_cli.base import CliError, Ctx, OneLineErrors, default_data_dir, default_target, err, run_call
from mynumber_cli.register_file import Row, check_register, parse_register

REASONS = {"on-request": pb.CHANGE_REASON_LEAKED_ON_REQUEST, "ex-officio": pb.CHANGE_REASON_LEAKED_EX_OFFICIO}


@click.group(cls=OneLineErrors)
@click.option("--target", envvar="MYNUMBER_NUMBERING_TARGET", default=default_target,
              show_default="127.0.0.1:50051 + MYNUMBER_PORT_OFFSET",
              help="numbering service address (notice, jpki, issuance: MYNUMBER_NOTICE_TARGET, MYNUMBER_JPKI_TARGET, "
                   "MYNUMBER_ISSUANCE_TARGET, else the same offset)")
@click.option("--as", "identity", envvar="MYNUMBER_AS", metavar="KIND:ID",
              help="act as this identity on a local run (e.g. municipality:131016): a client certificate from the "
                   "local dev CA of the data folder")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=default_data_dir,
              show_default="MYNUMBER_DATA_DIR, else the checkout's var", help="`make run`'s data folder (for --as)")
@click.option("--tls-ca", type=click.Path(path_type=Path), envvar="MYNUMBER_TLS_CA",
              help="the platform's CA certificate (PEM), to use your own certificate instead of --as")
@click.option("--tls-cert", type=click.Path(path_type=Path), envvar="MYNUMBER_TLS_CERT",
              help="your client certificate (PEM): its identity is who you act as")
@click.option("--tls-key", type=click.Path(path_type=Path), envvar="MYNUMBER_TLS_KEY",
              help="the key of --tls-cert (PEM)")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="deadline of one call, seconds")
@click.pass_context
def cli(ctx: click.Context, target: str, identity: str | None, data_dir: Path, tls_ca: Path | None,
        tls_cert: Path | None, tls_key: Path | None, timeout: float) -> None:
    """Operate the My Number platform."""
    ctx.obj = Ctx(target, identity, data_dir, tls_ca, tls_cert, tls_key, timeout)


@cli.command()
@click.argument("municipality_code")
@click.argument("resident_code")
@click.pass_obj
def assign(c: Ctx, municipality_code: str, resident_code: str) -> None:
    """Give a resident their 個人番号 (idempotent)."""

    async def call() -> pb.AssignNumberResponse:
        async with c.channel() as ch:
            return await pb_grpc.NumberingServiceStub(ch).AssignNumber(
                pb.AssignNumberRequest(municipality_code=municipality_code, resident_code=resident_code),
                timeout=c.timeout)

    r = run_call(call)
    click.echo(f"{r.individual_number}\t{'assigned' if r.newly_assigned else 'already assigned'}")


def _rows(path: Path) -> Iterator[Row]:
    """The rows of a register already checked by check_register (so every item is a Row)."""
    with path.open("rb") as f:
        for item in parse_register(f):
            if isinstance(item, Row):
                yield item


@cli.command("bulk-assign")
@click.argument("register", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write line,number,status,reason CSV")
@click.option("--chunk", type=int, default=5000, show_default=True, help="residents per stream message")
@click.pass_obj
def bulk_assign(c: Ctx, register: Path, out: Path | None, chunk: int) -> None:
    """Number a whole register (CSV: municipality_code,resident_code) through the bulk stream, with progress.

    A file with malformed lines is refused before anything is sent, each bad line named with its field and rule
    (never its content): numbering is idempotent, so the fixed file can simply be sent again."""
    with register.open("rb") as f:
        checked = check_register(f)
    if checked.error_count:
        for e in checked.errors:
            err.print(str(e), markup=False, highlight=False, soft_wrap=True)
        more = checked.error_count - len(checked.errors)
        raise CliError(f"{register.name}: {checked.error_count} malformed line(s)"
                       + (f" ({more} more not shown)" if more else "") + "; nothing was sent")
    total = checked.rows
    lines: list[int] = []

    async def requests() -> AsyncIterator[pb.AssignNumbersRequest]:
        # A chunk holds one municipality's residents: cut at the chunk size or where the municipality changes.
        municipality, batch = "", list[str]()
        for row in _rows(register):
            if batch and (row.municipality_code != municipality or len(batch) == chunk):
                yield pb.AssignNumbersRequest(municipality_code=municipality, resident_codes=batch)
                batch = []
            municipality = row.municipality_code
            lines.append(row.line)
            batch.append(row.resident_code)
        if batch:
            yield pb.AssignNumbersRequest(municipality_code=municipality, resident_codes=batch)

    async def call() -> pb.BulkProgress:
        progress_bar = Progress(TextColumn("[bold]numbering"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]:>8} /s"), TimeElapsedColumn(), TimeRemainingColumn(),
                                console=err)
        sink = out.open("w", newline="", encoding="utf-8") if out else None
        writer = csv.writer(sink) if sink else None
        if writer:
            writer.writerow(["line", "individual_number", "status", "reason", "field", "message"])
        last = pb.BulkProgress()
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with c.channel() as ch:
                with progress_bar:
                    task = progress_bar.add_task("numbering", total=total, rate="-")
                    async for resp in pb_grpc.NumberingServiceStub(ch).AssignNumbers(requests()):
                        last = resp.progress
                        errors = {e.index: e for e in resp.errors}
                        if writer:
                            for k, (number, new) in enumerate(zip(resp.individual_numbers, resp.newly_assigned,
                                                                  strict=True)):
                                index = resp.first_index + k
                                if (e := errors.get(index)) is not None:
                                    writer.writerow([lines[index], "", "refused", e.reason, e.field, e.message])
                                else:
                                    writer.writerow([lines[index], number, "assigned" if new else "already", "",
                                                     "", ""])
                        else:
                            for e in resp.errors:
                                err.print(f"line {lines[e.index]}: {e.reason} {e.field}: {e.message}")
                        rate = last.received / max(loop.time() - started, 1e-9)
                        progress_bar.update(task, completed=last.received, rate=f"{rate:,.0f}")
        finally:
            if sink:
                sink.close()
        return last

    p = run_call(call)
    click.echo(f"received {p.received}, assigned {p.assigned}, already assigned {p.already_assigned}, "
               f"refused {p.failed}")
    if p.failed:
        sys.exit(3)


@cli.command()
@click.argument("municipality_code")
@click.argument("resident_code")
@click.option("--history", is_flag=True, help="list every number the person has held")
@click.option("--same-prefecture-case", "case", metavar="CASE",
              help="住基法 第30条の10: ask for a person of another municipality of your prefecture, for this case "
                   "reference (1-32 of A-Z, a-z, 0-9, '-'; recorded in the person's access log)")
@click.pass_obj
def lookup(c: Ctx, municipality_code: str, resident_code: str, history: bool, case: str | None) -> None:
    """Show a resident's current number (or history). MUNICIPALITY_CODE is your own municipality's."""
    if case is not None and history:
        raise click.UsageError("--history is for your own residents only, not with --same-prefecture-case")

    async def call() -> Any:
        async with c.channel() as ch:
            stub = pb_grpc.NumberingServiceStub(ch)
            if history:
                return await stub.ListNumberHistory(pb.ListNumberHistoryRequest(
                    municipality_code=municipality_code, resident_code=resident_code), timeout=c.timeout)
            basis = pb.LOOKUP_BASIS_SAME_PREFECTURE if case is not None else pb.LOOKUP_BASIS_OWN_REGISTER
            return await stub.LookupNumber(pb.LookupNumberRequest(
                municipality_code=municipality_code, resident_code=resident_code, basis=basis,
                case_reference=case or ""), timeout=c.timeout)

    r = run_call(call)
    if history:
        for rec in r.records:
            status = pb.NumberStatus.Name(rec.status).removeprefix("NUMBER_STATUS_").lower()
            retired = rec.retired_at.ToDatetime().isoformat() if rec.HasField("retired_at") else ""
            click.echo(f"{rec.individual_number}\t{status}\tissued {rec.issued_at.ToDatetime().isoformat()}"
                       + (f"\tretired {retired}" if retired else ""))
    else:
        click.echo(f"{r.individual_number}\tissued {r.assigned_at.ToDatetime().isoformat()}")


@cli.command("change-number")
@click.argument("municipality_code")
@click.argument("resident_code")
@click.option("--reason", type=click.Choice(sorted(REASONS)), required=True,
              help="番号法 第7条2項: leaked, on request (請求) or ex officio (職権)")
@click.option("--detail", default="", help="case reference for the record (no personal data)")
@click.pass_obj
def change_number(c: Ctx, municipality_code: str, resident_code: str, reason: str, detail: str) -> None:
    """Replace a leaked number; the old one is retired for good."""

    async def call() -> pb.ChangeNumberResponse:
        async with c.channel() as ch:
            return await pb_grpc.NumberingServiceStub(ch).ChangeNumber(pb.ChangeNumberRequest(
                municipality_code=municipality_code, resident_code=resident_code, reason=REASONS[reason],
                reason_detail=detail), timeout=c.timeout)

    click.echo(run_call(call).individual_number)


@cli.command("change-resident-code")
@click.argument("municipality_code")
@click.argument("old_resident_code")
@click.argument("new_resident_code")
@click.pass_obj
def change_resident_code(c: Ctx, municipality_code: str, old_resident_code: str, new_resident_code: str) -> None:
    """Record a new 住民票コード; the person keeps their number."""

    async def call() -> pb.ChangeResidentCodeResponse:
        async with c.channel() as ch:
            return await pb_grpc.NumberingServiceStub(ch).ChangeResidentCode(pb.ChangeResidentCodeRequest(
                municipality_code=municipality_code, old_resident_code=old_resident_code,
                new_resident_code=new_resident_code), timeout=c.timeout)

    click.echo(f"{run_call(call).individual_number}\tkept")


@cli.command("sector-code")
@click.argument("agency_code")
@click.argument("individual_number")
@click.pass_obj
def sector_code(c: Ctx, agency_code: str, individual_number: str) -> None:
    """Issue the 符号 of a number for an information-linkage agency."""

    async def call() -> pb.IssueSectorCodeResponse:
        async with c.channel() as ch:
            return await pb_grpc.SectorCodeServiceStub(ch).IssueSectorCode(pb.IssueSectorCodeRequest(
                agency_code=agency_code, individual_number=individual_number), timeout=c.timeout)

    click.echo(run_call(call).sector_code)


@cli.command("synth-register")
@click.argument("municipality_code")
@click.option("--count", type=int, default=1000, show_default=True, help="how many residents")
@click.option("--seed", type=int, default=None, help="reproducible output")
def synth_register(municipality_code: str, count: int, seed: int | None) -> None:
    """Print a synthetic register (CSV) of valid, distinct 住民票コード for trying things out."""
    from mynumber_cli.synthetic import resident_codes

    rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(8), "big"))
    out = csv.writer(sys.stdout)
    out.writerow(["municipality_code", "resident_code"])
    for code in resident_codes(rng, count):
        out.writerow([municipality_code, code])




@cli.group("numbering")
def numbering_group() -> None:
    """付番: the numbering service's commands (also available at the top level, as `mynumber assign ...`)."""


for _command in (assign, bulk_assign, lookup, change_number, change_resident_code, sector_code, synth_register):
    numbering_group.add_command(_command)
cli.add_command(jpki_cmds.jpki)
cli.add_command(notice_cmds.notice)
cli.add_command(issuance_cmds.issuance)
cli.add_command(status.status)


@cli.command("dev-cert")
@click.pass_obj
def dev_cert(c: Ctx) -> None:
    """Print where the local dev CA's certificate for --as is (made if missing): for curl and other HTTPS clients of
    the gateway (docs/gateway.md). Three lines: CA, certificate, key."""
    creds = c.credentials()
    click.echo(f"{creds.ca_file}\n{creds.cert_file}\n{creds.key_file}")
