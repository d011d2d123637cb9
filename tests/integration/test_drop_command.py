"""`ecommerce-pipeline drop` of several files through the running flow, as an analyst would run it.

Every file is dropped and reported even when one is quarantined (exit 1 naming it), and the
command needs nothing but the read-only analyst identity: the test gives it no other.
"""

import os
import subprocess
import sys
import uuid

import pytest

from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import S3Settings, env_file, load_settings
from conftest import REPO
from inbox import INBOX, lake_key, wait_for_rows
from lake import assert_lake_holds_exactly, delete_objects, keys_of, write_bad_export

pytestmark = pytest.mark.integration


@pytest.fixture
def analyst_env_file(tmp_path, minio):
    """A settings file holding the analyst's credentials and nothing else of the store."""
    analyst = S3Settings.from_settings(load_settings(env_file(REPO)), "analyst")
    path = tmp_path / "analyst.env"
    path.write_text(f"S3_ENDPOINT_URL={minio.endpoint_url}\nS3_BUCKET={minio.bucket}\n"
                    f"S3_ANALYST_ACCESS_KEY={analyst.access_key}\nS3_ANALYST_SECRET_KEY={analyst.secret_key}\n")
    return path


def test_dropping_several_files_stores_the_good_ones_and_reports_the_quarantined_one(
        minio, deployed_flow, tmp_path, analyst_env_file):
    good = [tmp_path / f"drop-good{n}-{uuid.uuid4().hex[:8]}.csv" for n in (1, 2)]
    for path in good:  # content of its own each run: the ledger refuses content an earlier run ingested
        write_sample_csv(path, rows=500, seed=uuid.uuid4().int % 2**31, bad_row_fraction=0.02)
    bad = tmp_path / f"drop-bad-{uuid.uuid4().hex[:8]}.csv"
    write_bad_export(bad, "wrong-header")
    bad.write_bytes(bad.read_bytes() + f"2,Bo,bo-{uuid.uuid4().hex}@example.com\n".encode())
    env = {name: value for name, value in os.environ.items() if not name.startswith(("S3_", "MINIO_", "ECOMMERCE_"))}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ecommerce_pipeline.cli", "drop", str(good[0]), str(bad), str(good[1]),
             "--inbox", str(INBOX), "--timeout", "300", "--env-file", str(analyst_env_file)],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1000)
        print(f"\n{result.stdout}{result.stderr}")

        assert result.returncode == 1, result.stdout + result.stderr
        for path in good:
            assert f"dropped {path} (500 records)" in result.stdout and f"{path.name}: in the lake after" in result.stdout
        assert f"dropped {bad} (2 records)" in result.stdout
        assert f"ecommerce-pipeline: {bad.name}: not a readable export (wrong header" in result.stderr
        assert result.stderr.splitlines()[-1] == f"ecommerce-pipeline: error: 1 of 3 files not stored: {bad.name}"
        assert "Traceback" not in result.stderr
        for path in good:
            expected = clean_frame(read_raw_csv(path.read_bytes()))
            assert_lake_holds_exactly(wait_for_rows(minio, path.stem, 500, timeout=30), expected, lake_key())
    finally:
        for path in (*good, bad):
            delete_objects(minio, keys_of(minio, path.stem))
