"""Settings of the command-line tools: the environment, then `.env` in the working directory.

Secrets (Fernet keys, S3 and NiFi credentials) live only there, never in git or the flow.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values


class MissingSetting(RuntimeError):
    """A required variable is in neither the environment nor `.env`."""


def load_settings(env_file: str | os.PathLike = ".env") -> dict[str, str]:
    """The environment over `.env` (the environment wins, as docker compose does)."""
    values = {k: v for k, v in dotenv_values(Path(env_file)).items() if v is not None}
    values.update(os.environ)
    return values


def require(settings: dict[str, str], name: str) -> str:
    value = settings.get(name, "").strip()
    if not value:
        raise MissingSetting(f"{name} is not set: add it to .env (see .env.example) or the environment")
    return value


# Who reaches the bucket: the stack keeps MinIO's root; the flow and analysts get their own
# least-privilege users (nifi/provisioning/minio_access.py). Account -> (access key, secret) variables.
S3_ACCOUNTS = {
    "root": ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"),
    "flow": ("MINIO_FLOW_USER", "MINIO_FLOW_PASSWORD"),
    "analyst": ("MINIO_ANALYST_USER", "MINIO_ANALYST_PASSWORD"),
}


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str
    access_key: str
    secret_key: str = field(repr=False)  # kept out of logs and test reports
    bucket: str

    @classmethod
    def from_settings(cls, settings: dict[str, str], account: str = "root") -> "S3Settings":
        """The bucket as one of S3_ACCOUNTS sees it."""
        access_key, secret_key = S3_ACCOUNTS[account]
        return cls(
            endpoint_url=settings.get("S3_ENDPOINT_URL") or f"http://localhost:{settings.get('MINIO_API_PORT', '9000')}",
            access_key=require(settings, access_key),
            secret_key=require(settings, secret_key),
            bucket=settings.get("S3_BUCKET") or "ecommerce-lake",
        )

    def client(self):
        """A boto3 S3 client with path-style addressing, as MinIO expects."""
        from .object_store import s3_client

        return s3_client(self.endpoint_url, self.access_key, self.secret_key)
