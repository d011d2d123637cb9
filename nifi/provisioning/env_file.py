"""The stack's settings: `.env` (written once with random secrets) under the environment."""

import os
import secrets

from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.settings import DEFAULT_PORTS, S3_ACCOUNTS, load_settings

from .paths import ENV_FILE, REPO
from .processes import say

GENERATED = {
    "NIFI_PASSWORD": lambda: secrets.token_urlsafe(24),
    "NIFI_SENSITIVE_PROPS_KEY": lambda: secrets.token_urlsafe(24),
    "MINIO_ROOT_PASSWORD": lambda: secrets.token_urlsafe(24),
    "MINIO_FLOW_PASSWORD": lambda: secrets.token_urlsafe(24),
    "MINIO_ANALYST_PASSWORD": lambda: secrets.token_urlsafe(24),
    "FERNET_KEYS": generate_key,
}


def ensure_env_file() -> None:
    """Create .env from .env.example with random secrets and a fresh Fernet key.

    An existing .env keeps every value; only a MinIO account added by a newer version (one the
    .env and the environment both lack) is appended to it, with a random secret.
    """
    example = [line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines()]
    if ENV_FILE.exists():
        _add_missing_accounts({name: rest[0] for name, *rest in example if rest})
        return
    lines = [f"{name}={GENERATED[name]()}" if name in GENERATED and rest else "=".join([name, *rest])
             for name, *rest in example]
    ENV_FILE.write_text("\n".join(lines) + "\n")
    ENV_FILE.chmod(0o600)
    say(f"wrote {ENV_FILE} with random credentials and a new Fernet key (keep it: it decrypts your data)")


def _add_missing_accounts(documented: dict[str, str]) -> None:
    """The flow's or the analyst's account, when the .env predates it; never MinIO's root."""
    text = ENV_FILE.read_text()
    present = {line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line} | set(os.environ)
    added = {}
    for account, (user, password) in S3_ACCOUNTS.items():
        if account != "root" and password not in present:
            added.update({} if user in present else {user: documented[user]})
            added[password] = GENERATED[password]()
    if added:
        lines = [f"{name}={value}" for name, value in added.items()]
        ENV_FILE.write_text(text + ("" if text.endswith("\n") else "\n") + "\n".join(lines) + "\n")
        say(f"added {', '.join(added)} to {ENV_FILE} (a random secret; every other value kept)")


def read_env() -> dict[str, str]:
    """.env with the environment over it, plus the default ports."""
    return {**DEFAULT_PORTS, **load_settings(ENV_FILE)}
