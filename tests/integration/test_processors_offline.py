"""The processors NAR on a fresh NiFi that cannot install anything: no index, no wheel directory.

A private stack (own state, ports, inbox, .env) is started with pip pointed at a closed port and
no find-links, deploys the flow from an empty work directory and runs an export through to
MinIO. Had NiFi needed pip, the processors would stay invalid and the deploy would fail.
"""

import os
import subprocess
import sys
import time

import pytest

from conftest import REPO, free_port
from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.lake_watch import drop_into_inbox
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import load_settings
from inbox import wait_for_rows
from lake import assert_lake_holds_exactly

pytestmark = pytest.mark.integration

ROWS = 3_000
PIP_CLOSED = {
    "PIP_NO_INDEX": "1",
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    "PIP_CONFIG_FILE": os.devnull,
}
PIP_OPENERS = ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL")


@pytest.fixture
def offline_stack(private_stack, tmp_path):
    """The private stack with its own NiFi port and inbox, and pip unable to reach any package."""
    for name in PIP_OPENERS:
        private_stack.env.pop(name, None)
    private_stack.env.update(PIP_CLOSED, NIFI_HTTPS_PORT=str(free_port()), INBOX_DIR=str(tmp_path / "inbox"),
                             S3_ENDPOINT_URL=f"http://127.0.0.1:{private_stack.env['MINIO_API_PORT']}",
                             NIFI_CA_CERT=private_stack.env["ECOMMERCE_PIPELINE_STATE"] + "/nifi/tls/ca.pem")
    return private_stack


def test_a_fresh_nifi_without_any_package_index_runs_the_flow_into_minio(offline_stack, tmp_path):
    (tmp_path / "inbox").mkdir()
    started = time.monotonic()
    up = offline_stack("up")
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    booted = time.monotonic()
    deploy_env = {**load_settings(offline_stack.env_file), **offline_stack.env}
    deployed = subprocess.run([sys.executable, str(REPO / "deploy_flow.py")], capture_output=True, text=True,
                              env=deploy_env, timeout=900)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    first_deploy = time.monotonic() - booted

    export = tmp_path / "orders-offline.csv"
    write_sample_csv(export, rows=ROWS, seed=5, bad_row_fraction=0.02)
    drop_into_inbox(export, tmp_path / "inbox")
    objects = wait_for_rows(offline_stack.s3(), export.stem, ROWS)
    print(f"\noffline: stack up {booted - started:.1f}s, first deploy {first_deploy:.1f}s, "
          f"{ROWS} rows stored {time.monotonic() - booted - first_deploy:.1f}s after the drop")

    key = load_settings(offline_stack.env_file)["FERNET_KEYS"].split(",")[0]
    assert_lake_holds_exactly(objects, clean_frame(read_raw_csv(export.read_bytes())), key)
    state = tmp_path / "state" / "nifi"
    environments = [p for p in (state / "work" / "python").rglob("site-packages")]
    assert environments == [], "NiFi built a virtualenv for the processors"
    log = (state / "logs" / "nifi-app.log").read_text(errors="replace")
    assert "Installing dependencies" not in log and "pip install" not in log
