"""The stack's settings: `.env` (written once with random secrets) under the environment."""

import os
import secrets

from dotenv import dotenv_values

from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.settings import DEFAULT_PORTS, LEGACY_NAMES, S3_ACCOUNTS, load_settings

from .paths import ENV_FILE, REPO
from .processes import say

GENERATED = {
    "NIFI_PASSWORD": lambda: secrets.token_urlsafe(24),
    "NIFI_SENSITIVE_PROPS_KEY": lambda: secrets.token_urlsafe(24),
    "S3_ADMIN_SECRET_KEY": lambda: secrets.token_urlsafe(24),
    "S3_FLOW_SECRET_KEY": lambda: secrets.token_urlsafe(24),
    "S3_ANALYST_SECRET_KEY": lambda: secrets.token_urlsafe(24),
    "S3_MAINTAINER_SECRET_KEY": lambda: secrets.token_urlsafe(24),
    "FERNET_KEYS": generate_key,
}


def ensure_env_file() -> None:
    """Create .env from .env.example with random secrets and a fresh Fernet key.

    An existing .env keeps every value. Two additions only: the store-neutral name of each
    MINIO_* credential it still uses (same value, so docker compose, which reads .env itself,
    finds them), and an S3 identity added by a newer version (one the .env and the environment
    both lack), with a random secret.
    """
    example = [line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines()]
    if ENV_FILE.exists():
        _add_missing_names({name: rest[0] for name, *rest in example if rest})
        return
    lines = [f"{name}={GENERATED[name]()}" if name in GENERATED and rest else "=".join([name, *rest])
             for name, *rest in example]
    ENV_FILE.write_text("\n".join(lines) + "\n")
    ENV_FILE.chmod(0o600)
    say(f"wrote {ENV_FILE} with random credentials and a new Fernet key (keep it: it decrypts your data)")


def _add_missing_names(documented: dict[str, str]) -> None:
    """Store-neutral names for older MINIO_* values, and identities the .env predates; never the admin's."""
    text = ENV_FILE.read_text()
    in_file = {k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}
    present = set(in_file) | set(os.environ)
    added = {new: in_file[old] for new, old in LEGACY_NAMES.items() if new not in present and in_file.get(old)}
    present |= set(added)
    for account, (access_key, secret_key) in S3_ACCOUNTS.items():
        if account != "admin" and secret_key not in present and LEGACY_NAMES.get(secret_key) not in present:
            added.update({} if access_key in present else {access_key: documented[access_key]})
            added[secret_key] = GENERATED[secret_key]()
    if added:
        lines = [f"{name}={value}" for name, value in added.items()]
        ENV_FILE.write_text(text + ("" if text.endswith("\n") else "\n") + "\n".join(lines) + "\n")
        say(f"added {', '.join(added)} to {ENV_FILE} (older names' values, random secrets; every other value kept)")


def read_env() -> dict[str, str]:
    """.env with the environment over it, plus the default ports."""
    return {**DEFAULT_PORTS, **load_settings(ENV_FILE)}
