"""The audit chain's entry hash is a stored format: entries written by one release are verified by the next, so the
bytes it covers are pinned here (integration/test_audit.py checks the chain itself against a real database)."""

import datetime as dt
import hashlib

from mynumber_runtime.audit import GENESIS, entry_hash

JST = dt.timezone(dt.timedelta(hours=9))


def test_the_entry_hash_covers_the_canonical_json_of_the_entry():
    # Non-ASCII kept as UTF-8, keys sorted, no spaces, the time in UTC to the microsecond, after the previous hash.
    at = dt.datetime(2026, 1, 5, 9, 30, tzinfo=JST)
    details = {"reason": "転居", "basis": "own_register"}
    body = ('[7,"2026-01-05T00:30:00.000000+00:00","municipality:131016","number.lookup","ab12","個人番号の履歴",'
            '{"basis":"own_register","reason":"転居"}]').encode()
    prev = hashlib.sha256(b"previous").digest()
    assert entry_hash(prev, 7, at, "municipality:131016", "number.lookup", "ab12", "個人番号の履歴", details) == \
        hashlib.sha256(prev + body).digest()
    assert entry_hash(GENESIS, 1, at, "a", "b", "c", "d", {}) == hashlib.sha256(
        GENESIS + b'[1,"2026-01-05T00:30:00.000000+00:00","a","b","c","d",{}]').digest()
