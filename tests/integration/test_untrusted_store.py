"""The ledger refuses a store that ignores If-None-Match: a real one (versitygw 1.0.14, untrusted_store.py).

Such a store accepts every claim of the ingest ledger as new, so a re-sent export would be stored
twice. `ecommerce-pipeline ingest` and `deploy_flow.py` probe the store first and stop with what it
did, before anything is ingested or NiFi is touched.
"""

import os
import subprocess
import sys

import pytest

from conftest import REPO, free_port
from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.store_capabilities import PROBE_KEY, UntrustedStore, probe, require_trusted_store
from untrusted_store import running_versitygw

pytestmark = pytest.mark.integration

REFUSAL = "does not honour conditional puts (If-None-Match: *)"


@pytest.fixture(scope="module")
def ignoring_store(tmp_path_factory):
    with running_versitygw(tmp_path_factory.mktemp("versitygw") / "data", free_port()) as s3:
        yield s3


@pytest.fixture
def settings_of(ignoring_store, tmp_path):
    """The environment of a tool run whose .env names the ignoring store for every identity; NiFi's port closed."""
    env_file = tmp_path / ".env"
    values = {"S3_ENDPOINT_URL": ignoring_store.endpoint_url, "S3_BUCKET": ignoring_store.bucket,
              "FERNET_KEYS": generate_key(), "NIFI_USERNAME": "nobody", "NIFI_PASSWORD": "no-nifi-is-asked",
              "NIFI_HTTPS_PORT": str(free_port())}
    for account in ("ADMIN", "FLOW"):
        values |= {f"S3_{account}_ACCESS_KEY": ignoring_store.access_key,
                   f"S3_{account}_SECRET_KEY": ignoring_store.secret_key}
    env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    scrubbed = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "MINIO_", "NIFI_", "FERNET"))}
    return {**scrubbed, "ECOMMERCE_PIPELINE_ENV_FILE": str(env_file)}


def objects(s3):
    return sorted(o["Key"] for o in s3.client().list_objects_v2(Bucket=s3.bucket).get("Contents", []))


def test_the_probe_sees_the_second_conditional_put_overwrite(ignoring_store):
    found = probe(ignoring_store.client(), ignoring_store.bucket)
    assert not found.conditional_create
    assert "accepted a second PutObject with If-None-Match: *" in found.behaviour
    assert "overwrote" in found.behaviour
    with pytest.raises(UntrustedStore, match="the ingest ledger cannot make sure each file is stored once"):
        require_trusted_store(ignoring_store.client(), ignoring_store.bucket, ignoring_store.endpoint_url)


def test_ingest_refuses_the_store_and_stores_nothing(ignoring_store, settings_of, tmp_path):
    export = tmp_path / "orders.csv"
    write_sample_csv(export, rows=200, seed=3)
    result = subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli", "ingest", str(export)],
                            capture_output=True, text=True, cwd=REPO, env=settings_of, timeout=300)
    print(f"\n`ingest` on versitygw 1.0.14: exit {result.returncode}: {result.stderr.strip()}")
    assert result.returncode == 78  # an S3 store the ledger cannot trust is unusable configuration
    assert REFUSAL in result.stderr and "Traceback" not in result.stderr
    assert objects(ignoring_store) == [PROBE_KEY], "nothing but the probe's own object was stored"


def test_deploy_refuses_the_store_before_it_asks_nifi(settings_of):
    result = subprocess.run([sys.executable, str(REPO / "deploy_flow.py")], capture_output=True, text=True,
                            cwd=REPO, env=settings_of, timeout=300)
    print(f"\n`deploy_flow.py` on versitygw 1.0.14: exit {result.returncode}: {result.stderr.strip()}")
    assert result.returncode == 78
    assert REFUSAL in result.stderr and "Traceback" not in result.stderr
    assert "NiFi" not in result.stderr, "the store is checked before NiFi is reached"
