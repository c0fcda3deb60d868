"""The HTTP face of the CA: OCSP (RFC 6960 / RFC 5019, GET and POST), CRLs, delta CRLs, ARLs, CA certificates.

The routing over a snapshot; the HTTP/1.1 framing is `http_wire` (httptools). The OCSP hot path is a token
look-up, a DER parse and a dictionary look-up of a pre-produced response. Everything served comes
from a `Snapshot` of the database that a background task refreshes every `poll_interval_s` seconds, so a status
change reaches every responder process within that interval (plus one transaction).

Who may ask: revocation data goes only to registered verifiers (公的個人認証法 17条・36条 届出). Over HTTP a verifier
presents the bearer token it got at registration (`Authorization: Bearer <token>`; `openssl ocsp -header`);
the registry keeps only its SHA-256. A missing or unknown token gets the OCSP `unauthorized` response (RFC 6960
§2.3) or HTTP 401 for CRLs. CA certificates are public (they are trust anchors people install).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import logging
import time
import urllib.parse
from dataclasses import dataclass, field

from cryptography import x509

from jpki import crl as crlmod
from jpki import ocsp
from jpki.domain import REASON_BY_CODE, VERIFIER_SCOPE
from jpki.ports import UnitsPort

log = logging.getLogger(__name__)

# A request begun must be complete within this time, or the connection is closed (no slow-loris hold).
REQUEST_TIMEOUT_S = 10.0
_REFRESH_MARGIN = dt.timedelta(seconds=5)


@dataclass
class Snapshot:
    """What the HTTP front serves, loaded from the database and refreshed by polling."""

    units: UnitsPort
    store: ocsp.ResponseStore = field(default_factory=ocsp.ResponseStore)
    crls: dict[tuple[str, str, bool], tuple[int, bytes, dt.datetime]] = field(default_factory=dict)
    ca_certs: dict[str, bytes] = field(default_factory=dict)
    scopes: dict[bytes, frozenset[str]] = field(default_factory=dict)
    _since: dt.datetime | None = None
    _crl_id: int = 0
    refreshed_at: float | None = None  # time.monotonic() of the last successful refresh

    async def refresh(self) -> int:
        """Load what changed since the last refresh; returns the number of OCSP responses loaded."""
        # The HTTP front's one unit of work: requests are answered from memory and never open one.
        async with self.units() as store:
            cas = await store.active_cas()
            since = self._since - _REFRESH_MARGIN if self._since else None
            rows = await store.ocsp_changed_since(since)
            crls = await store.latest_crls_since(self._crl_id)
            verifiers = await store.verifiers(include_deregistered=False)
        for c in cas:
            if self.ca_certs.get(c.kind) != c.cert_der:
                self.ca_certs[c.kind] = c.cert_der
                self.store.add_issuer(c.kind, x509.load_der_x509_certificate(c.cert_der))
        for r in rows:
            status = ocsp.Status(r.good, r.revoked_at, REASON_BY_CODE.get(r.reason_code) if r.reason_code is not None
                                 else None)
            if r.ca_kind in self.ca_certs:
                self.store.put(r.ca_kind, int(r.serial_hex, 16), r.der, status)
            if self._since is None or r.updated_at > self._since:
                self._since = r.updated_at
        for made in crls:
            key = (made.ca_kind, made.partition, made.delta)
            if key not in self.crls or self.crls[key][0] < made.number:
                self.crls[key] = (int(made.number), made.der, made.next_update)
            self._crl_id = max(self._crl_id, int(made.id))
        self.scopes = {bytes(v.token_hash): VERIFIER_SCOPE[v.kind] for v in verifiers}
        self.refreshed_at = time.monotonic()
        return len(rows)

    async def poll(self, interval_s: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
            if stop.is_set():
                return
            try:
                await self.refresh()
            except Exception:
                log.exception("snapshot refresh failed; serving the previous one")


def response(status: str, ctype: str, body: bytes, keep_alive: bool, extra: str = "") -> bytes:
    conn = "keep-alive" if keep_alive else "close"
    return (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {conn}\r\n{extra}\r\n").encode() + body


TEXT = "text/plain; charset=utf-8"


class HttpFront:
    """Request routing over a Snapshot."""

    def __init__(self, snapshot: Snapshot, *, stale_after_s: float = 10.0,
                 request_timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.snapshot = snapshot
        self.stale_after_s = stale_after_s
        self.request_timeout_s = request_timeout_s
        self.requests = 0

    def health(self) -> tuple[bool, str]:
        """Ready only while the snapshot is loaded and fresh: a responder that cannot reach the database would
        keep answering from old statuses, breaking the promised delay, so it leaves the load balancer instead."""
        at = self.snapshot.refreshed_at
        if at is None or not self.snapshot.ca_certs:
            return False, "not loaded"
        age = time.monotonic() - at
        if age > self.stale_after_s:
            return False, f"statuses are {age:.0f} s old (limit {self.stale_after_s:.0f} s)"
        return True, "ok"

    def _scope(self, headers: dict[bytes, bytes]) -> frozenset[str] | None:
        auth = headers.get(b"authorization")
        if not auth or auth[:7].lower() != b"bearer ":
            return None
        return self.snapshot.scopes.get(hashlib.sha256(auth[7:].strip()).digest())

    def handle(self, method: bytes, target: bytes, headers: dict[bytes, bytes], body: bytes, keep_alive: bool
               ) -> bytes:
        self.requests += 1
        path = target.split(b"?", 1)[0]
        if path == b"/healthz":
            ok, why = self.health()
            return response("200 OK" if ok else "503 Service Unavailable", TEXT, why.encode() + b"\n", keep_alive)
        if path.startswith(b"/ocsp"):
            if method == b"POST":
                der = body
                cache = ""
            elif method == b"GET" and len(path) > 6:
                try:
                    der = base64.b64decode(urllib.parse.unquote_to_bytes(path[6:]), validate=False)
                except ValueError:
                    der = b""
                cache = "Cache-Control: max-age=60, public, no-transform, must-revalidate\r\n"
            else:
                return response("405 Method Not Allowed", TEXT, b"OCSP takes GET /ocsp/<base64> or POST /ocsp\n",
                                 keep_alive, "Allow: GET, POST\r\n")
            scope = self._scope(headers)
            if scope is None:
                return response("200 OK", ocsp.CONTENT_TYPE, ocsp.UNAUTHORIZED, keep_alive)
            req = ocsp.parse_request(der)
            if req is None:
                return response("200 OK", ocsp.CONTENT_TYPE, ocsp.MALFORMED, keep_alive)
            answer = self.snapshot.store.answer(req, scope)
            if req.nonce is not None:
                cache = ""
            return response("200 OK", ocsp.CONTENT_TYPE, answer, keep_alive, cache)
        if method != b"GET":
            return response("405 Method Not Allowed", TEXT, b"only GET\n", keep_alive, "Allow: GET\r\n")
        parts = path.decode("ascii", "replace").strip("/").split("/")
        if len(parts) == 2 and parts[0] == "ca" and parts[1].endswith(".cer"):
            ca_der = self.snapshot.ca_certs.get(parts[1][:-4])
            if ca_der is None:
                return response("404 Not Found", TEXT, b"no such CA\n", keep_alive)
            return response("200 OK", "application/pkix-cert", ca_der, keep_alive)
        key: tuple[str, str, bool] | None = None
        if len(parts) == 3 and parts[0] == "crl" and parts[2].endswith(".crl"):
            name = parts[2][:-4]
            delta = name.endswith("-delta")
            key = (parts[1], name.removesuffix("-delta"), delta)
        elif len(parts) == 2 and parts[0] == "arl" and parts[1].endswith(".crl"):
            key = (parts[1][:-4], "arl", False)
        if key is None:
            return response("404 Not Found", TEXT, b"not found\n", keep_alive)
        scope = self._scope(headers)
        if scope is None or key[0] not in scope:
            return response("401 Unauthorized", TEXT,
                             b"revocation data is given only to registered verifiers: send Authorization: Bearer\n",
                             keep_alive, 'WWW-Authenticate: Bearer realm="jpki"\r\n')
        found = self.snapshot.crls.get(key)
        if found is None:
            return response("404 Not Found", TEXT, b"no CRL for this CA and partition\n", keep_alive)
        _, der, next_update = found
        expires = next_update.strftime("%a, %d %b %Y %H:%M:%S GMT")
        return response("200 OK", crlmod.CONTENT_TYPE, der, keep_alive, f"Expires: {expires}\r\n")
