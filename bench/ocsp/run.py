"""bench/ocsp: OCSP responses per second from our responder next to `openssl ocsp -index` serving the same CA and
certificates in the same run, with the same client (loadgen.c) at the same concurrency; plus certificates issued
per second with the CA key in SoftHSM.

Everything runs inside a private network namespace (`unshare -n`, loopback only): `openssl ocsp -port` binds all
interfaces. Run: `.venv/bin/python bench/ocsp/run.py [--seconds 8] [--certs 200] [--concurrency 16]`.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _reexec_in_netns() -> None:
    env = dict(os.environ, JPKI_BENCH_INSIDE="1")
    cmd = ["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', sys.executable, *sys.argv]
    sys.exit(subprocess.run(cmd, env=env).returncode)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _card_keys(n: int) -> list[bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    out = []
    for _ in range(n):
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        out.append(k.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo))
    return out


def _http_request(der: bytes, token: str, keep_alive: bool) -> bytes:
    head = (f"POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\n"
            f"Content-Length: {len(der)}\r\nAuthorization: Bearer {token}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n")
    return head.encode() + der


def _ocsp_status(port: int, der: bytes, token: str) -> str:
    from cryptography.x509 import ocsp

    req = urllib.request.Request(f"http://127.0.0.1:{port}/ocsp", data=der, method="POST",
                                 headers={"Content-Type": "application/ocsp-request",
                                          "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        resp = ocsp.load_der_ocsp_response(r.read())
    if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return resp.response_status.name
    return resp.certificate_status.name


def _wait_ready(port: int, der: bytes, token: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"responder exited with {proc.returncode}")
        try:
            _ocsp_status(port, der, token)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("responder did not come up")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a responder and every process it forked (`openssl ocsp -multi` children outlive their parent)."""
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left


def _tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a responder and its worker processes."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (the load client)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _load(loadgen: Path, port: int, files: list[Path], seconds: float, max_requests: int, concurrency: int,
          keep_alive: bool) -> dict[str, float]:
    out = subprocess.run([str(loadgen), "127.0.0.1", str(port), str(seconds), str(max_requests), str(concurrency),
                          "1" if keep_alive else "0", *map(str, files)], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


async def _prepare(work: Path, pg_url: str, n_certs: int) -> dict[str, object]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509 import ocsp
    from jpki import hsm as hsmmod
    from jpki import profiles
    from jpki.app import build
    from jpki.ceremony import MIGRATIONS, run_ceremony
    from jpki.domain import Issued, IssueRequest, RevocationCause
    from jpki.profiles import CaKind
    from jpki.settings import HsmSettings, HttpSettings, JpkiSettings
    from mynumber_codes import DEFAULT_RESIDENT_CODE_RULE
    from mynumber_runtime.db import migrate
    from mynumber_runtime.identity import Caller
    from mynumber_runtime.settings import DatabaseSettings

    (work / "pin").write_text("123456")
    (work / "keys").write_text("11" * 32)
    (work / "events").write_text("22" * 32)
    hsm_dir = work / "hsm"
    hsmmod.softhsm_config(hsm_dir)
    hsmmod.softhsm_init_token("jpki-bench", so_pin="12345678", user_pin="123456")
    settings = JpkiSettings(database=DatabaseSettings(url=pg_url),
                            hsm=HsmSettings(token_label="jpki-bench", user_pin_file=work / "pin",
                                            softhsm_data_dir=hsm_dir),
                            http=HttpSettings(public_base_url="http://127.0.0.1:8080"),
                            keys_file=work / "keys", events_key_file=work / "events")
    migrate(pg_url, MIGRATIONS)
    jpki = await build(settings)
    await run_ceremony(settings, so_pin="12345678", actor="operator:bench", out_dir=work, jpki=jpki)
    async with jpki.units() as store:
        _, token = await jpki.verifiers.register(store, kind="platform_operator", organization="bench",
                                                 filing_ref="BENCH", actor="operator:bench")

    async def issue(r: IssueRequest) -> Issued:
        async with jpki.units() as store:  # one unit per request, as the gRPC method opens it
            return await jpki.issuance.issue(store, r, caller=Caller("service", "issuance"))

    t = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        keys = [k for chunk in pool.map(_card_keys, [n_certs // 2, n_certs - n_certs // 2]) for k in chunk]
    keygen_s = time.perf_counter() - t
    part = profiles.Partition("131016", "東京都", "千代田区")
    expiry = dt.date.today() + dt.timedelta(days=3650)

    def req(i: int) -> IssueRequest:
        return IssueRequest(kind=CaKind.AUTH, card_id=f"bench-{i}",
                            resident_code=DEFAULT_RESIDENT_CODE_RULE.make(f"{1_000_000_000 + i}"),
                            partition=part, birth_date=dt.date(1980, 1, 1) + dt.timedelta(days=i % 9000),
                            card_expiry=expiry, public_key_der=keys[i])

    # The HSM alone, for scale: RSA-2048 PKCS#1 v1.5 signatures with the CA key in SoftHSM.
    ca_key = jpki.authorities.authority(CaKind.AUTH).key
    t = time.perf_counter()
    for i in range(200):
        ca_key.sign(i.to_bytes(4, "big"), padding.PKCS1v15(), hashes.SHA256())
    hsm_sign_rate = 200 / (time.perf_counter() - t)

    # Half one at a time, half with 8 requests in flight (lint and HSM are serialised; the database waits overlap).
    half = n_certs // 2
    issued = []
    t = time.perf_counter()
    for i in range(half):
        issued.append(await issue(req(i)))
    issue_s = time.perf_counter() - t
    gate = asyncio.Semaphore(8)

    async def issue_gated(i: int) -> Issued:
        async with gate:
            return await issue(req(i))

    t = time.perf_counter()
    issued += await asyncio.gather(*(issue_gated(i) for i in range(half, n_certs)))
    issue_concurrent_s = time.perf_counter() - t
    revoked = issued[::10]
    for c in revoked:
        async with jpki.units() as store:
            await jpki.revocation.revoke(store, CaKind.AUTH, c.serial, RevocationCause.LOSS_OR_COMPROMISE,
                                         caller=Caller("operator", "bench"))

    # The same CA and certificates for `openssl ocsp -index`: a responder certificate from our CA (signed in the
    # HSM) whose key openssl can read, and an index.txt with the same statuses.
    auth = jpki.authorities.authority(CaKind.AUTH)
    rkey = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = jpki.authorities.now()
    rcert = profiles.ocsp_signer_certificate(kind=CaKind.AUTH, ca_cert=auth.cert, public_key=rkey.public_key(),
                                             serial=x509.random_serial_number(), not_before=now,
                                             not_after=now + dt.timedelta(days=2)).sign(auth.key, hashes.SHA256())
    (work / "rsigner.pem").write_bytes(rcert.public_bytes(serialization.Encoding.PEM))
    (work / "rsigner.key").write_bytes(rkey.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    ca_pem = work / "ca.pem"
    ca_pem.write_bytes(auth.cert.public_bytes(serialization.Encoding.PEM))
    revoked_serials = {c.serial for c in revoked}
    lines = []
    for c in issued:
        cert = x509.load_der_x509_certificate(c.cert_der)
        exp = cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
        dn = "/" + "/".join(a.rfc4514_string() for a in cert.subject)
        if c.serial in revoked_serials:
            lines.append(f"R\t{exp}\t{now:%y%m%d%H%M%S}Z,keyCompromise\t{c.serial:X}\tunknown\t{dn}")
        else:
            lines.append(f"V\t{exp}\t\t{c.serial:X}\tunknown\t{dn}")
    (work / "index.txt").write_text("\n".join(lines) + "\n")
    (work / "index.txt.attr").write_text("unique_subject = no\n")

    def ocsp_der(serial: int, nonce: bool) -> bytes:
        cert = x509.load_der_x509_certificate(next(c.cert_der for c in issued if c.serial == serial))
        b = ocsp.OCSPRequestBuilder().add_certificate(cert, auth.cert, hashes.SHA1())
        if nonce:
            b = b.add_extension(x509.OCSPNonce(os.urandom(16)), critical=False)
        return b.build().public_bytes(serialization.Encoding.DER)

    sample = [c.serial for c in issued[:64]]
    reqs = {"plain": [ocsp_der(s, False) for s in sample], "nonce": [ocsp_der(s, True) for s in sample]}
    await jpki.close()
    return {"token": token, "reqs": reqs, "revoked": revoked_serials, "sample": sample,
            "issue_rate": half / issue_s, "issue_concurrent_rate": (n_certs - half) / issue_concurrent_s,
            "issue_n": n_certs, "keygen_s": keygen_s, "hsm_sign_rate": hsm_sign_rate}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--certs", type=int, default=200)
    parser.add_argument("--out", default=str(HERE / "last-run.json"))
    args = parser.parse_args()
    if not os.environ.get("JPKI_BENCH_INSIDE"):
        _reexec_in_netns()

    from mynumber_runtime.testing.servers import create_database, postgres_server

    loadgen = Path(tempfile.mkdtemp(prefix="jpki-loadgen-")) / "loadgen"
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(loadgen), str(HERE / "loadgen.c")], check=True)
    work = Path(tempfile.mkdtemp(prefix="jpki-bench-"))
    work.chmod(0o755)
    results: dict[str, object] = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                  "concurrency": args.concurrency, "seconds_per_run": args.seconds,
                                  "cpus": os.cpu_count()}
    try:
        with postgres_server() as server_url:
            url = create_database(server_url, "jpki_bench")
            prep = asyncio.run(_prepare(work, url, args.certs))
            token = str(prep["token"])
            results["issuance"] = {"certificates": prep["issue_n"], "per_second": round(float(prep["issue_rate"]), 1),
                                   "per_second_8_in_flight": round(float(prep["issue_concurrent_rate"]), 1),
                                   "what": "sequential IssueRequest -> key checks, pkilint, record, HSM sign, "
                                           "OCSP response signed in the HSM, PostgreSQL commits (RSA-2048, SoftHSM)",
                                   "hsm_raw_signatures_per_second": round(float(prep["hsm_sign_rate"]), 1)}
            reqs: dict[str, list[bytes]] = prep["reqs"]  # type: ignore[assignment]
            files: dict[str, list[Path]] = {}
            for kind, ders in reqs.items():
                for ka in (False, True):
                    key = f"{kind}-{'ka' if ka else 'close'}"
                    files[key] = []
                    for i, der in enumerate(ders):
                        p = work / f"req-{key}-{i}.http"
                        p.write_bytes(_http_request(der, token, ka))
                        files[key].append(p)
            first_good = next(i for i, s in enumerate(prep["sample"]) if s not in prep["revoked"])  # type: ignore[attr-defined]
            first_bad = next(i for i, s in enumerate(prep["sample"]) if s in prep["revoked"])  # type: ignore[attr-defined]
            env = dict(os.environ, JPKI_DATABASE__URL=url, JPKI_HSM__TOKEN_LABEL="jpki-bench",
                       JPKI_HSM__USER_PIN_FILE=str(work / "pin"), JPKI_HSM__SOFTHSM_DATA_DIR=str(work / "hsm"),
                       JPKI_KEYS_FILE=str(work / "keys"), JPKI_EVENTS_KEY_FILE=str(work / "events"),
                       JPKI_LOG_LEVEL="WARNING")
            runs: dict[str, dict[str, float]] = {}
            openssl = ["openssl", "ocsp", "-index", "index.txt", "-CA", "ca.pem", "-rsigner", "rsigner.pem", "-rkey",
                       "rsigner.key", "-nmin", "60", "-ignore_err"]
            ours = [sys.executable, "-m", "jpki", "responder", "--workers"]
            configs = [
                ("openssl ocsp -index (1 process)", openssl, "plain-close"),
                ("openssl ocsp -index -multi 2", [*openssl, "-multi", "2"], "plain-close"),
                ("openssl ocsp -index (1 process), keep-alive", openssl, "plain-ka"),
                ("openssl ocsp -index -multi 2, keep-alive", [*openssl, "-multi", "2"], "plain-ka"),
                ("jpki responder (1 process)", [*ours, "1"], "plain-close"),
                ("jpki responder (2 SO_REUSEPORT workers)", [*ours, "2"], "plain-close"),
                ("jpki responder (2 workers), keep-alive", [*ours, "2"], "plain-ka"),
                ("jpki responder (2 workers), nonce: signed per request", [*ours, "2"], "nonce-close"),
            ]
            for name, cmd, reqkind in configs:
                port = _free_port()
                full = [*cmd, "-port", str(port)] if cmd[0] == "openssl" else [*cmd, "--port", str(port)]
                # A file, not a pipe: `openssl ocsp` writes a line per request to stderr and blocks once a pipe
                # nobody reads is full.
                log_path = work / f"responder-{len(runs)}.log"
                with log_path.open("wb") as log_file:
                    proc = subprocess.Popen(full, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=log_file,
                                            process_group=0)  # not a new session: `-multi` calls setpgid itself
                try:
                    _wait_ready(port, reqs["plain"][first_good], token, proc)
                    # Both responders must say the same thing before they are timed.
                    good = _ocsp_status(port, reqs["plain"][first_good], token)
                    bad = _ocsp_status(port, reqs["plain"][first_bad], token)
                    assert (good, bad) == ("GOOD", "REVOKED"), (name, good, bad)
                    server_cpu, client_cpu = _tree_cpu(proc.pid), _children_cpu()
                    r = _load(loadgen, port, files[reqkind], args.seconds, args.max_requests, args.concurrency,
                              reqkind.endswith("-ka"))
                    r["server_cpu_s"] = round(_tree_cpu(proc.pid) - server_cpu, 2)
                    r["client_cpu_s"] = round(_children_cpu() - client_cpu, 2)
                    runs[name] = r
                    print(f"{name:58s} {r['rps']:9.1f}/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                          f"errors {int(r['errors'])}  cpu s: server {r['server_cpu_s']}, client "
                          f"{r['client_cpu_s']}", flush=True)
                except Exception:
                    print(log_path.read_text(errors="replace")[-2000:], file=sys.stderr)
                    raise
                finally:
                    _stop(proc)
            results["ocsp"] = runs
            def best(*names: str) -> float:
                return max(runs[n]["rps"] for n in names)

            def per_cpu(name: str) -> float:
                return runs[name]["ok"] / max(runs[name]["server_cpu_s"], 1e-9)

            ratios = {
                # The same HTTP/1.1 client for both; it keeps a connection unless the responder closes it
                # (`openssl ocsp` answers with Connection: close, so it gets a new connection per request).
                "keep_alive_client": best("jpki responder (2 workers), keep-alive") / best(
                    "openssl ocsp -index (1 process), keep-alive", "openssl ocsp -index -multi 2, keep-alive"),
                # The client forced to open a new TCP connection for every request, for both.
                "new_connection_per_request": best("jpki responder (2 SO_REUSEPORT workers)") / best(
                    "openssl ocsp -index (1 process)", "openssl ocsp -index -multi 2"),
                # Responses per CPU-second of the responder itself (the client shares the 2 cores).
                "server_cpu_efficiency_new_connection": per_cpu("jpki responder (2 SO_REUSEPORT workers)") / per_cpu(
                    "openssl ocsp -index -multi 2"),
            }
            results["ratios_vs_openssl"] = {k: round(v, 2) for k, v in ratios.items()}
            print(f"certificates issued with the HSM: {results['issuance']}")
            for k, v in ratios.items():
                print(f"ours / openssl, {k.replace('_', ' ')}: {v:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(loadgen.parent, ignore_errors=True)
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
