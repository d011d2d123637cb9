"""nifi/stack on its own state, .env and ports: a second MinIO beside the suite's, really started."""

import socket
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ecommerce_pipeline.settings import load_settings

from conftest import STACK

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(private_stack):
    return private_stack


def test_up_writes_a_private_env_with_random_secrets_and_a_fernet_key(stack):
    assert stack("up", "minio").returncode == 0
    settings = load_settings(stack.env_file)
    assert oct(stack.env_file.stat().st_mode & 0o777) == "0o600"
    Fernet(settings["FERNET_KEYS"])
    assert "change-me" not in settings["S3_ADMIN_SECRET_KEY"] and len(settings["S3_ADMIN_SECRET_KEY"]) >= 24
    assert settings["NIFI_PASSWORD"] != settings["S3_ADMIN_SECRET_KEY"]


def test_up_is_idempotent_status_reports_and_down_stops(stack):
    assert stack("up", "minio").returncode == 0
    health = f"http://127.0.0.1:{stack.env['MINIO_API_PORT']}/minio/health/live"
    assert urllib.request.urlopen(health, timeout=5).status == 200
    started = time.monotonic()
    again = stack("up", "minio")
    assert again.returncode == 0 and "already running" in again.stdout
    assert time.monotonic() - started < 15
    assert "minio: running, healthy" in stack("status").stdout
    assert stack("down").returncode == 0
    assert "minio: stopped" in stack("status").stdout
    with pytest.raises(OSError):
        urllib.request.urlopen(health, timeout=2)


def test_minio_data_is_owner_only_even_when_it_was_created_open(stack):
    data = Path(stack.env["ECOMMERCE_PIPELINE_STATE"]) / "minio-data"
    data.mkdir(parents=True)
    data.chmod(0o755)
    assert stack("up", "minio").returncode == 0
    assert oct(data.stat().st_mode & 0o777) == "0o700"


def test_an_existing_env_is_never_overwritten(stack):
    stack.env_file.write_text((STACK.parents[1] / ".env.example").read_text().replace("change-me", "kept-value"))
    before = stack.env_file.read_text()
    stack("up", "minio")
    assert stack.env_file.read_text() == before


def test_a_busy_port_is_named_with_the_variable_to_change(stack):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(stack.env["MINIO_API_PORT"])))
        blocker.listen()
        result = stack("up", "minio")
    assert result.returncode == 1
    assert f"port {stack.env['MINIO_API_PORT']} is already in use" in result.stderr
    assert "MINIO_API_PORT" in result.stderr and "Traceback" not in result.stderr
