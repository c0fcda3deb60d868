"""`mynumber notice ...` run as a clerk, the print vendor and the J-LIS operator would: the console script, mTLS
with each one's certificate, against the notice service; a mailing from the file to the returned envelope."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_runtime.testing.identities import credentials

from .conftest import MUNICIPALITY, OPERATOR, START, Person, Running, new_code, new_number

MYNUMBER = Path(sys.executable).parent / "mynumber"
CLERK = f"municipality:{MUNICIPALITY}"


async def mynumber(notice: Running, *args: str, identity: str = CLERK) -> subprocess.CompletedProcess[str]:
    c = credentials(identity)
    env = dict(os.environ, MYNUMBER_NOTICE_TARGET=notice.target)
    return await asyncio.to_thread(
        subprocess.run, [str(MYNUMBER), "--tls-ca", str(c.ca_file), "--tls-cert", str(c.cert_file), "--tls-key",
                         str(c.key_file), "notice", *args], capture_output=True, text=True, timeout=120, env=env)


def ok(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    errors = [x for x in done.stderr.splitlines() if x.startswith("error ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def mailing_file(path: Path, people: list[Person], households: list[str]) -> Path:
    """A spreadsheet export: BOM, header, one line per member; the households in order."""
    lines = ["household_id,address,postal_code,resident_code,name,birth_date,sex"]
    for hid, p in zip(households, people, strict=True):
        lines.append(f"{hid},東京都千代田区千代田1-1,1000001,{p.resident_code},{p.name},1980-04-01,1")
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    return path


async def test_a_mailing_from_the_file_to_the_returned_envelope(notice: Running, tmp_path: Path) -> None:
    people = [Person(new_code(), new_number(), f"試験 花子{i}") for i in range(3)]
    households = ["HCLI1", "HCLI1", "HCLI2"]
    submitted = ok(await mynumber(notice, "submit", MUNICIPALITY, str(mailing_file(tmp_path / "list.csv", people,
                                                                                   households))))
    assert submitted == ["households 2, residents stored 3, envelopes prepared 0, refused 0"]
    await notice.assign(MUNICIPALITY, people)
    await notice.wait_mailing("HCLI1")
    single = await notice.wait_mailing("HCLI2")
    listed = {x.split("\t")[1]: x.split("\t") for x in ok(await mynumber(notice, "mailings", MUNICIPALITY))}
    assert listed["HCLI1"][2] == "prepared" and listed["HCLI1"][5] == "2 item(s)"
    # The operator writes the batch; the vendor reports it printed and posted.
    batch = ok(await mynumber(notice, "export", "--municipality", MUNICIPALITY, "--no-pdfs", identity=OPERATOR))
    batch_id = batch[0].split()[1].rstrip(":")
    # A record per envelope and per document in it: 2 + 3.
    assert batch[0].endswith("2 envelope(s), 5 record(s), 0 recall(s)") and batch[1].startswith("file ")
    for status in ("printed", "posted"):
        assert ok(await mynumber(notice, "print-status", batch_id, status, identity=OPERATOR)) == [
            f"2 envelope(s) {status}"]
    # The post office brings one back; the clerk finds the resident at the counter.
    # The seed's spelling 受取り拒否 is the post's 受取拒否: one reason, printed back as stored.
    back = ok(await mynumber(notice, "returned", MUNICIPALITY, single.mailing_id, "--reason", "受取り拒否"))
    assert back[0].split("\t")[:2] == [single.mailing_id, "returned"] and back[0].endswith("\t受取拒否")
    steps = ok(await mynumber(notice, "resolve", MUNICIPALITY, single.mailing_id, people[2].resident_code,
                              "collected_at_counter"))
    assert steps == ["handed_over"]
    after = {x.split("\t")[0]: x.split("\t")[2] for x in ok(await mynumber(notice, "mailings", MUNICIPALITY))}
    assert after[single.mailing_id] == "resolved"


async def test_a_residence_is_registered_and_read_back(notice: Running) -> None:
    _, people = await notice.household(1)
    code = people[0].resident_code
    registered = ok(await mynumber(notice, "residence", "register", MUNICIPALITY, code, "--kind", "evacuee",
                                   "--address", "宮城県仙台市青葉区国分町3-7-1", "--postal-code", "9808671",
                                   "--document", "application", "--document", "identity_copy",
                                   "--document", "address_proof"))
    assert registered[0] == "destination residence\tmail rerouted"
    assert ok(await mynumber(notice, "residence", "get", MUNICIPALITY, code)) == [
        "evacuee\t宮城県仙台市青葉区国分町3-7-1\tsource application"]
    # 別紙 1 (2): the 避難先情報 the municipality holds, no documents; the evacuee consented to share it (同意欄).
    ok(await mynumber(notice, "residence", "register", MUNICIPALITY, code, "--kind", "evacuee",
                      "--address", "宮城県仙台市青葉区国分町3-7-1", "--postal-code", "9808671",
                      "--source", "municipal_records", "--sharing-consent"))
    assert ok(await mynumber(notice, "residence", "get", MUNICIPALITY, code)) == [
        "evacuee\t宮城県仙台市青葉区国分町3-7-1\tsource municipal_records\tsharing consent"]
    other = await mynumber(notice, "residence", "get", MUNICIPALITY, code, identity="municipality:271004")
    assert one_line_error(other).startswith("error ")


async def test_a_bad_file_is_refused_per_line_and_a_refused_field_is_named_by_its_line(
        notice: Running, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"H1,addr,1000001,12345678903,name,1980-04-01,1\nH1,other,1000001,12345678903,n,1980-04-01,2\n"
                    b"H2,addr,1000001,1234\xff5678903,n,1980-04-01,1\nH3,addr,1000001,1,n,1980-04-01,9\n")
    refused = await mynumber(notice, "submit", MUNICIPALITY, str(bad))
    assert one_line_error(refused) == "error bad.csv: 3 malformed line(s); nothing was sent"
    assert "line 2: address: a household has one address" in refused.stderr
    assert "line 3: line: not valid UTF-8" in refused.stderr and "line 4: sex: " in refused.stderr
    # Well-formed lines whose 住民票コード the service refuses (a wrong check digit on line 3).
    good, wrong = new_code(), new_code()
    wrong = wrong[:10] + str((int(wrong[10]) + 1) % 10)
    lines = tmp_path / "wrong.csv"
    lines.write_text(f"H9,東京都千代田区千代田1-1,1000001,{good},試験 一郎,1980-04-01,1\n"
                     f"H9,東京都千代田区千代田1-1,1000001,{new_code()},試験 二郎,1980-04-01,1\n"
                     f"H10,東京都千代田区千代田1-1,1000001,{wrong},試験 三郎,1980-04-01,2\n")
    message = one_line_error(await mynumber(notice, "submit", MUNICIPALITY, str(lines)))
    assert message.startswith("error line 3: resident_code: ") and wrong not in message


async def test_delivery_a_move_the_three_month_expiry_and_a_reissue_from_the_command_line(notice: Running) -> None:
    home, (moving,) = await notice.household(1)
    away, (absent,) = await notice.household(1)
    batch = ok(await mynumber(notice, "export", "--municipality", MUNICIPALITY, "--no-pdfs", identity=OPERATOR))
    batch_id = batch[0].split()[1].rstrip(":")
    for status in ("printed", "posted"):
        ok(await mynumber(notice, "print-status", batch_id, status, identity=OPERATOR))
    by_household = {m.household_id: m.mailing_id for m in await notice.mailings(MUNICIPALITY)}
    delivered = ok(await mynumber(notice, "delivered", MUNICIPALITY, by_household[home]))
    assert delivered[0].split("\t")[:2] == [by_household[home], "delivered"]
    moved = ok(await mynumber(notice, "move", MUNICIPALITY, moving.resident_code, "tenkyo", "--new-address",
                              "東京都千代田区丸の内1-9-1", "--new-postal-code", "1000005",
                              "--new-household-id", "HMOVED1"))
    assert moved == ["endorsed"]  # 転居 after delivery: the card is endorsed at the counter (裏書)
    ok(await mynumber(notice, "returned", MUNICIPALITY, by_household[away], "--reason", "あて所なし"))
    # Nothing is due before the 3 months are up; the day after, the held card is 返還登録 and disposed of.
    assert ok(await mynumber(notice, "expire-returns", identity=OPERATOR)) == ["0 envelope(s) disposed"]
    notice.clock.advance(dt.timedelta(days=93))
    assert ok(await mynumber(notice, "expire-returns", identity=OPERATOR)) == ["1 envelope(s) disposed"]
    # After the free period (2016-01-01) and the hold: a 再交付 at 500 yen, in a new envelope.
    again = ok(await mynumber(notice, "resend", MUNICIPALITY, absent.resident_code))
    assert again[0].split("\t")[:2] == ["reissue", "500 yen"] and again[0].split("\t")[2].startswith("new envelope ")
    refused = await mynumber(notice, "expire-returns")  # a clerk is not the J-LIS operator
    assert one_line_error(refused).startswith("error PERMISSION_DENIED")


async def test_来庁時に裏書き_and_the_old_card_handed_back_at_the_counter(notice: Running) -> None:
    # Chart ① 受理する可能性あり: その者から入手の上、来庁時に裏書きの上交付, and 通知カードを再送するとともにその者
    # から入手の上返還を促す (the old card handed back: 返還登録, 廃棄), from the clerk's command line.
    notice.clock.set(START)
    stub = notice.stub()
    (a_env, (a,)), (b_env, (b,)) = [await notice.posted_household(1) for _ in range(2)]
    for person, preference in ((a, pb.PREFERENCE_ENDORSE), (b, pb.PREFERENCE_NEW_ISSUE)):
        await stub.RecordMove(pb.RecordMoveRequest(
            municipality_code=MUNICIPALITY, resident_code=person.resident_code, kind=pb.MOVE_KIND_TENKYO,
            new_address="東京都千代田区神田2-2", new_postal_code="1010047",
            new_household_id="HC" + person.resident_code,
            former_household_may_receive=True, preference=preference))
    for env in (a_env, b_env):
        await stub.RecordDelivery(pb.RecordDeliveryRequest(municipality_code=MUNICIPALITY, mailing_id=env.mailing_id,
                                                           delivered=True))
    assert ok(await mynumber(notice, "endorse-at-counter", MUNICIPALITY, a.resident_code)) == ["endorsed",
                                                                                                 "handed_over"]
    assert ok(await mynumber(notice, "old-card-returned", MUNICIPALITY, b_env.mailing_id, b.resident_code)) == [
        "return_registered", "disposed"]
    again = await mynumber(notice, "old-card-returned", MUNICIPALITY, b_env.mailing_id, b.resident_code)
    assert again.returncode != 0 and "ALREADY_RETURNED" in again.stderr + again.stdout
    assert b.resident_code not in again.stderr + again.stdout  # no personal data in the refusal
