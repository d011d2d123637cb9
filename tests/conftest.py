"""Fixtures for tests against the real stack (nifi/stack): a missing server fails, never skips.

`--store seaweedfs` runs the stack on SeaweedFS instead of MinIO; it takes the tests marked
`stores` (they hold on every store) and `seaweedfs` (that store's own), selected with
`-m 'stores or seaweedfs'`. The `minio` fixture is the stack's store, whichever it is.
"""

import os
import random
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
from nifi.provisioning.stores import STORES

REPO = Path(__file__).resolve().parents[1]
STACK = REPO / "nifi" / "stack"


STORE_MARKERS = ("stores", "seaweedfs")


def pytest_addoption(parser):
    parser.addoption("--store", choices=tuple(STORES), default="minio",
                     help="the S3 store nifi/stack runs for the integration tests (default: minio); "
                          "with seaweedfs select -m 'stores or seaweedfs'")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Another store than MinIO runs only the tests written for every store or for it: the rest would test MinIO."""
    if config.getoption("--store") == "minio":
        return
    others = [item.nodeid for item in items if not any(item.get_closest_marker(m) for m in STORE_MARKERS)]
    if others:
        raise pytest.UsageError(f"--store {config.getoption('--store')} runs the tests marked "
                                f"{' or '.join(STORE_MARKERS)} only (add -m 'stores or seaweedfs'); selected also "
                                f"{len(others)} others, e.g. {others[0]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_block(count: int, plus: int = 0) -> int:
    """A port p with p..p+count-1 free, and, with `plus`, p+plus..p+plus+count-1 too (SeaweedFS's gRPC twins)."""
    for _ in range(200):
        base = random.randrange(20000, 30000)
        ports = [base + i for i in range(count)] + ([base + plus + i for i in range(count)] if plus else [])
        if all(_bindable(port) for port in ports):
            return base
    raise RuntimeError(f"no block of {count} free ports found")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture(scope="session")
def store_name(request) -> str:
    """The S3 store the stack runs for this session (--store)."""
    return request.config.getoption("--store")


@pytest.fixture(scope="session")
def minio(store_name) -> S3Settings:
    """The stack's S3 store from `nifi/stack up <store>` (started, or reused when running), with its bucket,
    as its admin identity. Named after MinIO, the default store; with --store it is that store. The stack's
    other store is stopped first if it runs (both serve the same port)."""
    for other in STORES:
        if other != store_name and STORES[other].running():
            subprocess.run([sys.executable, str(STACK), "down", other], capture_output=True, text=True, cwd=REPO)
    result = subprocess.run(
        [sys.executable, str(STACK), "up", store_name], capture_output=True, text=True, cwd=REPO
    )
    if result.returncode != 0:
        pytest.fail(f"nifi/stack up {store_name} failed:\n{result.stdout}\n{result.stderr}")
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
        "SEAWEEDFS_PORT": str(free_port_block(4, plus=10000)),
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


@pytest.fixture(scope="module", params=["never versioned", "Enabled", "Suspended", "Suspended after Enabled"])
def private_store_by_versioning_state(request, store_name, tmp_path_factory):
    """(versioning state, a private stack on the session's store): a module's tests run once per state a
    bucket can be in (the tests set it; a bucket never versioned needs a store of its own); each stopped after."""
    run = make_private_stack(tmp_path_factory.mktemp(f"{store_name}-{request.param.replace(' ', '-')}"))
    started = run("up", store_name)
    if started.returncode != 0:
        pytest.fail(f"nifi/stack up {store_name} failed:\n{started.stdout}\n{started.stderr}")
    yield request.param, run
    run("down")
