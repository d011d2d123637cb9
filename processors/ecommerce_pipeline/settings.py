"""The settings every entry point reads: the environment over one `.env` file.

Where `.env` is (one rule): the file ECOMMERCE_PIPELINE_ENV_FILE names, else `.env` in a
directory: the working directory for the `ecommerce-pipeline` command (its `--env-file`
overrides both), the checkout for the repository's tools (nifi/stack, deploy_flow.py, the
tests, the benchmarks). Secrets (Fernet keys, S3 and NiFi credentials) live only there,
never in git or the flow.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from .exit_codes import ConfigurationMissing

ENV_FILE_VARIABLE = "ECOMMERCE_PIPELINE_ENV_FILE"
DEFAULT_PORTS = {
    "MINIO_API_PORT": "9000", "MINIO_CONSOLE_PORT": "9001", "NIFI_HTTPS_PORT": "8443",
    # Used by `nifi/stack up --nodes N` only (node i and ZooKeeper server i add i-1).
    "NIFI_CLUSTER_PROTOCOL_PORT": "11443", "NIFI_LOAD_BALANCE_PORT": "6342",
    "ZOOKEEPER_CLIENT_PORT": "2181", "ZOOKEEPER_PEER_PORT": "2888", "ZOOKEEPER_ELECTION_PORT": "3888",
    # Used by `nifi/stack up --store seaweedfs` only: master, volume, filer on this, +1, +2; gRPC on each + 10000.
    "SEAWEEDFS_PORT": "9333",
}
DEFAULT_BUCKET = "ecommerce-lake"
PLACEHOLDERS = ("change-me", "replace-with")  # .env.example's values, never real ones


class MissingSetting(ConfigurationMissing):
    """A required variable is in neither the environment nor `.env`."""


def env_file(directory: str | os.PathLike = ".") -> Path:
    """The `.env` to read: ECOMMERCE_PIPELINE_ENV_FILE, else `.env` in `directory`."""
    return Path(os.environ.get(ENV_FILE_VARIABLE) or Path(directory) / ".env")


def load_settings(path: str | os.PathLike | None = None) -> dict[str, str]:
    """The environment over `path` (default: env_file()); the environment wins, as docker compose does."""
    values = {k: v for k, v in dotenv_values(Path(path or env_file())).items() if v is not None}
    values.update(os.environ)
    return with_legacy_names(values)


def require(settings: dict[str, str], name: str, error: type[Exception] = MissingSetting) -> str:
    """The value of a required variable; `error` (the caller's own kind) names it when unset or a placeholder."""
    value = settings.get(name, "").strip()
    if not value or value.startswith(PLACEHOLDERS):
        raise error(f"{name} is not set: add it to .env (see .env.example) or the environment")
    return value


def s3_endpoint_url(settings: dict[str, str]) -> str:
    """S3_ENDPOINT_URL, else the stack's MinIO on this machine (it listens on 127.0.0.1 only)."""
    return settings.get("S3_ENDPOINT_URL") or f"http://127.0.0.1:{settings.get('MINIO_API_PORT') or DEFAULT_PORTS['MINIO_API_PORT']}"


def s3_bucket(settings: dict[str, str]) -> str:
    return settings.get("S3_BUCKET") or DEFAULT_BUCKET


# Who reaches the bucket, each with an identity of its own in the store (store-neutral names):
# account -> (access key variable, secret key variable). The admin identity stays with the stack,
# which creates the other three with least-privilege policies (nifi/provisioning/access_policies.py).
S3_ACCOUNTS = {
    "admin": ("S3_ADMIN_ACCESS_KEY", "S3_ADMIN_SECRET_KEY"),  # the store's root: buckets and identities
    "flow": ("S3_FLOW_ACCESS_KEY", "S3_FLOW_SECRET_KEY"),  # NiFi and `ingest`: store rows, claim the ledger
    "analyst": ("S3_ANALYST_ACCESS_KEY", "S3_ANALYST_SECRET_KEY"),  # read-only: queries, decrypt, drop's wait
    "maintainer": ("S3_MAINTAINER_ACCESS_KEY", "S3_MAINTAINER_SECRET_KEY"),  # rewrites the lake: rotation, erasure
}
# The names .env files used before the store-neutral ones: still read wherever a new name is unset.
LEGACY_NAMES = {
    "S3_ADMIN_ACCESS_KEY": "MINIO_ROOT_USER", "S3_ADMIN_SECRET_KEY": "MINIO_ROOT_PASSWORD",
    "S3_FLOW_ACCESS_KEY": "MINIO_FLOW_USER", "S3_FLOW_SECRET_KEY": "MINIO_FLOW_PASSWORD",
    "S3_ANALYST_ACCESS_KEY": "MINIO_ANALYST_USER", "S3_ANALYST_SECRET_KEY": "MINIO_ANALYST_PASSWORD",
}


def with_legacy_names(settings: dict[str, str]) -> dict[str, str]:
    """`settings` with each unset store-neutral name taken from its older MINIO_* name."""
    return {**settings, **{new: settings[old] for new, old in LEGACY_NAMES.items()
                           if not settings.get(new) and settings.get(old)}}


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str
    access_key: str
    secret_key: str = field(repr=False)  # kept out of logs and test reports
    bucket: str

    @classmethod
    def from_settings(cls, settings: dict[str, str], account: str = "admin") -> "S3Settings":
        """The bucket as one of S3_ACCOUNTS sees it."""
        access_key, secret_key = S3_ACCOUNTS[account]
        settings = with_legacy_names(settings)
        return cls(
            endpoint_url=s3_endpoint_url(settings),
            access_key=require(settings, access_key),
            secret_key=require(settings, secret_key),
            bucket=s3_bucket(settings),
        )

    def client(self):
        """A boto3 S3 client for the store (object_store.s3_client: path-style but on AWS, checksums when required)."""
        from .object_store import s3_client

        return s3_client(self.endpoint_url, self.access_key, self.secret_key)
