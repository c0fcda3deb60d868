"""PDFs a person would recognise: per person one A4 sheet, the 通知カード on top and the 個人番号カード交付申請書
below it on the same sheet (domain.md §6), with the envelope's address label for the first member."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from notice.codes import grouped_number, qr_payload
from notice.export import SEX, Envelope, private_file

MINCHO, GOTHIC = "HeiseiMin-W3", "HeiseiKakuGo-W5"
_registered = False



def _postal(code: str) -> str:
    """〒NNN-NNNN: the list's canonical form (NNN-NNNN), or 7 digits from before it was canonical."""
    if not code:
        return ""
    return f"〒{code}" if "-" in code else f"〒{code[:3]}-{code[3:]}"

def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))
        pdfmetrics.registerFont(UnicodeCIDFont(GOTHIC))
        _registered = True


# The first day of each era, newest first.
ERAS = ((dt.date(2019, 5, 1), "令和"), (dt.date(1989, 1, 8), "平成"), (dt.date(1926, 12, 25), "昭和"),
        (dt.date(1912, 7, 30), "大正"))


def _wareki(iso: str) -> str:
    born = dt.date.fromisoformat(iso)
    for first, name in ERAS:
        if born >= first:
            n = born.year - first.year + 1
            return f"{name}{'元' if n == 1 else n}年{born.month}月{born.day}日生"
    return f"{born.year}年{born.month}月{born.day}日生"


def _qr(c: Canvas, payload: str, x: float, y: float, size: float) -> None:
    """The QR code drawn as one path. One fixed mask pattern (0) instead of trying all eight: any mask gives a
    valid code, and mask selection was 30 % of a page's rendering time (bench/notice)."""
    qr = QRCode(None, QRErrorCorrectLevel.M)
    qr.addData(payload)
    qr.version = qr.calculate_version()
    qr.makeImpl(False, 0)
    n = qr.getModuleCount()
    cell = size / (n + 8)  # 4-module quiet zone each side
    path = c.beginPath()
    for row in range(n):
        for col in range(n):
            if qr.modules[row][col]:
                path.rect(x + (col + 4) * cell, y + size - (row + 5) * cell, cell, cell)
    c.drawPath(path, stroke=0, fill=1)


def _page(c: Canvas, e: Envelope, seq: int) -> None:
    card = e.cards[seq]
    w, h = A4
    # Address label (window envelope): 簡易書留・転送不要.
    c.setFont(GOTHIC, 9)
    c.drawString(20 * mm, h - 15 * mm, "簡易書留　転送不要　　地方公共団体情報システム機構（J-LIS）")
    c.setFont(MINCHO, 11)
    if e.destination == "residence_restricted":
        c.drawString(25 * mm, h - 25 * mm, "（宛名は別添の封緘ラベルにより印字）")
    else:
        c.drawString(25 * mm, h - 25 * mm, _postal(e.postal_code))
        c.drawString(25 * mm, h - 31 * mm, e.address)
        c.setFont(MINCHO, 13)
        c.drawString(25 * mm, h - 38 * mm, e.addressee)
    # The 通知カード: 85.6 x 54 mm, pale green like the real one.
    x0, y0, cw, ch = 20 * mm, h - 115 * mm, 85.6 * mm, 54 * mm
    c.setFillColorRGB(0.88, 0.96, 0.90)
    c.roundRect(x0, y0, cw, ch, 3 * mm, stroke=1, fill=1)
    c.setFillColorRGB(0, 0, 0)
    title = "個人番号通知書" if card.document == "notification_letter" else "通知カード"
    c.setFont(GOTHIC, 10)
    c.drawString(x0 + 4 * mm, y0 + ch - 7 * mm, title)
    c.setFont(GOTHIC, 7)
    c.drawString(x0 + 4 * mm, y0 + ch - 13 * mm, "個人番号")
    c.setFont(GOTHIC, 14)
    c.drawString(x0 + 4 * mm, y0 + ch - 20 * mm, grouped_number(card.number))
    c.setFont(MINCHO, 7)
    c.drawString(x0 + 4 * mm, y0 + ch - 27 * mm, "氏名")
    c.setFont(MINCHO, 11)
    c.drawString(x0 + 12 * mm, y0 + ch - 27 * mm, card.name)
    c.setFont(MINCHO, 7)
    c.drawString(x0 + 4 * mm, y0 + ch - 34 * mm, "住所")
    c.drawString(x0 + 12 * mm, y0 + ch - 34 * mm, card.address[:40])
    c.drawString(x0 + 4 * mm, y0 + ch - 41 * mm, _wareki(card.birth_date))
    c.drawString(x0 + 50 * mm, y0 + ch - 41 * mm, SEX.get(card.sex, ""))
    c.setFont(MINCHO, 6)
    c.drawString(x0 + 4 * mm, y0 + 4 * mm, f"団体コード {e.municipality_code}　発行者 市区町村長")
    # Perforation between card and form.
    c.setDash(2, 2)
    c.line(10 * mm, h - 125 * mm, w - 10 * mm, h - 125 * mm)
    c.setDash()
    # The 交付申請書.
    c.setFont(GOTHIC, 12)
    c.drawString(20 * mm, h - 140 * mm, "個人番号カード交付申請書　兼　電子証明書発行申請書")
    if card.application_id:
        c.setFont(GOTHIC, 9)
        aid = card.application_id
        c.drawString(20 * mm, h - 150 * mm, f"申請書ID　{aid[:4]} {aid[4:8]} {aid[8:12]} {aid[12:16]} {aid[16:20]} "
                                             f"{aid[20:]}")
        _qr(c, qr_payload(aid), w - 55 * mm, h - 185 * mm, 30 * mm)
    else:
        c.setFont(GOTHIC, 9)
        c.drawString(20 * mm, h - 150 * mm, "（申請書なし：通知カードのみの再送）")
    c.setFont(MINCHO, 10)
    c.drawString(20 * mm, h - 162 * mm, f"氏名　{card.name}")
    c.drawString(20 * mm, h - 170 * mm, f"住所　{card.address[:36]}")
    c.drawString(20 * mm, h - 178 * mm, _wareki(card.birth_date) + f"　{SEX.get(card.sex, '')}")
    c.rect(20 * mm, h - 235 * mm, 35 * mm, 45 * mm)
    c.setFont(MINCHO, 8)
    c.drawString(24 * mm, h - 213 * mm, "写真（縦4.5×横3.5cm）")
    c.drawString(70 * mm, h - 200 * mm, "申請日　　　年　　月　　日")
    c.drawString(70 * mm, h - 212 * mm, "署名又は記名押印　＿＿＿＿＿＿＿＿＿＿＿＿")
    c.drawString(20 * mm, 15 * mm,
                 "地方公共団体情報システム機構　個人番号カード交付申請書（記入例は同封の説明書をご覧ください）")


class PdfBatch:
    """One PDF for a batch, envelopes added in chunks."""

    def __init__(self, path: Path) -> None:
        _fonts()
        self.path = path
        self._tmp = path.with_name(path.name + ".part")
        self._f = private_file(self._tmp)
        self._c = Canvas(self._f, pagesize=A4, pageCompression=1)
        self._c.setTitle("通知カード・個人番号カード交付申請書")

    def add(self, envelopes: Sequence[Envelope]) -> None:
        for e in envelopes:
            for seq in range(len(e.cards)):
                _page(self._c, e, seq)
                self._c.showPage()

    def finish(self) -> None:
        """Write the file; it stays `.part` until publish()."""
        self._c.save()
        self._f.close()

    def publish(self) -> Path:
        self._tmp.replace(self.path)
        return self.path

    def close(self) -> Path:
        self.finish()
        return self.publish()

    def abort(self) -> None:
        self._f.close()
        self._tmp.unlink(missing_ok=True)


def render_batch(path: Path, envelopes: Sequence[Envelope]) -> Path:
    pdf = PdfBatch(path)
    pdf.add(envelopes)
    return pdf.close()
