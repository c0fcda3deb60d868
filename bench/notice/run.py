"""Mailing data for many households: the MNB1 batch records, then the PDFs, with households/s and peak memory.

    .venv/bin/python bench/notice/run.py [--households 1000000] [--pdf-households 2000] [--out DIR]

What runs, in this one process: synthetic households (1-4 members, about 2.2 on average, as in Japan) built as
the export builds them (a fresh 23-digit 申請書ID per card from the OS CSPRNG, each card's data opened from an
AES-256-GCM sealed blob as the export opens it from the database), streamed into the MNB1 writer
(`notice.export.write_records`: escaping, SHA-256 over every byte, 1 MiB buffered writes). Then the PDFs
(`notice.pdf.render_batch`, one A4 sheet per person with the card, the form and its QR code) for
`--pdf-households` households in `--workers` processes (default: one per core); their rate is reported and
extrapolated to the full count. The database side
(reading prepared envelopes) is not in this figure: see docs/notice.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import random
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from mynumber_runtime.crypto import FieldSealer
from notice.base import AAD_CARD
from notice.codes import new_application_id
from notice.export import CardRecord, Envelope, write_records
from notice.pdf import render_batch

SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
GIVEN = ["太郎", "花子", "一郎", "陽菜", "蓮", "結衣", "大翔", "美咲"]
SIZES = [1, 1, 1, 2, 2, 2, 3, 3, 4, 4]  # mean 2.3


def households(n: int, seed: int = 7) -> Iterator[Envelope]:
    rnd = random.Random(seed)
    sealer = FieldSealer({1: os.urandom(32)}, current=1)
    for h in range(n):
        surname = SURNAMES[h % len(SURNAMES)]
        address = f"東京都千代田区千代田{h % 9 + 1}-{h % 97 + 1}-{h % 13 + 1}"
        cards = []
        for i in range(SIZES[rnd.randrange(10)]):
            card = {"number": f"{rnd.randrange(10**12):012d}", "name": f"{surname} {GIVEN[(h + i) % len(GIVEN)]}",
                    "address": address, "birth_date": f"{1940 + (h + i) % 80}-0{1 + i}-1{i}", "sex": 1 + (i % 2)}
            # What the export does per card: open the sealed snapshot the database holds.
            sealed = sealer.seal(json.dumps(card, ensure_ascii=False).encode(), AAD_CARD)
            cards.append(CardRecord(application_id=new_application_id(), document="notice_card",
                                    **json.loads(sealer.open(sealed, AAD_CARD))))
        yield Envelope(mailing_id=f"{h:032x}", municipality_code="131016", kind="initial", destination="address",
                       postal_code="1000001", address=address, addressee=cards[0].name + " 様", sealed_label=b"",
                       cards=cards)


def render_part(out: str, first: int, count: int) -> tuple[int, float]:
    """One worker process: render households [first, first+count) into its own PDF; returns (pages, peak MiB)."""
    envs = list(households(count, seed=8 + first))
    render_batch(Path(out), envs)
    return sum(len(e.cards) for e in envs), peak_mib()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--pdf-households", type=int, default=2_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="PDF worker processes")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-notice-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        base = peak_mib()
        t0 = time.perf_counter()
        records, sha = write_records(out / "bench.mnb", "bench", dt.datetime.now(dt.UTC), households(args.households),
                                     args.households)
        t_rec = time.perf_counter() - t0
        size = (out / "bench.mnb").stat().st_size
        print(f"records: {args.households:,} households, {records:,} records, {size / 2**20:,.0f} MiB "
              f"in {t_rec:.1f} s = {args.households / t_rec:,.0f} households/s; peak RSS {peak_mib():,.0f} MiB "
              f"(before {base:,.0f} MiB); sha256 {sha[:16]}...")
        workers = args.workers
        per = args.pdf_households // workers
        t0 = time.perf_counter()
        with concurrent.futures.ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(render_part, [str(out / f"bench-{i}.pdf") for i in range(workers)],
                                  [i * per for i in range(workers)], [per] * workers))
        t_pdf = time.perf_counter() - t0
        pages = sum(p for p, _ in parts)
        size = sum((out / f"bench-{i}.pdf").stat().st_size for i in range(workers))
        rate = per * workers / t_pdf
        print(f"pdf: {per * workers:,} households, {pages:,} pages, {size / 2**20:,.1f} MiB in {t_pdf:.1f} s with "
              f"{workers} worker processes = {rate:,.0f} households/s; {args.households:,} households would take "
              f"{args.households / rate / 60:,.0f} min; peak RSS per worker {max(m for _, m in parts):,.0f} MiB")
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
