"""NiFi's conf/, rendered from the templates in nifi/conf/ with values from .env and the stack.

Rendered on every start, so a changed .env (port, credentials, sensitive props key) takes
effect on the next `nifi/stack up`. The password is stored only as a bcrypt hash.
"""

import string
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import bcrypt

from .paths import NIFI_CONF, NIFI_STATE, REPO
from .processes import StackError
from .tls import TlsStores

TEMPLATES = REPO / "nifi" / "conf"
LOGIN_PROVIDER_CLASS = "org.ecommercepipeline.nifi.login.BcryptLoginIdentityProvider"
ADMIN_MARKER = ".initial-admin"
MIN_PASSWORD_LENGTH = 12
MIN_SENSITIVE_KEY_LENGTH = 12


@dataclass(frozen=True)
class HttpsListener:
    """Where NiFi's HTTPS binds, and the host:port names clients reach it by (nifi.web.proxy.host)."""

    host: str
    port: int
    proxy_hosts: tuple[str, ...]

    @classmethod
    def loopback(cls, port: int) -> "HttpsListener":
        """The native stack's: this machine only."""
        return cls("127.0.0.1", port, (f"localhost:{port}", f"127.0.0.1:{port}"))


class ConfTemplate(string.Template):
    """`@{name}` placeholders: `${...}` belongs to logback and NiFi's expression language."""

    delimiter = "@"


def render_conf(home: Path, env: dict[str, str], tls: TlsStores, logs: Path, listener: HttpsListener) -> None:
    username, password = _required(env, "NIFI_USERNAME"), _required(env, "NIFI_PASSWORD")
    sensitive_key = _required(env, "NIFI_SENSITIVE_PROPS_KEY")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StackError(f"NIFI_PASSWORD in .env must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(sensitive_key) < MIN_SENSITIVE_KEY_LENGTH:
        raise StackError(f"NIFI_SENSITIVE_PROPS_KEY in .env must have at least {MIN_SENSITIVE_KEY_LENGTH} characters")
    values = {
        "state": str(NIFI_STATE),
        "home": str(home),
        "logs": str(logs),
        "python": sys.executable,
        "https_host": listener.host,
        "https_port": str(listener.port),
        "proxy_hosts": ",".join(listener.proxy_hosts),
        "sensitive_props_key": sensitive_key,
        "keystore": str(tls.keystore),
        "truststore": str(tls.truststore),
        "store_password": tls.password,
        "username": escape(username),
        "password_hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode(),
        "login_provider_class": LOGIN_PROVIDER_CLASS,
    }
    NIFI_CONF.mkdir(parents=True, exist_ok=True)
    NIFI_STATE.chmod(0o700)
    _forget_previous_admin(username)
    for template in sorted(TEMPLATES.iterdir()):
        target = NIFI_CONF / template.name
        target.write_text(ConfTemplate(template.read_text()).substitute(values))
        target.chmod(0o600)


def _forget_previous_admin(username: str) -> None:
    """NiFi applies the initial admin only to empty user and policy files: reset them on a new name."""
    marker = NIFI_CONF / ADMIN_MARKER
    if marker.exists() and marker.read_text() != username:
        for name in ("users.xml", "authorizations.xml"):
            (NIFI_CONF / name).unlink(missing_ok=True)
    marker.write_text(username)


def _required(env: dict[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise StackError(f"{name} is not set: add it to .env (see .env.example)")
    return value
