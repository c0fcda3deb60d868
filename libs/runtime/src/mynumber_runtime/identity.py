"""Who is calling: taken from the verified mTLS client certificate, and from nothing else (local runs too: their
certificates come from the local dev CA, `mynumber_runtime.devca`).

A platform certificate names its holder in a SAN URI `urn:mynumber:<kind>:<id>` (or, failing that, a CN
`<kind>:<id>`): `municipality:131016`, `store-terminal:7-11-000123`, `operator:sre-tanaka`, `service:notice`,
`agency:<code>`. Kinds drive the per-method allow-lists; ids drive tenant checks (a municipality sees only its
own residents).

A platform service that is a door for outside callers (the gateway) may call *on behalf of* the identity it
verified from its own client's certificate: it sends that identity in the `x-mynumber-on-behalf-of` metadata, and
a server honours it only from the identities its bindings name as delegates (grpc_server.ServiceBinding), and only
for the kinds named there. The resulting caller is the represented identity, with `via` naming the delegate.
The delegate may also declare the 事務 the call serves (`x-mynumber-purpose`:番号法 第9条, a code of the gateway's
purpose registry, which the gateway checked): it rides on the caller as `purpose` and every access-log entry made
during the call records it (audit.append), so the resident's access records say what each use was for.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import NameOID

from mynumber_runtime.errors import Unauthenticated

URI_PREFIX = "urn:mynumber:"
KINDS = frozenset({"municipality", "store-terminal", "operator", "service", "agency", "verifier"})
# The metadata key a delegate (e.g. `service:gateway`) names its verified client with.
ON_BEHALF_KEY = "x-mynumber-on-behalf-of"
# The metadata key a delegate declares the 事務 of the call with (a purpose-registry code, ASCII).
PURPOSE_KEY = "x-mynumber-purpose"
# A service that is a door for municipal systems names the gateway, for municipalities only (ServiceBinding.delegates).
GATEWAY_FOR_MUNICIPALITIES = {"service:gateway": ("municipality",)}


@dataclass(frozen=True)
class Caller:
    kind: str
    id: str
    # The delegate that carried the call (`service:gateway`), when the caller's certificate reached another door.
    # Not part of who the caller is: tenancy and allow-lists see kind and id only.
    via: str | None = field(default=None, compare=False)
    # The 事務 the delegate declared for this call (PURPOSE_KEY); None when no delegate carried it.
    purpose: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Caller:
        kind, sep, ident = text.removeprefix(URI_PREFIX).partition(":")
        if not sep or kind not in KINDS or not ident:
            raise Unauthenticated("caller identity is not of the form <kind>:<id> with a known kind")
        return cls(kind, ident)


def caller_from_certificate(pem: bytes) -> Caller:
    cert = x509.load_pem_x509_certificate(pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
            if uri.startswith(URI_PREFIX):
                return Caller.parse(uri)
    except x509.ExtensionNotFound:
        pass
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if cns:
        return Caller.parse(str(cns[0].value))
    raise Unauthenticated("client certificate names no caller")


_current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("mynumber_caller", default=None)


def current_caller() -> Caller:
    caller = _current.get()
    if caller is None:
        raise Unauthenticated("no caller identity on this call")
    return caller


def current_caller_or_none() -> Caller | None:
    return _current.get()


def set_current_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    return _current.set(caller)


def reset_current_caller(token: contextvars.Token[Caller | None]) -> None:
    _current.reset(token)
