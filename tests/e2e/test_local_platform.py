"""The README's promise: `make run` brings the platform up, the operator tool works against it, Ctrl-C stops it
cleanly, and a restart keeps the state. Runs the real launcher and the real `mynumber` console script."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mynumber_runtime.embedded import free_port
from mynumber_runtime.testing.servers import scratch_dir
from stdnum.jp import in_

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def start(data: Path, ports: dict[str, int]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mynumber_devstack", "run", "--data-dir", str(data), "--pg-port", str(ports["pg"]),
         "--nats-port", str(ports["nats"]), "--port-offset", str(ports["offset"])],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    for line in proc.stdout:
        if line.startswith("ready."):
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise AssertionError("the local platform did not come up")


def stop(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    out, _ = proc.communicate(timeout=60)
    return out


def mynumber(ports: dict[str, int], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    target = f"127.0.0.1:{50051 + ports['offset']}"
    return subprocess.run([str(BIN / "mynumber"), "--target", target, *args], capture_output=True, text=True,
                          timeout=120, check=check)


def test_the_readme_walkthrough_on_the_local_platform():
    data = scratch_dir("mynumber-e2e-")
    ports = {"pg": free_port(), "nats": free_port(), "offset": free_port() - 50051}
    proc = start(data, ports)
    try:
        first = mynumber(ports, "assign", "131016", "12345678903").stdout.split()
        assert in_.is_valid(first[0]) and first[1] == "assigned"
        register = data / "reg.csv"
        register.write_text(mynumber(ports, "synth-register", "131016", "--count", "3000", "--seed", "5").stdout)
        bulk = mynumber(ports, "bulk-assign", str(register), "--out", str(data / "out.csv"))
        assert "received 3000, assigned 3000, already assigned 0, refused 0" in bulk.stdout
        changed = mynumber(ports, "change-number", "131016", "12345678903", "--reason", "on-request",
                           "--detail", "case-42").stdout.strip()
        assert in_.is_valid(changed) and changed != first[0]
        history = mynumber(ports, "lookup", "131016", "12345678903", "--history").stdout.splitlines()
        assert [h.split("\t")[:2] for h in history] == [[changed, "active"], [first[0], "retired"]]
        moved = mynumber(ports, "change-resident-code", "131016", "12345678903", "98765432103").stdout.split()
        assert moved == [changed, "kept"]
        assert len(mynumber(ports, "sector-code", "AG-01", changed).stdout.strip()) == 32
        refused = mynumber(ports, "assign", "131016", "12345678904", check=False)
        assert refused.returncode == 2 and "resident_code" in refused.stderr and "check digit" in refused.stderr
    finally:
        out = stop(proc)
    assert proc.returncode == 0 and "stopped." in out
    # A restart keeps the state under the data folder.
    proc = start(data, ports)
    try:
        assert mynumber(ports, "lookup", "131016", "98765432103").stdout.split()[0] == changed
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)
