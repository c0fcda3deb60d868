"""Who is calling: the identity the verified client certificate names (runtime identity: the SAN URI
`urn:mynumber:<kind>:<id>`, as every platform service reads it), never a header. And what each kind reaches here:
the numbering resources are a municipality's own (番号法 第8条: the 市町村長 requests the number); a store
terminal, an operator, an agency or a platform service is refused them (operator APIs are not in this slice)."""

from __future__ import annotations

from fastapi import Request
from mynumber_runtime.errors import Unauthenticated
from mynumber_runtime.identity import Caller, caller_from_certificate

from gateway import problems as p
from gateway.https import tls_of


def caller_of(request: Request) -> Caller:
    known = getattr(request.state, "caller", None)
    if isinstance(known, Caller):  # read from the same certificate by the rate limit, before the route
        return known
    chain = tls_of(request.scope).get("client_cert_chain") or []
    if not chain:
        # Unreachable over the HTTPS door (the handshake requires a certificate); an app mounted without it.
        raise p.Problem(p.UNAUTHENTICATED, "a client certificate is required")
    try:
        caller = caller_from_certificate(chain[0].encode())
    except (Unauthenticated, ValueError):
        raise p.Problem(p.UNAUTHENTICATED, "the client certificate names no platform identity "
                                           "(urn:mynumber:<kind>:<id>)") from None
    request.state.caller = caller  # for the audit line
    return caller


def municipality(request: Request) -> Caller:
    """The calling municipality (`municipality:<全国地方公共団体コード>`); any other kind is refused."""
    caller = caller_of(request)
    if caller.kind != "municipality":
        raise p.Problem(p.FORBIDDEN, f"callers of kind {caller.kind} may not use the municipal numbering resources")
    return caller
