"""The metrics scraper's client certificate: signed by the stack's CA for clientAuth only, kept while valid."""

import os
import stat

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from nifi.provisioning.tls import _ensure_certificate_authority, ensure_client_certificate


def test_issued_by_the_ca_for_client_auth_only_with_an_owner_only_key(tmp_path):
    ca_file, cert, key = tmp_path / "ca.pem", tmp_path / "metrics.pem", tmp_path / "metrics-key.pem"
    _, ca = _ensure_certificate_authority(ca_file)
    ensure_client_certificate(cert, key, ca_file, "metrics")
    issued = x509.load_pem_x509_certificate(cert.read_bytes())
    issued.verify_directly_issued_by(ca)
    assert issued.subject.rfc4514_string() == "CN=metrics"
    assert list(issued.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_kept_while_valid_and_made_anew_near_expiry_or_for_another_ca(tmp_path):
    ca_file, cert, key = tmp_path / "ca.pem", tmp_path / "metrics.pem", tmp_path / "metrics-key.pem"
    ensure_client_certificate(cert, key, ca_file, "metrics")
    first = cert.read_bytes()
    ensure_client_certificate(cert, key, ca_file, "metrics")
    assert cert.read_bytes() == first
    ensure_client_certificate(cert, key, ca_file, "metrics", renew_within_days=10_000)  # "expires within 10,000 days"
    renewed = cert.read_bytes()
    assert renewed != first
    for stale in (ca_file, ca_file.with_name("ca-key.pem")):
        stale.unlink()
    ensure_client_certificate(cert, key, ca_file, "metrics")  # a new CA: the old certificate no longer verifies
    assert cert.read_bytes() != renewed
    x509.load_pem_x509_certificate(cert.read_bytes()).verify_directly_issued_by(
        x509.load_pem_x509_certificate(ca_file.read_bytes()))
