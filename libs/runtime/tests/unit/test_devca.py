"""The local dev CA: made once and kept, leaves naming the identity, reused while valid, never from another CA."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from mynumber_runtime.devca import DevCA
from mynumber_runtime.identity import caller_from_certificate


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_ca_is_created_on_first_use_with_a_private_key_and_loaded_afterwards(tmp_path: Path) -> None:
    ca = DevCA(tmp_path / "devca")
    first = ca.certificate()
    assert stat.S_IMODE(ca.ca_key_file.stat().st_mode) == 0o600
    assert first.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert DevCA(tmp_path / "devca").certificate() == first  # a second run loads it, makes nothing new


def test_a_client_certificate_names_its_identity_in_the_san_uri_and_is_reused(tmp_path: Path) -> None:
    ca = DevCA(tmp_path)
    creds = ca.issue("municipality:131016")
    cert = _cert(creds.cert_file)
    assert str(caller_from_certificate(creds.cert_file.read_bytes())) == "municipality:131016"
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.UniformResourceIdentifier) == ["urn:mynumber:municipality:131016"]
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    cert.verify_directly_issued_by(ca.certificate())
    assert stat.S_IMODE(creds.key_file.stat().st_mode) == 0o600
    assert DevCA(tmp_path).issue("municipality:131016") == creds
    assert _cert(creds.cert_file) == cert  # reused, not re-issued


def test_a_service_certificate_serves_localhost_and_also_identifies_the_service_as_a_client(tmp_path: Path) -> None:
    ca = DevCA(tmp_path)
    ca.issue("service:numbering")  # a client certificate first: asking for a server one replaces it
    cert = _cert(ca.issue("service:numbering", server=True).cert_file)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    usages = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert usages == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert _cert(ca.issue("service:numbering").cert_file) == cert  # a server certificate also serves as client


def test_leaves_of_a_ca_made_anew_are_reissued(tmp_path: Path) -> None:
    old = DevCA(tmp_path).issue("operator:sre-1")
    old_cert = _cert(old.cert_file)
    old.ca_file.unlink()
    DevCA(tmp_path).ca_key_file.unlink()
    fresh = DevCA(tmp_path)
    new_cert = _cert(fresh.issue("operator:sre-1").cert_file)
    assert new_cert != old_cert
    new_cert.verify_directly_issued_by(fresh.certificate())


@pytest.mark.parametrize("identity", ["municipality", "nobody:1", "municipality:../../etc", "municipality:"])
def test_an_identity_that_is_not_kind_colon_safe_id_is_refused(tmp_path: Path, identity: str) -> None:
    with pytest.raises(Exception, match="identity"):
        DevCA(tmp_path).issue(identity)
    assert not list(tmp_path.glob("*.pem"))  # nothing issued (not even the CA for a refused name)
