"""Logging in to NiFi with nipyapi over verified TLS, with one-line errors for the usual failures."""

import socket
import ssl
from pathlib import Path

import nipyapi

from ecommerce_pipeline.exit_codes import CommandFailed, ConfigurationMissing, ServiceUnreachable
from ecommerce_pipeline.settings import DEFAULT_PORTS, require
from nifi.provisioning.paths import DOCKER_CA_CERT, NIFI_CA_CERT


class DeployError(CommandFailed):
    """A failure the user can act on; printed as one message, no traceback (exit 1)."""


class NiFiUnreachable(DeployError, ServiceUnreachable):
    """NiFi does not answer on its port (exit 69)."""


class NiFiSettingsUnusable(DeployError, ConfigurationMissing):
    """NiFi answers, but not to these settings: no CA to verify it, or refused credentials (exit 78)."""


def connect(settings: dict[str, str]) -> None:
    """Points nipyapi at NiFi (NIFI_HTTPS_PORT) and logs in with NIFI_USERNAME / NIFI_PASSWORD."""
    port = settings.get("NIFI_HTTPS_PORT") or DEFAULT_PORTS["NIFI_HTTPS_PORT"]
    username, password = (require(settings, name) for name in ("NIFI_USERNAME", "NIFI_PASSWORD"))
    if not _port_open(int(port)):
        raise NiFiUnreachable(f"NiFi is not reachable on https://localhost:{port}: start it with `nifi/stack up` "
                              "(or `docker compose up -d --wait`)")
    ca_cert = Path(settings.get("NIFI_CA_CERT") or _stack_ca_cert(int(port)))
    if not ca_cert.exists():
        raise NiFiSettingsUnusable(f"no CA certificate at {ca_cert}: start NiFi with `nifi/stack up` "
                                   "(or set NIFI_CA_CERT)")
    nipyapi.config.nifi_config.host = f"https://localhost:{port}/nifi-api"
    nipyapi.security.set_service_ssl_context(service="nifi", ca_file=str(ca_cert))
    try:
        logged_in = nipyapi.security.service_login(
            service="nifi", username=username, password=password, bool_response=True)
    except Exception as error:  # nipyapi raises its own and urllib3's errors here
        raise NiFiUnreachable(f"NiFi on port {port} did not accept the login: {_one_line(error)}") from None
    if not logged_in:
        raise NiFiSettingsUnusable("NiFi refused NIFI_USERNAME / NIFI_PASSWORD from .env")


def _stack_ca_cert(port: int) -> Path:
    """The CA of the stack that answers on the port: the native one's, or the one docker compose exported."""
    found = [ca for ca in (NIFI_CA_CERT, DOCKER_CA_CERT) if ca.exists()]
    return next((ca for ca in found if _verifies(ca, port)), found[0] if found else NIFI_CA_CERT)


def _verifies(ca_cert: Path, port: int) -> bool:
    context = ssl.create_default_context(cafile=str(ca_cert))
    try:
        with socket.create_connection(("localhost", port), timeout=10) as sock:
            with context.wrap_socket(sock, server_hostname="localhost"):
                return True
    except (ssl.SSLError, OSError):
        return False


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300]
