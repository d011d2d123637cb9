"""The deployed NiFi flow end to end: files dropped in data/inbox/ become the lake in the real MinIO.

The lake is read back independently (boto3, pyarrow, plain Fernet) and must hold what the
command-line ingestion would: every input row exactly once in a segment or in quarantine,
encrypted by policy, typed, and every unreadable file encrypted in _quarantine/ with a reason.
"""

import csv
import io
import json
import re
import subprocess
import sys
import time
import uuid

import nipyapi
import pytest
from cryptography.fernet import Fernet

from conftest import REPO, STACK, deploy_flow
from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import env_file, load_settings
from ecommerce_pipeline.waiting import wait_until
from inbox import INBOX, drop, lake_key, wait_for_quarantined_file, wait_for_rows, wait_until_taken
from lake import (
    BAD_EXPORTS, KEY_PATTERN, assert_lake_holds_exactly, assert_no_plaintext, delete_objects, keys_of, write_bad_export,
)
from nifi.deployment.connection import connect
from nifi.deployment.flow_group import find_group, undeploy

pytestmark = pytest.mark.integration
# What the store takes part in runs on every store (the SeaweedFS suite too); the deploy and NiFi's own checks
# and restarts, on the MinIO suite only (the store's side of a replay, overwriting its own keys, is in
# test_ingest_to_minio and test_exactly_once).
on_every_store = pytest.mark.stores

ROWS = 25_000


@pytest.fixture
def lake_objects(minio):
    """Deletes every object written for the stems a test names."""
    stems = []
    yield stems.append
    for stem in stems:
        delete_objects(minio, keys_of(minio, stem))


@pytest.fixture(scope="module")
def messy_export(tmp_path_factory):
    path = tmp_path_factory.mktemp("exports") / f"orders-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=ROWS, seed=23, bad_row_fraction=0.02, bom=True, crlf=True)
    content = path.read_bytes()
    return path, content, clean_frame(read_raw_csv(content))


@on_every_store
def test_a_dropped_25k_row_export_lands_in_the_lake_exactly_once(minio, deployed_flow, messy_export, lake_objects):
    path, content, expected = messy_export
    lake_objects(path.stem)
    started = time.monotonic()
    drop(path)
    objects = wait_for_rows(minio, path.stem, ROWS)
    print(f"\n25,000 rows dropped -> last object in MinIO: {time.monotonic() - started:.1f}s")

    assert not (INBOX / path.name).exists(), "the flow takes the file out of the inbox"
    keys = [key for items in objects.values() for key, _ in items]
    assert all(re.fullmatch(KEY_PATTERN, key)["stem"] == path.stem for key in keys)
    assert len(expected.quarantine) > 0
    assert_lake_holds_exactly(objects, expected, lake_key())
    assert_no_plaintext(objects, read_raw_csv(content))


@on_every_store
def test_parquet_written_by_nifi_has_the_segment_types(minio, deployed_flow, tmp_path, lake_objects):
    path = tmp_path / f"types-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=200, seed=5)
    lake_objects(path.stem)
    drop(path)
    objects = wait_for_rows(minio, path.stem, 200)
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    order_info = pq.read_table(io.BytesIO(objects["order_info"][0][1])).schema
    assert order_info.field("order_date").type == pa.date32()
    assert order_info.field("total_purchase_value").type == pa.float64()
    payment = pq.read_table(io.BytesIO(objects["payment_and_delivery_info"][0][1])).schema
    assert payment.field("total_purchase_value").type == pa.float64()


QUOTING_EDGE_CASES = ['"4B"', '""', '"', 'a""b', ' padded ', 'x\r\ny', 'line\n"quoted" line', ',', "'single'", "Zoë \u200b"]


def test_values_csv_readers_get_wrong_survive_every_hop(minio, deployed_flow, tmp_path, lake_objects):
    """Quotes at both ends, lone and doubled quotes, CR LF and commas inside values pass SplitRecord,
    cleaning, QueryRecord (FastCSV) and encryption unchanged, in clean rows and in quarantined ones."""
    path = tmp_path / f"quoting-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=60, seed=6)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = rows[0]
    for number, row in enumerate(rows[1:]):
        value = QUOTING_EDGE_CASES[number % len(QUOTING_EDGE_CASES)]
        for column in ("First Name", "Shipping Address", "Delivery Address", "Discount Code", "Product ID"):
            row[header.index(column)] = value
        if number % 7 == 0:
            row[header.index("Order Date")] = value  # quarantined: the raw value is kept as it came
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    lake_objects(path.stem)
    drop(path)
    expected = clean_frame(read_raw_csv(path.read_bytes()))
    assert len(expected.quarantine) > 0
    assert_lake_holds_exactly(wait_for_rows(minio, path.stem, 60), expected, lake_key())


@on_every_store
@pytest.mark.parametrize("kind", sorted(BAD_EXPORTS))
def test_an_unreadable_file_is_quarantined_encrypted_with_its_reason(minio, deployed_flow, tmp_path, lake_objects, kind):
    path = tmp_path / f"bad-{kind}-{uuid.uuid4().hex[:8]}.csv"
    write_bad_export(path, kind)
    lake_objects(path.stem)
    drop(path)
    keys = wait_for_quarantined_file(minio, path.stem)

    assert all(key.startswith("_quarantine/") for key in keys_of(minio, path.stem)), "no segment objects"
    stored = minio.client().get_object(Bucket=minio.bucket, Key=keys[0])
    assert stored["Metadata"]["reason"]
    Fernet(lake_key()).decrypt(stored["Body"].read())


def test_redeploying_changes_nothing_and_keeps_one_group(deployed_flow):
    for _ in range(2):
        again = deploy_flow()
        assert again.returncode == 0, again.stderr
        assert "'ecommerce-ingest': unchanged" in again.stdout
    status = deploy_flow("status", "--json")
    assert status.returncode in (0, 1), status.stdout + status.stderr
    report = json.loads(status.stdout)
    in_flow = json.loads((REPO / "flows" / "ecommerce-ingest.json").read_text())["flowContents"]["processors"]
    assert sorted(p["name"] for p in report["processors"] if p["run_status"] == "Running") == sorted(
        p["name"] for p in in_flow)
    # an unreadable file quarantined by an earlier test leaves SplitRecord's ERROR bulletin for 5 minutes
    assert all(" ERROR bulletin" in problem for problem in report["problems"]), report["problems"]
    assert status.returncode == (1 if report["problems"] else 0)


def test_status_fails_while_a_processor_has_raised_an_error_bulletin(minio, deployed_flow, tmp_path, lake_objects):
    path = tmp_path / f"bad-unclosed-{uuid.uuid4().hex[:8]}.csv"
    write_bad_export(path, "unclosed-quote")  # SplitRecord cannot parse it: an ERROR bulletin, the file quarantined
    lake_objects(path.stem)
    drop(path)
    wait_for_quarantined_file(minio, path.stem)

    status = deploy_flow("status")
    report = json.loads(deploy_flow("status", "--json").stdout)
    assert status.returncode == 1, status.stdout + status.stderr
    assert any(problem.startswith("processor 'Split into chunks' raised") and path.name in problem
               for problem in report["problems"]), report["problems"]
    assert "unhealthy: processor 'Split into chunks' raised" in status.stdout
    assert report["healthy"] is False


def processors_of_missing_types(group_name):
    group = find_group(group_name)
    return [p.component.name for p in nipyapi.canvas.list_all_processors(group.id) if p.component.extension_missing]


def test_a_group_deployed_before_a_processor_was_renamed_is_imported_afresh(deployed_flow):
    """NiFi cannot change a processor's type in place: a group deployed while the landing source was still
    FetchFromLandingBucket kept it as a ghost that never became valid, and the deploy waited in vain."""
    connect(load_settings(env_file(REPO)))
    undeploy(find_group(deployed_flow), force=False)
    definition = json.loads((REPO / "flows" / "ecommerce-ingest.json").read_text())
    [landing] = [p for p in definition["flowContents"]["processors"] if p["type"] == "GetLandingBucketObject"]
    landing["type"] = "FetchFromLandingBucket"
    nipyapi.versioning.import_process_group_definition(
        nipyapi.canvas.get_root_pg_id(), flow_definition=json.dumps(definition), position=(0, 0))
    assert processors_of_missing_types(deployed_flow) == [landing["name"]]

    result = deploy_flow()

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{landing['name']}: FetchFromLandingBucket" in result.stdout
    assert f"'{deployed_flow}': imported" in result.stdout
    assert processors_of_missing_types(deployed_flow) == []
    status = deploy_flow("status")
    assert status.stdout.count("Running") == len(definition["flowContents"]["processors"]), status.stdout


def test_a_nifi_restart_mid_file_still_stores_every_row_once(minio, deployed_flow, tmp_path, lake_objects):
    rows = 120_000
    path = tmp_path / f"restart-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=rows, seed=31, bad_row_fraction=0.01)
    expected = clean_frame(read_raw_csv(path.read_bytes()))
    lake_objects(path.stem)
    wait_until_taken(drop(path), timeout=60)
    down = subprocess.run([sys.executable, str(STACK), "down", "nifi"], capture_output=True, text=True, cwd=REPO)
    assert down.returncode == 0, down.stderr
    up = subprocess.run([sys.executable, str(STACK), "up", "nifi"], capture_output=True, text=True, cwd=REPO)
    assert up.returncode == 0, up.stdout + up.stderr
    objects = wait_for_rows(minio, path.stem, rows)
    assert_lake_holds_exactly(objects, expected, lake_key())


@on_every_store
def test_an_export_uploaded_to_the_landing_bucket_is_taken_once(minio, deployed_flow, tmp_path, lake_objects):
    path = tmp_path / f"landed-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=2_000, seed=53, bad_row_fraction=0.02)
    expected = clean_frame(read_raw_csv(path.read_bytes()))
    lake_objects(path.stem)
    client = minio.client()
    client.put_object(Bucket=minio.bucket, Key=f"landing/{path.name}", Body=path.read_bytes())
    try:
        objects = wait_for_rows(minio, path.stem, 2_000)
        assert_lake_holds_exactly(objects, expected, lake_key())
        wait_until(lambda: not client.list_objects_v2(Bucket=minio.bucket, Prefix=f"landing/{path.name}").get("KeyCount"),
                   "the plaintext export to leave landing/ after its rows are stored", 60, every=0.5, report=None,
                   error=pytest.fail.Exception)
        written = {o["Key"]: o["LastModified"] for o in client.list_objects_v2(Bucket=minio.bucket)["Contents"]
                   if f"/{path.stem}-" in o["Key"]}
        time.sleep(15)  # three more looks at the landing prefix
        again = {o["Key"]: o["LastModified"] for o in client.list_objects_v2(Bucket=minio.bucket)["Contents"]
                 if f"/{path.stem}-" in o["Key"]}
        assert again == written, "the landed export was taken a second time"
    finally:
        client.delete_object(Bucket=minio.bucket, Key=f"landing/{path.name}")


@pytest.fixture
def scratch_group(deployed_flow):
    """A process group of its own beside the flow, removed with what the test put in it."""
    connect(load_settings(env_file(REPO)))
    root = nipyapi.canvas.get_process_group(nipyapi.canvas.get_root_pg_id(), "id")
    group = nipyapi.canvas.create_process_group(root, f"validation-{uuid.uuid4().hex[:8]}", (0, 3000))
    yield group
    nipyapi.canvas.delete_process_group(group, force=True)


def property_errors(processor, expect: str | None = None) -> list[str]:
    """The processor's validation errors about its properties, once NiFi has loaded its Python runtime.

    Right after the runtime is loaded, or a change, NiFi may still report an earlier validation, so
    this waits for an error holding `expect`, or with `expect=None` for none (and fails on a timeout).
    """
    def loaded():
        component = nipyapi.canvas.get_processor(processor.id, "id").component
        errors = component.validation_errors or []
        if component.validation_status == "VALIDATING" or any("Initializing runtime environment" in e for e in errors):
            return None
        found = [error for error in errors if error.startswith(("'Segment'", "'Encryption Policy File'"))]
        settled = not found if expect is None else any(expect in error for error in found)
        return (found,) if settled else None

    # A tuple, as no errors at all is an answer too.
    (errors,) = wait_until(loaded, f"NiFi to validate {processor.component.name} with its Python runtime", 120)
    return errors


def test_nifi_rejects_a_misspelt_segment_and_a_policy_path_that_is_not_a_file(scratch_group):
    kind = nipyapi.canvas.get_processor_type("EncryptColumns", greedy=False)
    config = nipyapi.nifi.ProcessorConfigDTO(properties={"Fernet Keys": generate_key(), "Segment": "order_infos"})
    processor = nipyapi.canvas.create_processor(scratch_group, kind, (0, 0), "misspelt segment", config)
    [error] = property_errors(processor, expect="unknown segment")
    assert error.startswith("'Segment' is invalid because unknown segment 'order_infos'"), error

    def configured(**properties):
        return nipyapi.canvas.update_processor(processor, nipyapi.nifi.ProcessorConfigDTO(properties=properties))

    [error] = property_errors(configured(**{"Segment": "order_info", "Encryption Policy File": str(REPO)}),
                              expect="DIRECTORY")
    assert "Specified Resource is a DIRECTORY" in error, error
    assert property_errors(configured(**{"Segment": "${route}", "Encryption Policy File": None})) == []
