"""One table of exit statuses for every command: what each returns when nothing answers, a setting is missing,
or the command line is wrong (no server needed for any of these)."""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ecommerce_pipeline import exit_codes
from ecommerce_pipeline.fernet_tokens import InvalidKeyList
from ecommerce_pipeline.object_store import CredentialsRejected, StorageError, StoreUnreachable
from ecommerce_pipeline.settings import MissingSetting

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(("error", "status"), [
    (MissingSetting("FERNET_KEYS is not set"), 78),
    (InvalidKeyList("FERNET_KEYS: key 1 of 1 is not url-safe base64"), 78),
    (CredentialsRejected("InvalidAccessKeyId"), 78),
    (StoreUnreachable("cannot reach S3"), 69),
    (ConnectionRefusedError(), 69),
    (StorageError("AccessDenied"), 1),
    (FileNotFoundError("gone.csv"), 1),
    (ValueError("column 'payment_info', row 0: no key opens it"), 1),
    (exit_codes.UsageError("OUT must end in .csv"), 2),
])
def test_each_error_exits_with_the_status_of_its_meaning(error, status):
    assert exit_codes.exit_status(error) == status


@pytest.fixture
def no_services(tmp_path):
    """An environment naming ports where nothing listens and a state directory of its own."""
    return {**os.environ, "ECOMMERCE_PIPELINE_STATE": str(tmp_path / "state"),
            "ECOMMERCE_PIPELINE_ENV_FILE": str(tmp_path / ".env"), "NIFI_HTTPS_PORT": str(free_port()),
            "MINIO_API_PORT": str(free_port()), "MINIO_CONSOLE_PORT": str(free_port()),
            "NIFI_USERNAME": "admin", "NIFI_PASSWORD": "not-a-real-secret"}


def run(command, *args, env):
    return subprocess.run([sys.executable, str(REPO / command), *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)


def test_stack_status_exits_69_when_nothing_answers_and_says_what_in_json(no_services):
    lines = run("nifi/stack", "status", env=no_services)
    assert lines.returncode == 69, lines.stderr
    assert lines.stdout.splitlines()[-1] == "not healthy: minio, nifi"
    document = run("nifi/stack", "status", "--json", env=no_services)
    assert document.returncode == 69
    assert json.loads(document.stdout) == {
        "healthy": False, "topology": {"nodes": 1, "minio_servers": 1, "store": "minio"},
        "services": [{"service": "minio", "running": False, "healthy": False, "detail": "", "url": ""},
                     {"service": "nifi", "running": False, "healthy": False, "detail": "",
                      "url": f"https://localhost:{no_services['NIFI_HTTPS_PORT']}/nifi"}]}


def test_stack_usage_errors_exit_2(no_services):
    assert run("nifi/stack", "status", "bogus", env=no_services).returncode == 2
    assert run("nifi/stack", "explode", env=no_services).returncode == 2


def test_deploy_exits_69_when_nifi_does_not_answer_78_without_credentials_2_on_usage(no_services):
    assert run("deploy_flow.py", "status", env=no_services).returncode == 69
    missing = run("deploy_flow.py", "status", env={**no_services, "NIFI_USERNAME": ""})
    assert missing.returncode == 78 and "NIFI_USERNAME is not set" in missing.stderr
    keys = run("deploy_flow.py", env={**no_services, "FERNET_KEYS": "not a key!"})
    assert keys.returncode == 78 and "FERNET_KEYS" in keys.stderr and "not a key!" not in keys.stderr
    assert run("deploy_flow.py", "explode", env=no_services).returncode == 2


def test_the_readme_table_lists_every_status_with_its_meaning():
    readme = (REPO / "README.md").read_text()
    table = dict(re.findall(r"^\| (\d+) \| (.+?) \|", readme, re.MULTILINE))
    assert {int(code) for code in table} == set(exit_codes.MEANINGS), table
