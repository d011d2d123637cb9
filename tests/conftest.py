"""Fixtures for tests against the real stack (nifi/stack): a missing server fails, never skips."""

import os
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ecommerce_pipeline.ledger import ledger_keys
from ecommerce_pipeline.settings import S3Settings, env_file, load_settings

REPO = Path(__file__).resolve().parents[1]
STACK = REPO / "nifi" / "stack"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def minio() -> S3Settings:
    """MinIO from `nifi/stack up minio` (started, or reused when running), with its bucket."""
    result = subprocess.run(
        [sys.executable, str(STACK), "up", "minio"], capture_output=True, text=True, cwd=REPO
    )
    if result.returncode != 0:
        pytest.fail(f"nifi/stack up minio failed:\n{result.stdout}\n{result.stderr}")
    settings = load_settings(env_file(REPO))
    return S3Settings.from_settings({**settings, "S3_ENDPOINT_URL": f"http://127.0.0.1:{settings.get('MINIO_API_PORT', '9000')}"})


@contextmanager
def ledger_as_found(s3: S3Settings):
    """Deletes the ledger records written inside the block: tests drop seeded exports, and a later test or run
    dropping the same content would otherwise (rightly) be refused as a duplicate."""
    before = ledger_keys(s3.client(), s3.bucket)
    yield
    for key in ledger_keys(s3.client(), s3.bucket) - before:
        s3.client().delete_object(Bucket=s3.bucket, Key=key)


@pytest.fixture(scope="session", autouse=True)
def session_leaves_the_ledger_as_found(request):
    """What module fixtures ingested is forgotten at the end of the session (of the stack's MinIO:
    the Docker and cluster suites bring their own)."""
    if not any("minio" in getattr(item, "fixturenames", ()) for item in request.session.items):
        yield
        return
    with ledger_as_found(request.getfixturevalue("minio")):
        yield


@pytest.fixture(autouse=True)
def each_test_leaves_the_ledger_as_found(request):
    """What a test using the stack's MinIO ingested is forgotten after it."""
    if "minio" not in request.fixturenames:
        yield
        return
    with ledger_as_found(request.getfixturevalue("minio")):
        yield


@dataclass(frozen=True)
class NiFi:
    """How the tests reach the stack's NiFi: its port, CA certificate and .env credentials."""

    port: int
    ca_cert: Path
    username: str
    password: str = field(repr=False)  # pytest prints fixture values in failure reports

    @property
    def api(self) -> str:
        return f"https://localhost:{self.port}/nifi-api"


@pytest.fixture(scope="session")
def nifi(minio) -> NiFi:
    """NiFi 2.3.0 from `nifi/stack up nifi` (assembled, started or reused); fails if it cannot run."""
    result = subprocess.run([sys.executable, str(STACK), "up", "nifi"], capture_output=True, text=True, cwd=REPO)
    if result.returncode != 0:
        pytest.fail(f"nifi/stack up nifi failed:\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}")
    settings = load_settings(env_file(REPO))
    return NiFi(int(settings.get("NIFI_HTTPS_PORT", "8443")), REPO / ".stack" / "nifi" / "tls" / "ca.pem",
                settings["NIFI_USERNAME"], settings["NIFI_PASSWORD"])


def deploy_flow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "deploy_flow.py"), *args], capture_output=True, text=True,
                          cwd=REPO, timeout=1200)


@pytest.fixture(scope="session")
def deployed_flow(nifi, minio) -> str:
    """The flow deployed and running (`python deploy_flow.py`); its process group's name."""
    result = deploy_flow()
    if result.returncode != 0:
        pytest.fail(f"deploy_flow.py failed:\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}")
    return "ecommerce-ingest"


@pytest.fixture
def s3_prefix(minio: S3Settings):
    """A fresh key prefix in the bucket, emptied after the test."""
    prefix = f"tests/{uuid.uuid4().hex}/"
    yield prefix
    client = minio.client()
    listed = client.list_objects_v2(Bucket=minio.bucket, Prefix=prefix).get("Contents", [])
    if listed:
        client.delete_objects(Bucket=minio.bucket, Delete={"Objects": [{"Key": o["Key"]} for o in listed]})


def make_private_stack(directory: Path):
    """nifi/stack with its own state, .env and free ports under `directory`, beside the suite's.

    Call it with the stack's arguments; `.env`, `.env_file` and `.s3(account)` describe it.
    """
    env = {
        **os.environ,
        "ECOMMERCE_PIPELINE_STATE": str(directory / "state"),
        "ECOMMERCE_PIPELINE_ENV_FILE": str(directory / ".env"),
        "MINIO_API_PORT": str(free_port()),
        "MINIO_CONSOLE_PORT": str(free_port()),
    }

    def run(*args):
        return subprocess.run([sys.executable, str(STACK), *args], capture_output=True, text=True, env=env)

    def s3(account: str = "admin") -> S3Settings:
        settings = {**load_settings(run.env_file), **env}
        return S3Settings.from_settings({**settings, "S3_ENDPOINT_URL": f"http://127.0.0.1:{env['MINIO_API_PORT']}"},
                                        account)

    run.env, run.env_file, run.s3 = env, directory / ".env", s3
    return run


@pytest.fixture
def private_stack(tmp_path):
    """A private stack (make_private_stack) for one test; stopped after."""
    run = make_private_stack(tmp_path)
    yield run
    run("down")


@pytest.fixture(scope="module")
def private_minio(tmp_path_factory):
    """A private stack's MinIO (own bucket, identities and Fernet key) shared by one module's tests; stopped after."""
    run = make_private_stack(tmp_path_factory.mktemp("private-minio"))
    started = run("up", "minio")
    if started.returncode != 0:
        pytest.fail(f"nifi/stack up minio failed:\n{started.stdout}\n{started.stderr}")
    yield run
    run("down")


@pytest.fixture(scope="module", params=["unversioned", "versioned"])
def private_minio_by_versioning(request, tmp_path_factory):
    """(versioning, a private stack's MinIO): a module's tests run once on a bucket that keeps no versions,
    once on one that does (the tests turn versioning on); each MinIO stopped after."""
    run = make_private_stack(tmp_path_factory.mktemp(f"minio-{request.param}"))
    started = run("up", "minio")
    if started.returncode != 0:
        pytest.fail(f"nifi/stack up minio failed:\n{started.stdout}\n{started.stderr}")
    yield request.param, run
    run("down")
