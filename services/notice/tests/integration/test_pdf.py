"""The PDF as a person (and a smartphone) reads it: text through pdftotext, the QR code through zbarimg; and as a
print shop does: every font embedded (pdffonts)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from mynumber_runtime.errors import FailedPrecondition
from notice import pdf as pdf_module
from notice import policy
from notice.codes import new_application_id
from notice.export import CardRecord, Envelope
from notice.pdf import FontMissing, render_batch

# The last minute of the 通知カード and the first of the 個人番号通知書 (JST; domain.md §6, NOTICE_CARD_ABOLISHED).
LAST_CARD = dt.datetime(2020, 5, 24, 14, 59, tzinfo=dt.UTC)  # 2020-05-24 23:59 JST
FIRST_LETTER = dt.datetime(2020, 5, 24, 15, 0, tzinfo=dt.UTC)  # 2020-05-25 00:00 JST


def tool(name: str) -> str:
    """A missing tool is a broken setup, never a reason to skip a check: the test fails."""
    path = shutil.which(name)
    assert path is not None, f"{name} is needed (apt-get install poppler-utils zbar-tools; scripts/setup.sh)"
    return path


def test_the_sheet_shows_card_and_form_and_its_qr_code_leads_to_the_application(tmp_path):
    aid = new_application_id()
    env = Envelope("m", "131016", "initial", "address", "1000001", "東京都千代田区千代田1-1", "試験 太郎 様", b"",
                   [CardRecord(aid, "notice_card", "123456789018", "試験 太郎", "東京都千代田区千代田1-1",
                               "1980-04-01", 1)])
    pdf = render_batch(tmp_path / "s.pdf", [env])
    text = subprocess.run([tool("pdftotext"), str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for expected in ("通知カード", "1234 5678 9018", "試験 太郎", "昭和55年4月1日生", "男", "個人番号カード交付申請書",
                     "〒100-0001", "簡易書留", "転送不要"):
        assert expected in text
    subprocess.run([tool("pdftoppm"), "-r", "150", "-png", str(pdf), str(tmp_path / "p")], check=True)
    scanned = subprocess.run([tool("zbarimg"), "-q", str(tmp_path / "p-1.png")], capture_output=True, text=True)
    assert scanned.stdout.strip() == f"QR-Code:MYNA-APPLY:1:{aid}"


def required(name: str) -> str:
    """A tool the print-shop checks cannot do without: missing, the test fails (setup.sh installs poppler-utils)."""
    path = shutil.which(name)
    assert path is not None, f"{name} is needed (apt-get install poppler-utils; scripts/setup.sh installs it)"
    return path


def envelope(document: str, municipality: str = "131016", name: str = "試験 太郎") -> Envelope:
    return Envelope("m", municipality, "initial", "address", "100-0001", "東京都千代田区千代田1-1", f"{name} 様", b"",
                    [CardRecord(new_application_id(), document, "123456789018", name, "東京都千代田区千代田1-1",
                                "1980-04-01", 1)])


def text_of(path: Path) -> str:
    return subprocess.run([required("pdftotext"), str(path), "-"], check=True, capture_output=True, text=True).stdout


def title_of(path: Path) -> str:
    info = subprocess.run([required("pdfinfo"), str(path)], check=True, capture_output=True, text=True).stdout
    return next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Title:"))


def fonts(path: Path) -> list[tuple[str, str]]:
    """(font name, emb) of every row pdffonts lists: columns cut by the dashes of its rule line (a name may hold
    spaces)."""
    out = subprocess.run([required("pdffonts"), str(path)], check=True, capture_output=True, text=True).stdout
    header, rule, *rows = out.splitlines()
    assert header.split()[:6] == ["name", "type", "encoding", "emb", "sub", "uni"] and set(rule) <= {"-", " "}
    spans, start = [], 0
    for dashes in rule.split(" "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 1
    (name_from, name_to), (emb_from, emb_to) = spans[0], spans[3]
    return [(row[name_from:name_to].strip(), row[emb_from:emb_to].strip()) for row in rows]


def test_every_font_of_a_print_batch_is_embedded(tmp_path):
    pdf = render_batch(tmp_path / "b.pdf", [envelope(policy.NOTICE_CARD), envelope(policy.NOTIFICATION_LETTER),
                                            Envelope("r", "271004", "initial", "residence_restricted", "", "", "",
                                                     b"x", [CardRecord("", policy.NOTICE_CARD, "123456789018",
                                                                       "試験 花子", "大阪府大阪市北区1-1",
                                                                       "2001-02-03", 2)])])
    rows = fonts(pdf)
    assert rows, "the PDF names no font at all"
    assert {emb for _, emb in rows} == {"yes"}, rows
    assert {name.split("+", 1)[-1] for name, _ in rows} == {"IPAMincho", "IPAGothic"}, rows


def test_a_missing_font_file_stops_the_pdf_with_one_line_naming_the_file_and_the_package(tmp_path, monkeypatch):
    missing = tmp_path / "ipam.ttf"
    monkeypatch.setitem(pdf_module.FONTS, pdf_module.MINCHO, (missing, "fonts-ipafont-mincho"))
    pdf_module.register_fonts.cache_clear()
    try:
        with pytest.raises(FontMissing) as e:
            render_batch(tmp_path / "b.pdf", [envelope(policy.NOTICE_CARD)])
    finally:
        monkeypatch.undo()
        pdf_module.register_fonts.cache_clear()
    message = str(e.value)
    assert "\n" not in message and str(missing) in message and "apt-get install fonts-ipafont-mincho" in message
    assert not list(tmp_path.glob("b.pdf*"))  # no PDF, no half-written .part


@pytest.mark.parametrize(("numbered_at", "shown", "not_shown"), [
    (LAST_CARD, "通知カード", "個人番号通知書"),
    (FIRST_LETTER, "個人番号通知書", "通知カード"),
])
def test_the_sheet_is_titled_by_what_the_person_is_sent_on_either_side_of_2020_05_25(tmp_path, numbered_at, shown,
                                                                                     not_shown):
    pdf = render_batch(tmp_path / "b.pdf", [envelope(policy.document_for_notice(numbered_at))])
    text = text_of(pdf)
    assert shown in text and not_shown not in text
    assert title_of(pdf) == f"{shown}・個人番号カード交付申請書"


def test_a_batch_holding_both_documents_is_titled_by_both(tmp_path):
    pdf = render_batch(tmp_path / "b.pdf", [envelope(policy.NOTICE_CARD), envelope(policy.NOTIFICATION_LETTER)])
    assert title_of(pdf) == "通知カード・個人番号通知書・個人番号カード交付申請書"


@pytest.mark.parametrize(("municipality", "issuer"), [("131016", "千代田区長"), ("271004", "大阪市長")])
def test_the_issuer_is_the_municipality_s_head(tmp_path, municipality, issuer):
    for document in (policy.NOTICE_CARD, policy.NOTIFICATION_LETTER):
        text = text_of(render_batch(tmp_path / f"{document}.pdf", [envelope(document, municipality)]))
        assert f"発行者 {issuer}" in text and "市区町村長" not in text


def test_a_municipality_without_an_office_is_not_printed(tmp_path):
    with pytest.raises(FailedPrecondition, match=r"^municipality_code: "):
        render_batch(tmp_path / "b.pdf", [envelope(policy.NOTICE_CARD, "131032")])  # 港区: no office on file
    assert not list(tmp_path.glob("b.pdf*"))
