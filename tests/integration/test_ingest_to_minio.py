"""`ingest` into the real MinIO, checked with boto3, pyarrow and plain `cryptography` Fernet.

The objects are read back without the project's reader or decrypt code, so these tests
check the output contract a query engine and a key holder rely on.
"""

import io
import re
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet, InvalidToken

from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.encryption import generate_key
from ecommerce_pipeline.ingest import ingest_file
from ecommerce_pipeline.policy import load_policy
from ecommerce_pipeline.sample_data import write_sample_csv

pytestmark = pytest.mark.integration

ROWS = 25_000
POLICY = load_policy()
KEY_PATTERN = r"(?P<prefix>[^/]+)/ingest_date=\d{4}-\d{2}-\d{2}/(?P<stem>.+)-(?P<id>[0-9a-f]{32})(?P<suffix>\.parquet|\.csv\.fernet)"


def keys_of(minio, stem):
    """Every key in the bucket written for one source file stem."""
    pages = minio.client().get_paginator("list_objects_v2").paginate(Bucket=minio.bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", []) if f"/{stem}-" in o["Key"]]


@pytest.fixture
def ingested_objects(minio):
    """Lists the keys of a source stem; deletes them after the test."""
    stems = []

    def objects_of(stem):
        stems.append(stem)
        return keys_of(minio, stem)

    yield objects_of
    for stem in stems:
        leftover = [{"Key": key} for key in keys_of(minio, stem)]
        for start in range(0, len(leftover), 1000):
            minio.client().delete_objects(Bucket=minio.bucket, Delete={"Objects": leftover[start : start + 1000]})


@pytest.fixture(scope="module")
def sample_export(tmp_path_factory):
    path = tmp_path_factory.mktemp("inbox") / f"orders-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=ROWS, seed=11, bad_row_fraction=0.02)
    expected = clean_frame(read_raw_csv(path.read_bytes()))
    return path, expected


def read_objects(minio, keys):
    """Prefix (segment or _quarantine) -> [(key, body)]."""
    client = minio.client()
    bodies = {}
    for key in keys:
        prefix = re.fullmatch(KEY_PATTERN, key)["prefix"]
        bodies.setdefault(prefix, []).append((key, client.get_object(Bucket=minio.bucket, Key=key)["Body"].read()))
    return bodies


def rows_of(bodies):
    return [row for _, body in bodies for row in pq.read_table(io.BytesIO(body)).to_pylist()]


def decrypted(fernet, values):
    return [None if v is None else fernet.decrypt(v.encode()).decode() for v in values]


def comparable(values):
    """Python values as Parquet gives them back: ISO dates, None for nulls."""
    return [None if v is None or v != v else v.isoformat() if hasattr(v, "isoformat") else v for v in values]


def gift_for(amount):
    return "Wireless Mouse" if amount < 500 else "Bluetooth Headphones" if amount <= 1200 else "Keyboard + Wireless Mouse"


@pytest.mark.parametrize("workers", [1, 2])
def test_25k_rows_end_in_segments_or_quarantine_encrypted_and_exact(minio, sample_export, ingested_objects, workers):
    path, expected = sample_export
    key = generate_key()
    report = ingest_file(path, minio, key, chunk_rows=10_000, workers=workers)
    keys = ingested_objects(path.stem)

    assert report.rows_in == ROWS
    assert report.accounted_for and report.rows_quarantined == len(expected.quarantine) > 0
    assert sorted(keys) == sorted(report.objects)
    assert all(re.fullmatch(KEY_PATTERN, k)["stem"] == path.stem for k in keys)

    fernet = Fernet(key)
    objects = read_objects(minio, keys)
    by_order = expected.clean.set_index("order_id", drop=False)
    for segment in ("customer_info", "order_info", "payment_and_delivery_info"):
        rows = rows_of(objects[segment])
        assert len(rows) == len(expected.clean), segment
        encrypted = set(POLICY.encrypted_columns(segment))
        for column in encrypted & set(rows[0]) - {"gift_won"}:
            stored = {row[column] for row in rows}
            assert not stored & set(expected.clean[column]), f"{segment}.{column} stored in clear"
            for row in rows:
                row[column] = decrypted(fernet, [row[column]])[0]
        if "gift_won" in rows[0]:
            gifts = decrypted(fernet, [row["gift_won"] for row in rows])
            assert gifts == [gift_for(row["total_purchase_value"]) for row in rows]
        columns = [c for c in rows[0] if c != "gift_won"]
        got = {column: comparable([row[column] for row in rows]) for column in columns}
        if "order_id" in columns:
            order_ids = got["order_id"]
            assert len(set(order_ids)) == len(order_ids) and set(order_ids) == set(by_order.index), segment
            want = {column: comparable(by_order.loc[order_ids, column]) for column in columns}
            assert got == want, segment
        else:  # customer_info has no order id: compare the rows as a multiset
            want = {column: comparable(expected.clean[column]) for column in columns}
            assert sorted(zip(*got.values(), strict=True), key=repr) == sorted(zip(*want.values(), strict=True), key=repr)

    quarantined = rows_of(objects["_quarantine"])
    assert len(quarantined) == len(expected.quarantine)
    assert all(row["quarantine_reason"] for row in quarantined)
    for column in POLICY.encrypted_columns("quarantine"):
        for row in quarantined:
            row[column] = decrypted(fernet, [row[column]])[0]
    got = sorted(tuple(row[c] for c in expected.quarantine.columns) for row in quarantined)
    assert got == sorted(expected.quarantine.itertuples(index=False, name=None))


def test_no_plaintext_pii_anywhere_in_the_written_objects(minio, sample_export, ingested_objects):
    path, _ = sample_export
    raw = read_raw_csv(path.read_bytes())
    ingest_file(path, minio, generate_key(), chunk_rows=10_000)
    keys = ingested_objects(path.stem)
    needles = {v.strip() for column in ("Email Address", "Phone Number", "Payment Info") for v in raw[column] if v.strip()}
    for key, body in (item for items in read_objects(minio, keys).values() for item in items):
        texts = {str(v) for column in pq.read_table(io.BytesIO(body)).to_pylist() for v in column.values()}
        assert not needles & texts, key
        assert not any(n.encode() in body for n in list(needles)[:2000]), key


BAD_EXPORTS = {
    "empty": b"",
    "header-only": b"Customer ID,First Name\n",
    "wrong-header": b"id,name,email\n1,Ann,ann@example.com\n",
    "not-utf8": "Customer ID,First Name\n1,Jos\xe9\n".encode("latin-1"),
    "binary": bytes(range(256)) * 4,
    "unclosed-quote": None,
}


@pytest.mark.parametrize("kind", sorted(BAD_EXPORTS))
def test_malformed_exports_are_quarantined_encrypted_with_a_reason(minio, tmp_path, ingested_objects, kind):
    path = tmp_path / f"bad-{kind}-{uuid.uuid4().hex[:8]}.csv"
    content = BAD_EXPORTS[kind]
    if content is None:
        write_sample_csv(path, rows=3, seed=1)
        content = path.read_bytes().rstrip(b"\n") + b'\nC9,"never closed\n'
    path.write_bytes(content)
    key = generate_key()
    report = ingest_file(path, minio, key)
    keys = ingested_objects(path.stem)

    assert report.rows_clean == 0 and len(report.rejected_chunks) == 1
    assert len(keys) == 1 and keys[0].startswith("_quarantine/") and keys[0].endswith(".csv.fernet")
    stored = minio.client().get_object(Bucket=minio.bucket, Key=keys[0])
    assert stored["Metadata"]["reason"]
    body = stored["Body"].read()
    assert Fernet(key).decrypt(body) == content
    with pytest.raises(InvalidToken):
        Fernet(generate_key()).decrypt(body)


def test_ingesting_a_file_again_rewrites_its_own_objects_and_adds_none(minio, tmp_path, ingested_objects):
    path = tmp_path / f"again-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=300, seed=4)
    key = generate_key()
    first = ingest_file(path, minio, key, chunk_rows=100, workers=1)
    second = ingest_file(path, minio, key, chunk_rows=100, workers=1)
    assert len(first.objects) == 9 and sorted(first.objects) == sorted(second.objects)
    assert sorted(ingested_objects(path.stem)) == sorted(first.objects)


def test_another_file_of_the_same_name_never_lands_on_its_keys(minio, tmp_path, ingested_objects):
    name = f"same-name-{uuid.uuid4().hex[:8]}.csv"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_sample_csv(tmp_path / "a" / name, rows=50, seed=1)
    write_sample_csv(tmp_path / "b" / name, rows=50, seed=2)
    key = generate_key()
    first = ingest_file(tmp_path / "a" / name, minio, key)
    second = ingest_file(tmp_path / "b" / name, minio, key)
    assert not set(first.objects) & set(second.objects)
    assert len(ingested_objects(Path(name).stem)) == len(first.objects) + len(second.objects)
