"""The lake tools read what the deployed NiFi flow stored: `query` over the stack's bucket, as the analyst."""

import os
import subprocess
import sys
import uuid

import pytest

from conftest import REPO
from ecommerce_pipeline.settings import env_file
from inbox import drop, wait_for_rows
from lake import delete_objects, keys_of
from lake_tools import assert_query_reads_the_flow_s_rows, tagged_export

pytestmark = pytest.mark.integration


def test_query_reads_and_decrypts_the_rows_nifi_stored(minio, deployed_flow, tmp_path):
    export = tmp_path / f"lake-tools-{uuid.uuid4().hex[:8]}.csv"
    tag, expected = tagged_export(export, 3_000, seed=51)
    drop(export)
    try:
        wait_for_rows(minio, export.stem, 3_000)
        env = {**os.environ, "ECOMMERCE_PIPELINE_ENV_FILE": str(env_file(REPO)), "S3_ENDPOINT_URL": minio.endpoint_url}

        def run_cli(*args):
            return subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli", *args], capture_output=True,
                                  text=True, env=env, timeout=600)

        assert_query_reads_the_flow_s_rows(run_cli, tag, expected)
    finally:
        delete_objects(minio, keys_of(minio, export.stem))
