"""NiFi's conf/, rendered from the templates in nifi/conf/ with values from .env and the stack.

Rendered on every start, so a changed .env (port, credentials, sensitive props key) takes
effect on the next `nifi/stack up`. The password is stored only as a bcrypt hash. Every node
of a cluster renders the same templates; only the values of its NiFiNode differ.
"""

import string
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import bcrypt

from ecommerce_pipeline.settings import require

from .layout import NODE_ADDRESS, NiFiNode, zookeeper_connect_string
from .paths import REPO
from .processes import StackError
from .tls import TlsStores, node_identity

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
    def loopback(cls, node: "NiFiNode", cluster: list["NiFiNode"]) -> "HttpsListener":
        """The native stack's: this machine only; a node also answers requests addressed to its peers."""
        return cls("127.0.0.1", node.https_port,
                   tuple(f"{host}:{peer.https_port}" for peer in cluster for host in ("localhost", "127.0.0.1")))


class ConfTemplate(string.Template):
    """`@{name}` placeholders: `${...}` belongs to logback and NiFi's expression language."""

    delimiter = "@"


CLUSTER_STATE_PROVIDER = "zk-provider"  # its id in state-management.xml


def render_conf(home: Path, env: dict[str, str], tls: TlsStores, node: NiFiNode, cluster: list[NiFiNode],
                listener: HttpsListener) -> None:
    """conf/ of `node`, listening on `listener`; `cluster` is every node of its cluster (just `node` when there is none)."""
    username, password = require(env, "NIFI_USERNAME", StackError), require(env, "NIFI_PASSWORD", StackError)
    sensitive_key = require(env, "NIFI_SENSITIVE_PROPS_KEY", StackError)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StackError(f"NIFI_PASSWORD in .env must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(sensitive_key) < MIN_SENSITIVE_KEY_LENGTH:
        raise StackError(f"NIFI_SENSITIVE_PROPS_KEY in .env must have at least {MIN_SENSITIVE_KEY_LENGTH} characters")
    values = {
        "state": str(node.state),
        "home": str(home),
        "logs": str(node.logs),
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
        **cluster_values(env, node, cluster),
    }
    node.conf.mkdir(parents=True, exist_ok=True)
    node.state.chmod(0o700)
    _forget_previous_admin(node.conf, username)
    for template in sorted(TEMPLATES.iterdir()):
        target = node.conf / template.name
        target.write_text(ConfTemplate(template.read_text()).substitute(values))
        target.chmod(0o600)


def cluster_values(env: dict[str, str], node: NiFiNode, cluster: list[NiFiNode]) -> dict[str, str]:
    """The cluster placeholders; for a single node they keep clustering off (NiFi's defaults)."""
    if not node.clustered:
        return {"cluster_is_node": "false", "node_address": "", "cluster_protocol_port": "", "load_balance_port": "",
                "node_count": "", "zookeeper_connect": "", "cluster_state_provider": "",
                "node_identities": "", "node_user_identities": ""}
    identities = [node_identity(peer.name) for peer in cluster]
    return {
        "cluster_is_node": "true",
        "node_address": NODE_ADDRESS,
        "cluster_protocol_port": str(node.protocol_port),
        "load_balance_port": str(node.load_balance_port),
        "node_count": str(len(cluster)),
        "zookeeper_connect": zookeeper_connect_string(env),
        "cluster_state_provider": CLUSTER_STATE_PROVIDER,
        "node_identities": "".join(f'        <property name="Node Identity {i}">{escape(identity)}</property>\n'
                                   for i, identity in enumerate(identities, 1)),
        "node_user_identities": "".join(
            f'        <property name="Initial User Identity {i}">{escape(identity)}</property>\n'
            for i, identity in enumerate(identities, 2)),
    }


def _forget_previous_admin(conf: Path, username: str) -> None:
    """NiFi applies the initial admin only to empty user and policy files: reset them on a new name."""
    marker = conf / ADMIN_MARKER
    if marker.exists() and marker.read_text() != username:
        for name in ("users.xml", "authorizations.xml"):
            (conf / name).unlink(missing_ok=True)
    marker.write_text(username)

