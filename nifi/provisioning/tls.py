"""NiFi's TLS material, made once: a local CA, a certificate per node, PKCS12 stores (and PEM files for
SeaweedFS's mutual TLS between its own servers, ensure_mutual_tls).

The certificate names localhost and 127.0.0.1, plus any DNS names the caller adds (in
docker compose, the service name other containers reach NiFi by).

The CA certificate is exported as PEM (paths.NIFI_CA_CERT) so curl (--cacert), nipyapi,
browsers and the tests verify NiFi's certificate instead of switching verification off.
Its key stays beside it (0600), so every node of a cluster gets its own certificate from
the one CA; nodes authenticate to each other with them (server and client auth).
"""

import datetime as dt
import ipaddress
import json
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825


@dataclass(frozen=True)
class TlsStores:
    keystore: Path
    truststore: Path
    password: str
    ca_cert: Path


def ensure_tls(directory: Path, ca_cert: Path, java_home: Path, subject: str = "localhost",
               dns_names: tuple[str, ...] = ()) -> TlsStores:
    """The stores in `directory` for a node named `subject` (its certificate's CN), signed by the CA
    at `ca_cert`; generated on first use and kept while that CA signed them and the names stay the same."""
    secrets_file = directory / "stores.json"
    names = sorted({"localhost", *dns_names})
    stores = TlsStores(directory / "keystore.p12", directory / "truststore.p12", "", ca_cert)
    ca_key, ca = _ensure_certificate_authority(ca_cert)
    if secrets_file.exists() and stores.keystore.exists() and stores.truststore.exists():
        saved = json.loads(secrets_file.read_text())
        if saved.get("ca") == _fingerprint(ca) and saved.get("subject", "localhost") == subject and \
                saved.get("dns_names", ["localhost"]) == names:
            return TlsStores(**{**stores.__dict__, "password": saved["password"]})
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    password = secrets.token_urlsafe(24)
    server_key, server = _server_certificate(ca_key, ca, subject, names)
    stores.keystore.write_bytes(pkcs12.serialize_key_and_certificates(
        b"nifi-key", server_key, server, [ca], serialization.BestAvailableEncryption(password.encode())))
    stores.truststore.unlink(missing_ok=True)
    _import_trusted_certificate(java_home, ca_cert, stores.truststore, password)
    secrets_file.write_text(json.dumps({"password": password, "ca": _fingerprint(ca), "subject": subject,
                                        "dns_names": names}))
    for path in (secrets_file, stores.keystore, stores.truststore):
        path.chmod(0o600)
    return TlsStores(**{**stores.__dict__, "password": password})


def ensure_client_certificate(cert_file: Path, key_file: Path, ca_cert: Path, subject: str,
                              renew_within_days: int = 30) -> None:
    """A client certificate for `subject` (its CN) signed by the CA at `ca_cert`, as PEM files (key 0600) for
    curl and Prometheus; made anew when missing, signed by another CA, or within `renew_within_days` of expiry.

    Extended key usage clientAuth only: it logs a client in, it cannot serve as a node."""
    ca_key, ca = _ensure_certificate_authority(ca_cert)
    if cert_file.exists() and key_file.exists():
        current = x509.load_pem_x509_certificate(cert_file.read_bytes())
        fresh = current.not_valid_after_utc - dt.datetime.now(dt.timezone.utc) > dt.timedelta(days=renew_within_days)
        if current.issuer == ca.subject and _signed_by(current, ca) and fresh:
            return
    key, cert = _leaf_certificate(ca_key, ca, subject, [ExtendedKeyUsageOID.CLIENT_AUTH])
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


@dataclass(frozen=True)
class MutualTls:
    """PEM files for mutual TLS between a service's own parts: their CA, and one certificate and key they share."""

    ca_cert: Path
    cert: Path
    key: Path


def ensure_mutual_tls(directory: Path, subject: str) -> MutualTls:
    """A CA of the service's own in `directory` (ca-key.pem beside it) and one certificate for `subject` on
    127.0.0.1 (server and client auth), made once, owner-only: its internal ports then accept only peers that
    hold the key, i.e. the service itself and its owner."""
    material = MutualTls(directory / "ca.pem", directory / f"{subject}.pem", directory / f"{subject}-key.pem")
    ca_key, ca = _ensure_certificate_authority(material.ca_cert)
    if material.cert.exists() and material.key.exists():
        current = x509.load_pem_x509_certificate(material.cert.read_bytes())
        fresh = current.not_valid_after_utc - dt.datetime.now(dt.timezone.utc) > dt.timedelta(days=30)
        if _signed_by(current, ca) and fresh:
            return material
    key, cert = _server_certificate(ca_key, ca, subject, [])
    material.key.touch(mode=0o600)
    material.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    material.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return material


def node_identity(subject: str) -> str:
    """The DN NiFi sees for a node's certificate: what authorizers.xml names as its Node Identity."""
    return f"CN={subject}"


def _ensure_certificate_authority(ca_cert: Path):
    """The CA beside `ca_cert` (ca-key.pem holds its key), created when either is missing."""
    key_file = ca_cert.with_name("ca-key.pem")
    if ca_cert.exists() and key_file.exists():
        return (serialization.load_pem_private_key(key_file.read_bytes(), None),
                x509.load_pem_x509_certificate(ca_cert.read_bytes()))
    ca_cert.parent.mkdir(parents=True, exist_ok=True)
    ca_cert.parent.chmod(0o700)
    key, cert = _certificate_authority()
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _certificate_authority():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecommerce-pipeline local CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf_certificate(ca_key, ca: x509.Certificate, subject: str, usages: list, alternative_names: list | None = None):
    """A key and a certificate for `subject` (CN), signed by the CA, for the extended key usages given."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
    )
    if alternative_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
    cert = (
        builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _server_certificate(ca_key, ca: x509.Certificate, subject: str, dns_names: list[str]):
    """A node's: serverAuth for its HTTPS, clientAuth for the requests nodes make to each other."""
    names = [x509.DNSName(name) for name in dict.fromkeys([subject, *dns_names])]
    return _leaf_certificate(ca_key, ca, subject, [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
                             names + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])


def _import_trusted_certificate(java_home: Path, ca_cert: Path, truststore: Path, password: str) -> None:
    """keytool marks the CA as a trusted entry, which Java's PKCS12 reader requires of a truststore."""
    subprocess.run(
        [str(java_home / "bin" / "keytool"), "-importcert", "-noprompt", "-alias", "ecommerce-pipeline-ca",
         "-file", str(ca_cert), "-keystore", str(truststore), "-storetype", "PKCS12", "-storepass:env", "STOREPASS"],
        check=True, capture_output=True, env={"STOREPASS": password},
    )
