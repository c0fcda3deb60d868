"""The municipal system under load (Locust, FastHttpUser): each user assigns a fresh resident (a fresh
Idempotency-Key per write) and looks up one it assigned, over HTTPS with the municipality's client certificate.
run.py starts it headless, one step per user count; BENCH_CA/BENCH_CERT/BENCH_KEY name the certificate files."""

from __future__ import annotations

import itertools
import os
import random
import ssl
import uuid

from locust import FastHttpUser, constant, task
from mynumber_codes import ResidentCodeRule

RULE = ResidentCodeRule()
# Distinct 住民票コード bodies per process and step (the seed is the step's), none shared between users.
_bodies = itertools.count(int(os.environ.get("BENCH_SEED", "0")) * 10**7 + random.randrange(10**6) * 10)


def _context(cafile: str | None = None) -> ssl.SSLContext:
    import gevent.ssl

    ctx = gevent.ssl.create_default_context(cafile=os.environ["BENCH_CA"])
    ctx.load_cert_chain(os.environ["BENCH_CERT"], os.environ["BENCH_KEY"])
    return ctx


class Municipality(FastHttpUser):
    wait_time = constant(0)  # closed loop: each user sends its next call when the last is answered
    insecure = False
    ssl_context_factory = staticmethod(_context)

    def on_start(self) -> None:
        self.assigned: list[str] = []

    @task
    def assign(self) -> None:
        code = RULE.make(f"{next(_bodies) % 10**10:010d}")
        with self.client.post("/v1/numbering/assignments", json={"resident_code": code}, name="POST assign",
                              headers={"Idempotency-Key": str(uuid.uuid4())}, catch_response=True) as r:
            if r.status_code == 201:
                self.assigned.append(code)
                r.success()
            else:
                r.failure(f"status {r.status_code}")

    @task
    def lookup(self) -> None:
        if not self.assigned:
            return
        code = random.choice(self.assigned)
        with self.client.get(f"/v1/numbering/residents/{code}/number", name="GET lookup",
                             headers={"Purpose-Of-Use": "b1-juuki"}, catch_response=True) as r:
            if r.status_code == 200:
                r.success()
            else:
                r.failure(f"status {r.status_code}")
