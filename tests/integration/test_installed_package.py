"""The package as `pip install .` ships it, outside any checkout: `ecommerce-pipeline ingest` finds its routing SQL
and encrypts with the compiled Fernet that setup.py built."""

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from conftest import REPO
from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import S3Settings, env_file, load_settings
from nifi.provisioning.processors_nar import copy_package_source
from lake import delete_objects, keys_of

pytestmark = pytest.mark.integration


def test_a_non_editable_install_ingests_with_the_segment_sql_it_ships(minio, tmp_path):
    source = copy_package_source(tmp_path / "source")  # what a clone's package build sees, outside the checkout
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(source)], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-3000:]
    shutil.rmtree(source)

    work = tmp_path / "elsewhere"
    work.mkdir()
    export = work / f"installed-{uuid.uuid4().hex[:8]}.csv"
    flow = S3Settings.from_settings(load_settings(env_file(REPO)), "flow")
    copy = work / f"copy-of-{export.name}"  # the same content under another name: a duplicate
    write_sample_csv(export, rows=500, seed=81, bad_row_fraction=0.02)
    shutil.copyfile(export, copy)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(site), "FERNET_KEYS": generate_key(),
           "S3_FLOW_ACCESS_KEY": flow.access_key, "S3_FLOW_SECRET_KEY": flow.secret_key,  # ingest writes as the flow
           "S3_ENDPOINT_URL": minio.endpoint_url, "S3_BUCKET": minio.bucket}
    where = subprocess.run([sys.executable, "-c", "from ecommerce_pipeline import _fernet; print(_fernet.__file__)"],
                           capture_output=True, text=True, env=env, cwd=work)
    assert where.stdout.startswith(str(site / "ecommerce_pipeline" / "_fernet.abi3.so")), where.stdout + where.stderr
    try:
        ingest = subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli", "ingest", str(export)],
                                capture_output=True, text=True, env=env, cwd=work, timeout=300)
        assert ingest.returncode == 0, ingest.stderr
        assert "500 rows in" in ingest.stdout
        assert {key.split("/")[0] for key in keys_of(minio, export.stem)} == {
            "customer_info", "order_info", "payment_and_delivery_info", "_quarantine"}
        again = subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli", "ingest", str(copy)],
                               capture_output=True, text=True, env=env, cwd=work, timeout=300)
        assert again.returncode == 0, again.stderr  # the flow's identity also reads the ledger and records duplicates
        assert "already in the lake, nothing stored again" in again.stdout
    finally:
        delete_objects(minio, keys_of(minio, export.stem) + keys_of(minio, copy.stem))
