"""`mynumber --as <identity> dev-cert` prints the CA, certificate and key paths of that identity's dev certificate."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from cryptography import x509
from mynumber_cli.main import cli
from mynumber_runtime.devca import DevCA
from mynumber_runtime.identity import caller_from_certificate


def test_dev_cert_prints_the_identitys_files(tmp_path: Path) -> None:
    DevCA(tmp_path / "devca").certificate()  # `make run` made the CA
    out = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "--as", "municipality:131016", "dev-cert"])
    assert out.exit_code == 0, out.output
    ca, cert, key = (Path(line) for line in out.output.splitlines())
    assert ca == tmp_path / "devca" / "ca.pem" and key.exists()
    pem = cert.read_bytes()
    x509.load_pem_x509_certificate(pem)
    assert str(caller_from_certificate(pem)) == "municipality:131016"
