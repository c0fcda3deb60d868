"""PDFs a person would recognise and a print shop accepts: per person one A4 sheet, the 通知カード (numbered before
2020-05-25) or the 個人番号通知書 (from then on) on top and the 個人番号カード交付申請書 below it on the same sheet
(domain.md §6), with the envelope's address label; issued by the municipality's head (notice.offices). Every font
is embedded (the IPA TrueType fonts, as subsets)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from pathlib import Path

import segno
from mynumber_codes import era_of
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from notice.codes import grouped_number, qr_payload
from notice.offices import municipal_office
from notice.policy import NOTICE_CARD, NOTIFICATION_LETTER
from notice.records import SEX, CardRecord, Envelope, private_file

__all__ = ["FONTS", "FontMissing", "PdfBatch", "document_title", "register_fonts", "render_batch"]

MINCHO, GOTHIC = "IPAMincho", "IPAGothic"
# A print shop takes a PDF only with every font embedded: the IPA TrueType fonts (IPA Font License) as Debian
# installs them, embedded by reportlab as subsets. Never a font the PDF only names (a CID font such as
# HeiseiMin-W3): the shop's RIP would substitute one of its own.
FONTS = {MINCHO: (Path("/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf"), "fonts-ipafont-mincho"),
         GOTHIC: (Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"), "fonts-ipafont-gothic")}
TITLES = {NOTICE_CARD: "通知カード", NOTIFICATION_LETTER: "個人番号通知書"}
FORM = "個人番号カード交付申請書"


class FontMissing(RuntimeError):
    """A font file the PDF embeds is not installed: no PDF is made without it."""


def _postal(code: str) -> str:
    """〒NNN-NNNN: the list's canonical form (NNN-NNNN), or 7 digits from before it was canonical."""
    if not code:
        return ""
    return f"〒{code}" if "-" in code else f"〒{code[:3]}-{code[3:]}"


@functools.cache
def register_fonts() -> None:
    """Register the embedded fonts once per process (a missing file is not cached: installing it is enough)."""
    for name, (path, package) in FONTS.items():
        if not path.is_file():
            raise FontMissing(f"notice PDF: font file {path} is missing; install the Debian package {package} "
                              f"(apt-get install {package})")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def document_title(documents: set[str]) -> str:
    """The PDF's title: what its sheets hold (通知カード before 2020-05-25, 個人番号通知書 from then on)."""
    held = [TITLES[d] for d in (NOTICE_CARD, NOTIFICATION_LETTER) if d in documents]
    return "・".join([*(held or [TITLES[NOTICE_CARD]]), FORM])


def _wareki(iso: str) -> str:
    born = dt.date.fromisoformat(iso)
    era = era_of(born)
    if era is None:
        return f"{born.year}年{born.month}月{born.day}日生"
    n = era.year_of(born)
    return f"{era.name}{'元' if n == 1 else n}年{born.month}月{born.day}日生"


def _qr(c: Canvas, payload: str, x: float, y: float, size: float) -> None:
    """The QR code (segno, level M) drawn as one path, one rectangle per run of dark modules in a row. One fixed
    mask pattern (0) instead of trying all eight: any mask gives a valid code, and mask selection was 30 % of a
    page's rendering time (bench/notice)."""
    qr = segno.make_qr(payload, error="m", mask=0, boost_error=False)
    rows = qr.matrix
    n = len(rows)
    cell = size / (n + 8)  # 4-module quiet zone each side
    path = c.beginPath()
    for r, row in enumerate(rows):
        col = 0
        while col < n:
            if not row[col]:
                col += 1
                continue
            run = col
            while run < n and row[run]:
                run += 1
            path.rect(x + (col + 4) * cell, y + size - (r + 5) * cell, (run - col) * cell, cell)
            col = run
    c.drawPath(path, stroke=0, fill=1)


def _notice_card(c: Canvas, card: CardRecord, municipality_code: str, issuer: str, top: float) -> None:
    """The 通知カード (issued until 2020-05-24): 85.6 x 54 mm, pale green like the real one, with 個人番号, 氏名, 住所,
    生年月日 and 性別 (domain.md §6)."""
    x0, y0, cw, ch = 20 * mm, top - 54 * mm, 85.6 * mm, 54 * mm
    c.setFillColorRGB(0.88, 0.96, 0.90)
    c.roundRect(x0, y0, cw, ch, 3 * mm, stroke=1, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.setFont(GOTHIC, 10)
    c.drawString(x0 + 4 * mm, y0 + ch - 7 * mm, TITLES[NOTICE_CARD])
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
    c.drawString(x0 + 4 * mm, y0 + 4 * mm, f"団体コード {municipality_code}　発行者 {issuer}")


def _notification_letter(c: Canvas, card: CardRecord, municipality_code: str, issuer: str, top: float) -> None:
    """The 個人番号通知書 (from 2020-05-25): a letter, not a card, with 氏名, 生年月日 and 個人番号; it proves
    neither the number nor the person (domain.md §6, [S75])."""
    x0, y0, cw, ch = 20 * mm, top - 54 * mm, 170 * mm, 54 * mm
    c.rect(x0, y0, cw, ch, stroke=1, fill=0)
    c.setFont(GOTHIC, 14)
    c.drawString(x0 + 4 * mm, y0 + ch - 9 * mm, TITLES[NOTIFICATION_LETTER])
    c.setFont(MINCHO, 9)
    c.drawString(x0 + 4 * mm, y0 + ch - 16 * mm, "あなたの個人番号（マイナンバー）をお知らせします。")
    c.setFont(GOTHIC, 8)
    c.drawString(x0 + 4 * mm, y0 + ch - 23 * mm, "個人番号")
    c.setFont(GOTHIC, 14)
    c.drawString(x0 + 22 * mm, y0 + ch - 23 * mm, grouped_number(card.number))
    c.setFont(MINCHO, 8)
    c.drawString(x0 + 4 * mm, y0 + ch - 30 * mm, "氏名")
    c.setFont(MINCHO, 11)
    c.drawString(x0 + 22 * mm, y0 + ch - 30 * mm, card.name)
    c.setFont(MINCHO, 8)
    c.drawString(x0 + 4 * mm, y0 + ch - 37 * mm, "生年月日")
    c.drawString(x0 + 22 * mm, y0 + ch - 37 * mm, _wareki(card.birth_date))
    c.setFont(MINCHO, 7)
    c.drawString(x0 + 4 * mm, y0 + ch - 44 * mm,
                 "この通知書は、個人番号を証明する書類や身分証明書として利用することはできません。")
    c.setFont(MINCHO, 6)
    c.drawString(x0 + 4 * mm, y0 + 4 * mm, f"団体コード {municipality_code}　発行者 {issuer}")


def _page(c: Canvas, e: Envelope, seq: int, issuer: str) -> None:
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
    # What the person is sent follows the data (policy.document_for_notice: the day the notice was made), never
    # the batch.
    draw = _notification_letter if card.document == NOTIFICATION_LETTER else _notice_card
    draw(c, card, e.municipality_code, issuer, h - 61 * mm)
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
        register_fonts()  # before any file exists: a missing font leaves nothing behind
        self.path = path
        self._tmp = path.with_name(path.name + ".part")
        self._f = private_file(self._tmp)
        # The initial font too: a canvas otherwise starts every page in Helvetica, a font it never embeds.
        self._c = Canvas(self._f, pagesize=A4, pageCompression=1, initialFontName=MINCHO)
        self._documents: set[str] = set()

    def add(self, envelopes: Sequence[Envelope]) -> None:
        for e in envelopes:
            # The issuer is the municipality's head (千代田区長); a municipality without an office on file is
            # refused (FAILED_PRECONDITION municipality_code) before anything of it is printed.
            issuer = municipal_office(e.municipality_code).head
            for seq in range(len(e.cards)):
                _page(self._c, e, seq, issuer)
                self._c.showPage()
                self._documents.add(e.cards[seq].document)

    def finish(self) -> None:
        """Write the file; it stays `.part` until publish()."""
        self._c.setTitle(document_title(self._documents))
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
    try:
        pdf.add(envelopes)
    except BaseException:
        pdf.abort()
        raise
    return pdf.close()
