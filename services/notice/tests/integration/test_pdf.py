"""The PDF as a person (and a smartphone) reads it: text through pdftotext, the QR code through zbarimg."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from notice.codes import new_application_id
from notice.export import CardRecord, Envelope
from notice.pdf import render_batch


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is needed (apt poppler-utils / zbar-tools)")
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
