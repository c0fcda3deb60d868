"""The `mynumber` console script as a user meets it when things go wrong: one line, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mynumber_runtime.embedded import free_port

pytestmark = pytest.mark.integration
MYNUMBER = Path(sys.executable).parent / "mynumber"


def mynumber(*args: str) -> subprocess.CompletedProcess[str]:
    # A port where nothing listens: any call that gets as far as the network is refused.
    return subprocess.run([str(MYNUMBER), "--target", f"127.0.0.1:{free_port()}", *args], capture_output=True,
                          text=True, timeout=60)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_a_register_with_invalid_utf8_and_a_huge_field_is_refused_per_line_without_sending(tmp_path):
    register = tmp_path / "reg.csv"
    register.write_bytes(b"131016,12345678903\n131016,1234\xff5678903\n131016," + b"9" * 5_000_000 + b"\n")
    done = mynumber("bulk-assign", str(register))
    assert one_line_error(done) == "error reg.csv: 2 malformed line(s); nothing was sent"
    assert "line 2: line: not valid UTF-8" in done.stderr
    assert "line 3: line: longer than 1024 bytes" in done.stderr
    assert "99999" not in done.stderr  # the value is never echoed


def test_connection_refused_is_one_line_and_exit_code_2(tmp_path):
    from mynumber_runtime.devca import DevCA

    DevCA(tmp_path / "devca").issue("operator:test")  # a local run's dev CA, so the CLI gets as far as connecting
    local = ("--as", "municipality:131016", "--data-dir", str(tmp_path))
    assert one_line_error(mynumber(*local, "assign", "131016", "12345678903")).startswith(
        "error UNAVAILABLE: cannot reach")
    register = tmp_path / "reg.csv"
    register.write_bytes(b"\xef\xbb\xbf131016,12345678903\n")
    assert one_line_error(mynumber(*local, "bulk-assign", str(register))).startswith(
        "error UNAVAILABLE: cannot reach")


def test_an_unwritable_output_file_is_one_line(tmp_path):
    register = tmp_path / "reg.csv"
    register.write_text("131016,12345678903\n")
    line = one_line_error(mynumber("bulk-assign", str(register), "--out", str(tmp_path / "missing" / "out.csv")))
    assert line == "error No such file or directory (out.csv)"
