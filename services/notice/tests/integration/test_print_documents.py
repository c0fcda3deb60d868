"""What the print vendor receives through the service (issue 10): the document a person is sent follows the date
they were numbered, on both sides of 2020-05-25 (JST); and notice mails only for a municipality whose head and
office it holds, refusing any other where its mail would start, so nothing is ever prepared that cannot be
printed or addressed."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_runtime.grpc_server import error_reason
from notice.export import read_batch
from notice.offices import RULE_NO_OFFICE

from .conftest import MUNICIPALITY, OPERATOR, START, new_code
from .test_pdf import fonts

LAST_CARD = dt.datetime(2020, 5, 24, 14, 59, tzinfo=dt.UTC)  # 2020-05-24 23:59 JST
FIRST_LETTER = dt.datetime(2020, 5, 24, 15, 0, tzinfo=dt.UTC)  # 2020-05-25 00:00 JST
NO_OFFICE = "131032"  # 港区: a real municipality notice holds no office for (notice/data/municipal_offices.csv)


def pdf_text(path: str) -> str:
    tool = shutil.which("pdftotext")
    assert tool is not None, "pdftotext is needed (apt-get install poppler-utils)"
    return subprocess.run([tool, path, "-"], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize(("numbered_at", "document", "kind", "shown", "not_shown"), [
    (LAST_CARD, "notice_card", "initial", "通知カード", "個人番号通知書"),
    (FIRST_LETTER, "notification_letter", "notification_letter", "個人番号通知書", "通知カード"),
])
async def test_the_printed_document_follows_the_day_the_notice_was_made_on_either_side_of_2020_05_25(
        notice, numbered_at, document, kind, shown, not_shown):
    notice.clock.set(numbered_at)  # numbered and prepared that instant
    hid, _people = await notice.household(1, at=numbered_at)
    notice.clock.set(FIRST_LETTER + dt.timedelta(days=1))  # the export day is not what decides
    batch = await notice.stub(OPERATOR).ExportPrintBatch(pb.ExportPrintBatchRequest(
        municipality_codes=[MUNICIPALITY], with_pdfs=True))
    records = read_batch(Path(batch.path))
    (m,) = [m for m in await notice.mailings() if m.household_id == hid]
    (env,) = [r for r in records if r[0] == "ENV" and r[1] == m.mailing_id]
    (crd,) = [r for r in records if r[0] == "CRD" and r[1] == m.mailing_id]
    assert (env[3], crd[3]) == (kind, document)
    text = pdf_text(batch.pdf_paths[0])
    assert shown in text and not_shown not in text and "発行者 千代田区長" in text
    assert {emb for _, emb in fonts(Path(batch.pdf_paths[0]))} == {"yes"}  # what the print shop receives


async def test_a_mailing_list_of_a_municipality_without_an_office_is_refused_and_nothing_is_stored(notice):
    notice.clock.set(START)
    stub = notice.stub(f"municipality:{NO_OFFICE}")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.SubmitMailingList(pb.SubmitMailingListRequest(municipality_code=NO_OFFICE, households=[
            pb.Household(household_id="H" + secrets.token_hex(6), address="東京都港区芝公園1-5-25",
                         postal_code="1058511", members=[pb.Member(
                             resident_code=new_code(), name="試験 港", birth_date="1980-04-01", sex=pb.SEX_MALE)])]))
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(e.value) == "NO_MUNICIPAL_OFFICE"
    assert e.value.details() == f"municipality_code: {RULE_NO_OFFICE}"
    assert not (await stub.ListMailings(pb.ListMailingsRequest(municipality_code=NO_OFFICE))).mailings


async def test_a_move_out_to_a_municipality_without_an_office_is_kept_and_its_move_in_refused(notice):
    notice.clock.set(START)
    hid, (p,) = await notice.household(1)
    out = await notice.stub().RecordMove(pb.RecordMoveRequest(
        municipality_code=MUNICIPALITY, resident_code=p.resident_code, kind=pb.MOVE_KIND_TENSHUTSU,
        destination_municipality_code=NO_OFFICE))
    assert list(out.steps) == ["tenshutsu_recorded"]  # the 転出 mails nothing: recorded whatever the 転入先
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await notice.stub(f"municipality:{NO_OFFICE}").RecordMove(pb.RecordMoveRequest(
            municipality_code=NO_OFFICE, resident_code=p.resident_code, kind=pb.MOVE_KIND_TENNYU,
            new_address="東京都港区芝公園1-5-25", new_postal_code="1058511", new_household_id="HM" + hid))
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(e.value) == "NO_MUNICIPAL_OFFICE" and e.value.details().startswith("municipality_code: ")
    # Nothing lost: the resident and their envelope stay with the former municipality until the office is added.
    assert [m.household_id for m in await notice.mailings() if m.household_id == hid] == [hid]

