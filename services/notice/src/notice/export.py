"""The print-vendor batch file (format MNB1, documented in docs/notice.md) and its reader.

One UTF-8 text file, one record per line, fields separated by `|` (a `|`, `\\` or line break inside a value is
escaped as `\\|`, `\\\\`, `\\n`):

    HDR|MNB1|<batch_id>|<created_at ISO 8601 UTC>|<envelopes>
    RCL|<mailing_id>|<municipality>|<stage>|<return-to address>|<return-to postal>|<batch_id it left in>
    ENV|<mailing_id>|<municipality>|<kind>|簡易書留|転送不要|<destination>|<postal>|<address>|<addressee>|<sealed_label>|<cards>
    CRD|<mailing_id>|<seq>|<document>|<application_id>|<qr_payload>|<number 4-4-4>|<name>|<address>|<birth>|<sex>
    TRL|<records>|<sha256>

RCL records (first, before any ENV) recall an envelope of an earlier batch: `stage` is where it was (exported,
printed: do not post it; posted: ask 日本郵便 to return it, 取戻し請求); it goes back to the municipal office named
(a 居所 registered after the export: the card must not reach the address printed on it). `records` counts RCL,
ENV and CRD lines; `sha256` is the hex SHA-256 of every byte before the TRL line. For a DV
victim's 居所 (destination residence_restricted) the address fields are empty and `sealed_label` carries the
label sealed (AES-256-GCM, base64, the mailing id as associated data) under the vendor's print key.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from notice.codes import grouped_number, qr_payload
from notice.pdf import render_batch
from notice.records import SEX, CardRecord, Envelope, private_file

__all__ = ["FORMAT", "SEX", "BatchFormatError", "BatchResult", "BatchWriter", "CardRecord", "Envelope", "Recall",
           "envelope_lines", "private_file", "read_batch", "write_batch", "write_records"]

FORMAT = "MNB1"


@dataclass(frozen=True)
class Recall:
    """An envelope the vendor must stop (or have 日本郵便 return) and send back to the municipal office."""

    mailing_id: str
    municipality_code: str
    stage: str
    batch_id: str
    address: str
    postal_code: str


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    path: Path
    envelopes: int
    records: int
    sha256: str
    pdf_paths: list[Path] = field(default_factory=list)
    recalls: int = 0


class BatchFormatError(ValueError):
    pass


Record = tuple[str, ...]


class _MNB1(csv.Dialect):
    """MNB1's fields: `|`-separated, no quoting, `\\` escapes a `|` or a `\\` inside a value."""

    delimiter = "|"
    quoting = csv.QUOTE_NONE
    quotechar = None
    escapechar = "\\"
    doublequote = False
    skipinitialspace = False
    # The csv module escapes a line break inside a value as `\` + LF; MNB1 keeps one record per line and writes
    # `\n` instead: the one mapping `_text` and `_fields` add around the module.
    lineterminator = "\n"
    strict = True


# An escape sequence (pairs read left to right, so `\\n` is an escaped `\` and an `n`). In the csv module's output
# every `\` starts one: it escapes each `\` of a value.
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_WRITTEN = {"\n": "\\n", "\r": ""}  # an escaped line break as `\n`; a carriage return is dropped


def _text(records: Sequence[Record]) -> str:
    """MNB1 lines (each ending in LF) of records, written by the csv module: unless no value holds a character the
    module would escape, when its output is the plain join, which is built first and checked by counting."""
    plain = "".join(["|".join(r) + "\n" for r in records])
    if ("\\" not in plain and "\r" not in plain and plain.count("\n") == len(records)
            and plain.count("|") == sum(len(r) - 1 for r in records)):
        return plain  # 3-4x faster than the module on the common chunk (bench/notice)
    return _csv_text(records)


def _csv_text(records: Sequence[Record]) -> str:
    buf = io.StringIO()
    csv.writer(buf, _MNB1).writerows(records)
    text = buf.getvalue()
    if "\\" in text:
        text = _ESCAPE.sub(lambda m: _WRITTEN.get(m[1], m[0]), text)
    # A carriage return the module left unescaped (it escapes only its line terminator's characters).
    return text.replace("\r", "") if "\r" in text else text


def envelope_records(e: Envelope) -> list[Record]:
    label = base64.b64encode(e.sealed_label).decode() if e.sealed_label else ""
    records: list[Record] = [("ENV", e.mailing_id, e.municipality_code, e.kind, "簡易書留", "転送不要", e.destination,
                              e.postal_code, e.address, e.addressee, label, str(len(e.cards)))]
    for seq, c in enumerate(e.cards):
        records.append((
            "CRD", e.mailing_id, str(seq), c.document, c.application_id,
            qr_payload(c.application_id) if c.application_id else "", grouped_number(c.number), c.name,
            c.address, c.birth_date, SEX.get(c.sex, "")))
    return records


def envelope_lines(e: Envelope) -> list[str]:
    """An envelope's ENV and CRD lines, as the batch file holds them (without their line ends)."""
    return _text(envelope_records(e)).split("\n")[:-1]


class BatchWriter:
    """Streams an MNB1 file: header, envelopes added in chunks, trailer. Memory stays flat whatever the size."""

    def __init__(self, path: Path, batch_id: str, created_at: dt.datetime, envelope_count: int) -> None:
        self.path = path
        self._tmp = path.with_suffix(".part")
        self._f = private_file(self._tmp, buffering=1 << 20)
        self._digest = hashlib.sha256()
        self.records = 0
        self.envelopes = 0
        self._write(f"HDR|{FORMAT}|{batch_id}|{created_at.astimezone(dt.UTC).isoformat()}|{envelope_count}\n")

    def _write(self, text: str) -> None:
        data = text.encode()
        self._digest.update(data)
        self._f.write(data)

    def add(self, envelopes: Iterable[Envelope]) -> None:
        chunk: list[Record] = []
        for e in envelopes:
            records = envelope_records(e)
            self.records += len(records)
            self.envelopes += 1
            chunk.extend(records)
            if len(chunk) >= 4096:
                self._write(_text(chunk))
                chunk.clear()
        if chunk:
            self._write(_text(chunk))

    def add_recalls(self, recalls: Iterable[Recall]) -> None:
        records = [("RCL", r.mailing_id, r.municipality_code, r.stage, r.address, r.postal_code, r.batch_id)
                   for r in recalls]
        if records:
            self.records += len(records)
            self._write(_text(records))

    def finish(self) -> str:
        """Write the trailer; the file stays `.part` until publish()."""
        sha = self._digest.hexdigest()
        self._f.write(f"TRL|{self.records}|{sha}\n".encode())
        self._f.close()
        return sha

    def publish(self) -> None:
        self._tmp.replace(self.path)  # the vendor's agent never sees a half-written file

    def close(self) -> str:
        sha = self.finish()
        self.publish()
        return sha

    def abort(self) -> None:
        self._f.close()
        self._tmp.unlink(missing_ok=True)


def write_records(path: Path, batch_id: str, created_at: dt.datetime, envelopes: Iterable[Envelope],
                  envelope_count: int) -> tuple[int, str]:
    """Write a whole batch; returns (records, sha256)."""
    w = BatchWriter(path, batch_id, created_at, envelope_count)
    try:
        w.add(envelopes)
    except BaseException:
        w.abort()
        raise
    return w.records, w.close()


def write_batch(out_dir: Path | str, batch_id: str, created_at: dt.datetime, envelopes: Sequence[Envelope], *,
                with_pdfs: bool) -> BatchResult:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{batch_id}.mnb"
    records, sha = write_records(path, batch_id, created_at, envelopes, len(envelopes))
    pdfs: list[Path] = []
    if with_pdfs:
        pdfs.append(render_batch(out / f"{batch_id}.pdf", envelopes))
    return BatchResult(batch_id=batch_id, path=path, envelopes=len(envelopes), records=records, sha256=sha,
                       pdf_paths=pdfs)


def _fields(line: str) -> list[str]:
    """One record's fields: `\\n` back to the escaped line break the csv module reads, then the csv module."""
    escaped = _ESCAPE.sub(lambda m: "\\\n" if m[1] == "n" else m[0], line)
    try:
        rows = list(csv.reader(io.StringIO(escaped), _MNB1))
    except csv.Error as e:
        raise BatchFormatError("a record is malformed") from e
    if len(rows) != 1:
        raise BatchFormatError("a record is malformed")
    return rows[0]


def read_batch(path: Path) -> list[list[str]]:
    """The vendor side: verify the trailer (count and checksum) and return the ENV/CRD records."""
    data = path.read_bytes()
    body, sep, trailer = data.rstrip(b"\n").rpartition(b"\n")
    if not sep or not trailer.startswith(b"TRL|"):
        raise BatchFormatError("the file has no trailer")
    _, count, sha = trailer.decode().split("|")
    if hashlib.sha256(body + b"\n").hexdigest() != sha:
        raise BatchFormatError("checksum mismatch")
    # Records end at "\n" only (str.splitlines would also break at U+2028 and the like inside a value).
    lines = body.decode().split("\n")
    if not lines or not lines[0].startswith(f"HDR|{FORMAT}|"):
        raise BatchFormatError("the file has no MNB1 header")
    records = [_fields(x) for x in lines[1:]]
    if len(records) != int(count):
        raise BatchFormatError("record count mismatch")
    return records
