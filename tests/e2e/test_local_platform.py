"""The README's promise: `make run` brings the platform up, the operator tool works against it, Ctrl-C stops it
cleanly, and a restart keeps the state. Runs the real launcher and the real `mynumber` console script.

jpki rides along on the same platform (one start and one restart keep the suite fast): healthy over gRPC, its
HTTP face serving the CA certificates, the ARLs and a municipality's CRL at the URLs written into certificates, and
after the restart the same CA certificates (the key ceremony ran once)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from mynumber.jpki.v1 import jpki_pb2 as pb
from mynumber.jpki.v1 import jpki_pb2_grpc as pb_grpc
from mynumber.numbering.v1 import numbering_pb2 as npb
from mynumber.numbering.v1 import numbering_pb2_grpc as npb_grpc
from mynumber_devstack.__main__ import free_offsets
from mynumber_runtime.devca import DevCA
from mynumber_runtime.embedded import free_port
from mynumber_runtime.testing.servers import scratch_dir
from stdnum.jp import in_

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def start(data: Path, ports: dict[str, int]) -> tuple[subprocess.Popen[str], str]:
    """The launcher, up to its "ready." line; returns it and what it printed until then."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mynumber_devstack", "run", "--data-dir", str(data), "--pg-port", str(ports["pg"]),
         "--nats-port", str(ports["nats"]), "--port-offset", str(ports["offset"]),
         "--http-port-offset", str(ports["http_offset"])],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    seen = []
    for line in proc.stdout:
        if line.startswith("ready."):
            return proc, "".join(seen)
        seen.append(line)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise AssertionError("the local platform did not come up:\n" + "".join(seen))


def stop(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    out, _ = proc.communicate(timeout=60)
    return out


def mynumber(ports: dict[str, int], data: Path, *args: str, identity: str = "municipality:131016",
             check: bool = True) -> subprocess.CompletedProcess[str]:
    """The operator tool as a user runs it: from another folder, the target from MYNUMBER_PORT_OFFSET, acting as
    `identity` with a certificate from the platform's dev CA (found through MYNUMBER_DATA_DIR)."""
    env = dict(os.environ, MYNUMBER_PORT_OFFSET=str(ports["offset"]), MYNUMBER_DATA_DIR=str(data))
    done = subprocess.run([str(BIN / "mynumber"), "--as", identity, *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd="/")
    assert not check or done.returncode == 0, f"mynumber {args[0]} exited {done.returncode}: {done.stderr[-2000:]}"
    return done


def jpki_http(ports: dict[str, int]) -> str:
    return f"http://127.0.0.1:{8054 + ports['http_offset']}"


def tls_channel(data: Path, target: str, identity: str) -> grpc.Channel:
    """mTLS as `identity`, its certificate from the local platform's dev CA."""
    c = DevCA(data / "devca").issue(identity)
    return grpc.secure_channel(target, grpc.ssl_channel_credentials(
        c.ca_file.read_bytes(), c.key_file.read_bytes(), c.cert_file.read_bytes()))


def jpki_call(ports: dict[str, int], data: Path, stub: type, rpc: str, request: object, caller: str) -> Any:
    """One jpki gRPC call over mTLS as `caller`."""
    with tls_channel(data, f"127.0.0.1:{50054 + ports['offset']}", caller) as ch:
        return getattr(stub(ch), rpc)(request, timeout=30)


def fetch(url: str, token: str | None = None) -> tuple[int, str, bytes]:
    """GET a URL: status, content type, body."""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get_content_type(), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get_content_type(), e.read()


def fetch_crl(url: str, token: str, issuer: x509.Certificate) -> x509.CertificateRevocationList:
    """A CRL as a verifier gets it, checked: content type, DER that parses and that openssl accepts, the CA's
    signature. A verifier registered or a CRL signed a moment ago reaches the HTTP front with its next snapshot
    poll (every ocsp_status_delay_s / 2), hence the retries."""
    deadline = time.monotonic() + 20
    while (got := fetch(url, token))[0] in (401, 404) and time.monotonic() < deadline:
        time.sleep(0.2)
    status, ctype, der = got
    assert (status, ctype) == (200, "application/pkix-crl"), (url, status, der[:200])
    crl = x509.load_der_x509_crl(der)
    assert crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key())
    subprocess.run(["openssl", "crl", "-inform", "DER", "-noout"], input=der, check=True, capture_output=True)
    return crl


def distribution_points(cert: x509.Certificate) -> list[x509.GeneralName]:
    dps = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return [n for dp in dps for n in dp.full_name or []]


def check_jpki(ports: dict[str, int], data: Path) -> dict[str, bytes]:
    """jpki on the local platform, as a verifier and the issuance service would use it. Returns the CA
    certificates (DER) by kind."""
    health = jpki_call(ports, data, health_pb2_grpc.HealthStub, "Check", health_pb2.HealthCheckRequest(),
                       "operator:e2e")
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    base = jpki_http(ports)
    # Revocation data goes only to registered verifiers (公的個人認証法 17条・36条 届出); CA certificates to anyone.
    token = jpki_call(ports, data, pb_grpc.VerifierRegistryServiceStub, "RegisterVerifier", pb.RegisterVerifierRequest(
        kind=pb.VERIFIER_KIND_PLATFORM_OPERATOR, organization="e2e", filing_ref="e2e-0001"), "operator:e2e").token
    cas = {}
    for kind in ("sign", "auth"):
        status, ctype, der = fetch(f"{base}/ca/{kind}.cer")
        assert (status, ctype) == (200, "application/pkix-cert")
        cas[kind] = der
        ca = x509.load_der_x509_certificate(der)
        # As on the real CA certificates, the distribution point is the CA's own name; where the ARL is served is
        # given to registered verifiers out of band (JPKI_HTTP__PUBLIC_BASE_URL).
        assert distribution_points(ca) == [x509.DirectoryName(ca.subject)]
        arl_url = f"{base}/arl/{kind}.crl"
        assert fetch(arl_url)[0] == 401
        arl = fetch_crl(arl_url, token, ca)
        assert arl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value.only_contains_ca_certs
    auth_ca = x509.load_der_x509_certificate(cas["auth"])
    # A certificate issued in 千代田区 names its municipality's CRL, which the CA signs (here on demand).
    card_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    request = pb.IssueCertificateRequest(
        ca=pb.CA_KIND_AUTH, card_id="card-e2e-1", resident_code="98765432103", municipality_code="131016",
        prefecture_name="東京都", municipality_name="千代田区", birth_date="1990-04-01",
        card_expiry=(dt.date.today() + dt.timedelta(days=3650)).isoformat(),
        public_key=card_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
    issued = jpki_call(ports, data, pb_grpc.CertificateAuthorityServiceStub, "IssueCertificate", request,
                       "service:issuance")
    cert = x509.load_der_x509_certificate(issued.certificate)
    cert.verify_directly_issued_by(auth_ca)
    jpki_call(ports, data, pb_grpc.CertificateAuthorityServiceStub, "GenerateCrls",
              pb.GenerateCrlsRequest(ca=pb.CA_KIND_AUTH), "operator:e2e")
    [dp] = distribution_points(cert)
    assert isinstance(dp, x509.DirectoryName) and dp.value.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == \
        "千代田区"
    crl_url = f"{base}/crl/auth/131016.crl"
    assert cert.serial_number not in {r.serial_number for r in fetch_crl(crl_url, token, auth_ca)}
    return cas


def check_metrics(ports: dict[str, int], data: Path) -> None:
    """Every service's /metrics on loopback, as Prometheus scrapes it, shows the calls just made; `mynumber status`
    reads the same figures."""
    from prometheus_client.parser import text_string_to_metric_families

    def scrape(metrics_port: int) -> list[tuple[str, dict[str, str], float]]:
        status, ctype, body = fetch(f"http://127.0.0.1:{metrics_port + ports['offset']}/metrics")
        assert (status, ctype) == (200, "text/plain"), (metrics_port, status)
        return [(x.name, x.labels, x.value) for f in text_string_to_metric_families(body.decode()) for x in f.samples]

    def total(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
        return sum(v for n, ls, v in samples if n == name and labels.items() <= ls.items())

    numbering, notice, jpki = scrape(9451), scrape(9453), scrape(9454)
    assign = "/mynumber.numbering.v1.NumberingService/AssignNumber"
    assert total(numbering, "rpc_server_calls_total", rpc_method=assign, rpc_grpc_status="OK") >= 1
    assert total(numbering, "rpc_server_calls_total", rpc_method=assign, rpc_grpc_status="INVALID_ARGUMENT") >= 1
    assert total(numbering, "mynumber_numbering_bulk_items_total", outcome="assigned") == 3000
    assert total(jpki, "rpc_server_calls_total", rpc_grpc_status="OK", mynumber_caller_kind="service") >= 1
    assert any(n == "mynumber_consumer_pending" for n, _, _ in notice)
    # The database-fed gauges follow within their refresh interval (2 s under `make run`).
    deadline = time.monotonic() + 30
    while not (total(scrape(9451), "mynumber_numbering_numbers", status="active") >= 3001
               and total(scrape(9454), "mynumber_jpki_certificates", ca_kind="auth", status="good") >= 1):
        assert time.monotonic() < deadline, "the database-fed gauges never showed the numbers and the certificate"
        time.sleep(0.5)
    status = mynumber(ports, data, "status", identity="operator:e2e")
    assert [line.split()[:2] for line in status.stdout.splitlines() if not line.startswith(" ")] == [
        ["numbering", "SERVING"], ["notice", "SERVING"], ["jpki", "SERVING"], ["issuance", "SERVING"],
        ["gateway", "SERVING"]]


def check_gateway(ports: dict[str, int], data: Path, number: str) -> None:
    """The gateway of `make run` as docs/gateway.md's curl does: HTTPS on 127.0.0.1 with the certificate
    `mynumber dev-cert` names, numbering behind it; no client certificate, no TLS session."""
    import json
    import ssl

    ca, cert, key = mynumber(ports, data, "dev-cert").stdout.split()
    base = f"https://127.0.0.1:{8443 + ports['http_offset']}"
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    lookup = urllib.request.Request(f"{base}/v1/numbering/residents/98765432103/number",
                                    headers={"Purpose-Of-Use": "b1-juuki"})
    with urllib.request.urlopen(lookup, context=ctx, timeout=30) as r:
        assert json.loads(r.read())["individual_number"] == number
    bare = ssl.create_default_context(cafile=ca)
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"{base}/v1/openapi.json", context=bare, timeout=30).read()


def check_identities(ports: dict[str, int], data: Path) -> None:
    """Real identities on the local platform: no plain TCP, no identity from metadata, no anonymous NATS client."""
    numbering = f"127.0.0.1:{50051 + ports['offset']}"
    health = health_pb2.HealthCheckRequest()
    with grpc.insecure_channel(numbering) as ch, pytest.raises(grpc.RpcError) as plain:
        health_pb2_grpc.HealthStub(ch).Check(health, timeout=10)
    assert plain.value.code() == grpc.StatusCode.UNAVAILABLE
    other = DevCA(data / "elsewhere").issue("municipality:131016")  # a stranger's CA, a valid-looking name
    creds = grpc.ssl_channel_credentials((data / "devca" / "ca.pem").read_bytes(), other.key_file.read_bytes(),
                                         other.cert_file.read_bytes())
    with grpc.secure_channel(numbering, creds) as ch, pytest.raises(grpc.RpcError) as stranger:
        health_pb2_grpc.HealthStub(ch).Check(health, timeout=10)
    assert stranger.value.code() == grpc.StatusCode.UNAVAILABLE
    # A store terminal naming a municipality in metadata stays a store terminal.
    with tls_channel(data, numbering, "store-terminal:7-11-000123") as ch, pytest.raises(grpc.RpcError) as claimed:
        npb_grpc.NumberingServiceStub(ch).LookupNumber(
            npb.LookupNumberRequest(municipality_code="131016", resident_code="98765432103"),
            metadata=(("x-mynumber-caller", "municipality:131016"),), timeout=10)
    assert claimed.value.code() == grpc.StatusCode.PERMISSION_DENIED
    anonymous = subprocess.run([sys.executable, "-c", ANONYMOUS_NATS, f"nats://127.0.0.1:{ports['nats']}"],
                               capture_output=True, text=True, timeout=60)
    assert anonymous.returncode == 0 and "refused" in anonymous.stdout, anonymous.stdout + anonymous.stderr


ANONYMOUS_NATS = """
import asyncio, sys
import nats

async def main():
    try:
        await nats.connect(sys.argv[1], allow_reconnect=False, max_reconnect_attempts=0)
    except nats.errors.Error as e:
        print("refused" if "Authorization Violation" in str(e) else f"other: {e}")
        return
    print("connected")

asyncio.run(main())
"""


def check_notice(ports: dict[str, int], data: Path) -> None:
    """notice on the same platform: the municipality's list for an already numbered resident becomes one envelope
    (the number.assigned event came first, the list second)."""
    listing = data / "list.csv"
    listing.write_text("household_id,address,postal_code,resident_code,name,birth_date,sex\n"
                       "E2E-1,東京都千代田区永田町1-7-1,1000014,12345678903,試験 花子,1990-04-01,2\n")
    mynumber(ports, data, "notice", "submit", "131016", str(listing))
    deadline = time.monotonic() + 60
    while True:
        rows = [line.split("\t") for line in mynumber(ports, data, "notice", "mailings", "131016").stdout.splitlines()]
        ours = [r for r in rows if len(r) > 5 and r[1] == "E2E-1"]
        if ours or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(ours) == 1 and ours[0][5] == "1 item(s)", rows


def check_issuance(ports: dict[str, int], data: Path) -> None:
    """issuance on the same platform: the form notice made for check_notice's resident reaches the print vendor's
    batch with its 申請書ID, and a counter application on it is accepted (issuance learnt the ID from notice's
    form.issued event); another municipality is told only that the form is unknown."""
    from PIL import Image

    exported = mynumber(ports, data, "notice", "export", "--no-pdfs", identity="operator:e2e").stdout
    batch = Path(next(line.split("\t")[0].removeprefix("file ") for line in exported.splitlines()
                      if line.startswith("file ")))
    (application_id,) = [line.split("|")[4] for line in batch.read_text().splitlines()
                         if line.startswith("CRD|") and "試験 花子" in line]
    photo = data / "photo.jpg"
    Image.frombytes("RGB", (600, 800), os.urandom(600 * 800 * 3)).save(photo, format="JPEG", quality=85)
    facts = ["--photo", str(photo), "--name", "試験 花子", "--address", "東京都千代田区永田町1-7-1",
             "--birth-date", "1990-04-01", "--sex", "female"]
    deadline = time.monotonic() + 60
    while True:  # notice's relay, then issuance's consumer
        done = mynumber(ports, data, "issuance", "submit", "131016", application_id, *facts, check=False)
        if done.returncode == 0 or "UNKNOWN_FORM" not in done.stderr or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert done.returncode == 0, done.stderr
    ref, state, channel = done.stdout.split("\t")[:3]
    assert (state, channel) == ("accepted", "counter")
    assert any(line.startswith(ref) for line in mynumber(ports, data, "issuance", "list", "131016").stdout.splitlines())
    other = mynumber(ports, data, "issuance", "submit", "131024", application_id, *facts,
                     identity="municipality:131024", check=False)
    assert other.returncode == 2 and "UNKNOWN_FORM" in other.stderr and application_id not in other.stderr


@pytest.fixture
def data() -> Iterator[Path]:
    """The platform's data folder, removed afterwards whether or not the test got through."""
    path = scratch_dir("mynumber-e2e-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_readme_walkthrough_and_the_jpki_ca_on_the_local_platform(data: Path):
    offset, http_offset = free_offsets()
    ports = {"pg": free_port(), "nats": free_port(), "offset": offset, "http_offset": http_offset}
    proc, banner = start(data, ports)
    try:
        assert f"jpki: grpc 127.0.0.1:{50054 + ports['offset']} http {jpki_http(ports)} " in banner
        assert "sign: created" in banner and "auth: created" in banner  # the key ceremony, on the first start
        first = mynumber(ports, data, "assign", "131016", "12345678903").stdout.split()
        assert in_.is_valid(first[0]) and first[1] == "assigned"
        register = data / "reg.csv"
        register.write_text(mynumber(ports, data, "synth-register", "131016", "--count", "3000", "--seed", "5").stdout)
        bulk = mynumber(ports, data, "bulk-assign", str(register), "--out", str(data / "out.csv"))
        assert "received 3000, assigned 3000, already assigned 0, refused 0" in bulk.stdout
        check_notice(ports, data)
        check_issuance(ports, data)
        changed = mynumber(ports, data, "change-number", "131016", "12345678903", "--reason", "on-request",
                           "--detail", "case-42").stdout.strip()
        assert in_.is_valid(changed) and changed != first[0]
        history = mynumber(ports, data, "lookup", "131016", "12345678903", "--history").stdout.splitlines()
        assert [h.split("\t")[:2] for h in history] == [[changed, "active"], [first[0], "retired"]]
        moved = mynumber(ports, data, "change-resident-code", "131016", "12345678903", "98765432103").stdout.split()
        assert moved == [changed, "kept"]
        # 住基法 第30条の10: 中央区 is given 千代田区's resident's number only when it names the basis and a case.
        neighbour = mynumber(ports, data, "lookup", "131024", "98765432103", "--same-prefecture-case", "c-1",
                             identity="municipality:131024")
        assert neighbour.stdout.split()[0] == changed
        plain = mynumber(ports, data, "lookup", "131024", "98765432103", identity="municipality:131024", check=False)
        assert plain.returncode == 2 and changed not in plain.stdout + plain.stderr
        # 符号 come from numbering only to the linkage network (番号法 第21条), never to an agency directly.
        sector = mynumber(ports, data, "sector-code", "AG-01", changed, identity="service:linkage")
        assert len(sector.stdout.strip()) == 32
        refused = mynumber(ports, data, "assign", "131016", "12345678904", check=False)
        assert refused.returncode == 2 and "resident_code" in refused.stderr and "check digit" in refused.stderr
        cas = check_jpki(ports, data)
        check_identities(ports, data)
        check_metrics(ports, data)
        check_gateway(ports, data, changed)
    finally:
        out = stop(proc)
    assert proc.returncode == 0 and "stopped." in out
    # Nothing died on the way: the launcher restarts a crashed service quietly enough for every call to go through.
    assert not [line for line in out.splitlines() if line.startswith("devstack: ") and " exited (" in line], out
    # A restart keeps the state under the data folder: the numbers, and the CA keys in the SoftHSM token.
    proc, banner = start(data, ports)
    try:
        assert mynumber(ports, data, "lookup", "131016", "98765432103").stdout.split()[0] == changed
        assert "sign: exists" in banner and "auth: exists" in banner
        assert "sign: created" not in banner and "auth: created" not in banner
        for kind, der in cas.items():
            assert fetch(f"{jpki_http(ports)}/ca/{kind}.cer")[2] == der
    finally:
        stop(proc)
