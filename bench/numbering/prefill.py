"""A registry already holding M numbers, made quickly: rows of the registry's shape (random 16-byte keyed hashes,
a 52-byte sealed value, status active) in PostgreSQL's binary COPY format built by numpy, COPY'd with the table's
indexes and constraints set aside, which are then rebuilt from their own definitions (a sorted build, minutes for
tens of millions of rows instead of hours of random inserts). Setup for `run.py --prefill`, never measured.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import psycopg

TABLE = "numbering.numbers"
COLUMNS = "number_hash, resident_code_hash, sealed, municipality_code, status, region, issued_at"
SEALED_BYTES = 1 + 12 + 23 + 16  # key id, nonce, number + 住民票コード, tag (FieldSealer)
PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

# One tuple of binary COPY: a field count, then each field's length and bytes (big-endian), all fixed-size here.
ROW = np.dtype([("fields", ">i2"),
                ("l1", ">i4"), ("number_hash", "V16"), ("l2", ">i4"), ("resident_code_hash", "V16"),
                ("l3", ">i4"), ("sealed", f"V{SEALED_BYTES}"), ("l4", ">i4"), ("municipality_code", "S6"),
                ("l5", ">i4"), ("status", ">i2"), ("l6", ">i4"), ("region", ">i2"), ("l7", ">i4"),
                ("issued_at", ">i8")])
HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)


def rows(n: int, rng: np.random.Generator, municipality: str, at: dt.datetime) -> bytes:
    a = np.zeros(n, dtype=ROW)
    a["fields"] = 7
    for i, size in enumerate((16, 16, SEALED_BYTES, 6, 2, 2, 8), start=1):
        a[f"l{i}"] = size
    a["number_hash"] = np.frombuffer(rng.bytes(16 * n), dtype="V16")
    a["resident_code_hash"] = np.frombuffer(rng.bytes(16 * n), dtype="V16")
    a["sealed"] = np.frombuffer(rng.bytes(SEALED_BYTES * n), dtype=f"V{SEALED_BYTES}")
    a["municipality_code"] = municipality.encode()
    a["status"] = 1
    a["issued_at"] = int((at - PG_EPOCH).total_seconds() * 1_000_000)
    return a.tobytes()


def _set_aside(conn: psycopg.Connection, table: str) -> list[str]:
    """Drops every index and constraint that touches the table; returns the statements that rebuild them."""
    fks = conn.execute("""SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                          WHERE contype = 'f' AND (conrelid = %s::regclass OR confrelid = %s::regclass)""",
                       (table, table)).fetchall()
    keys = conn.execute("""SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                           WHERE contype IN ('p', 'u') AND conrelid = %s::regclass""", (table,)).fetchall()
    indexes = conn.execute("""SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
                              WHERE i.indrelid = %s::regclass AND NOT EXISTS
                                (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
                           (table,)).fetchall()
    for owner, name, _ in fks:
        conn.execute(f'ALTER TABLE {owner} DROP CONSTRAINT "{name}"')
    for name, _ in keys:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    return ([definition for _, definition in indexes]
            + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in keys]
            + [f'ALTER TABLE {owner} ADD CONSTRAINT "{name}" {definition}' for owner, name, definition in fks])


def prefill(port: int, count: int, *, seed: int, table: str = TABLE, municipality: str = "131016",
            chunk: int = 1_000_000) -> float:
    """COPY `count` registry rows into an empty table of the registry's shape and rebuild its indexes; returns the
    seconds it took. The same seed gives the same rows (the baseline's table is filled like the registry)."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    at = dt.datetime(2015, 10, 5, tzinfo=dt.UTC)
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="mynumber", autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        rebuild = _set_aside(conn, table)
        with conn.cursor().copy(f"COPY {table} ({COLUMNS}) FROM STDIN WITH (FORMAT binary)") as cp:
            cp.write(HEADER)
            for done in range(0, count, chunk):
                cp.write(rows(min(chunk, count - done), rng, municipality, at))
                print(f"  prefill {table}: {min(done + chunk, count):>12,} rows", flush=True)
            cp.write(TRAILER)
        for statement in rebuild:
            conn.execute(statement)
        conn.execute(f"VACUUM (ANALYZE) {table}")
        conn.execute("CHECKPOINT")
    return time.perf_counter() - started
