"""The stack's settings: `.env` (written once with random secrets) under the environment."""

import base64
import os
import secrets

from .paths import ENV_FILE, REPO
from .processes import say

DEFAULT_PORTS = {
    "MINIO_API_PORT": "9000", "MINIO_CONSOLE_PORT": "9001", "NIFI_HTTPS_PORT": "8443",
    # Used by `nifi/stack up --nodes N` only (node i and ZooKeeper server i add i-1).
    "NIFI_CLUSTER_PROTOCOL_PORT": "11443", "NIFI_LOAD_BALANCE_PORT": "6342",
    "ZOOKEEPER_CLIENT_PORT": "2181", "ZOOKEEPER_PEER_PORT": "2888", "ZOOKEEPER_ELECTION_PORT": "3888",
}


def ensure_env_file() -> None:
    """Create .env with random credentials and a fresh Fernet key; never overwrite one."""
    if ENV_FILE.exists():
        return
    example = (REPO / ".env.example").read_text()
    generated = {
        "NIFI_PASSWORD": secrets.token_urlsafe(24),
        "NIFI_SENSITIVE_PROPS_KEY": secrets.token_urlsafe(24),
        "MINIO_ROOT_PASSWORD": secrets.token_urlsafe(24),
        "FERNET_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    lines = []
    for line in example.splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={generated[name]}" if name in generated and "=" in line else line)
    ENV_FILE.write_text("\n".join(lines) + "\n")
    ENV_FILE.chmod(0o600)
    say(f"wrote {ENV_FILE} with random credentials and a new Fernet key (keep it: it decrypts your data)")


def read_env() -> dict[str, str]:
    """.env with the environment over it, plus the default ports."""
    from ecommerce_pipeline.settings import load_settings

    return {**DEFAULT_PORTS, **load_settings(ENV_FILE)}
