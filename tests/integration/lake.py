"""Reading the lake back the way a query engine and a key holder would: boto3, pyarrow, plain Fernet.

Shared by the tests of the command-line ingestion and of the NiFi flow, which must both
keep the same output contract.
"""

import io
import re

import pyarrow.parquet as pq
from cryptography.fernet import Fernet

from ecommerce_pipeline.policy import load_policy
from ecommerce_pipeline.sample_data import write_sample_csv

POLICY = load_policy()
KEY_PATTERN = r"(?P<prefix>[^/]+)/ingest_date=\d{4}-\d{2}-\d{2}/(?P<stem>.+)-(?P<id>[0-9a-f]{32})(?P<suffix>\.parquet|\.csv\.fernet|\.duplicate\.json)"
SEGMENTS = ("customer_info", "order_info", "payment_and_delivery_info")

BAD_EXPORTS = {
    "empty": b"",
    "header-only": b"Customer ID,First Name\n",
    "wrong-header": b"id,name,email\n1,Ann,ann@example.com\n",
    "not-utf8": "Customer ID,First Name\n1,Jos\xe9\n".encode("latin-1"),
    "binary": bytes(range(256)) * 4,
    "unclosed-quote": None,
}


def write_bad_export(path, kind: str) -> bytes:
    """One of BAD_EXPORTS at `path`; returns its bytes."""
    content = BAD_EXPORTS[kind]
    if content is None:
        write_sample_csv(path, rows=3, seed=1)
        content = path.read_bytes().rstrip(b"\n") + b'\nC9,"never closed\n'
    path.write_bytes(content)
    return content


def keys_of(minio, stem):
    """Every key in the bucket written for one source file stem."""
    pages = minio.client().get_paginator("list_objects_v2").paginate(Bucket=minio.bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", []) if f"/{stem}-" in o["Key"]]


def delete_objects(minio, keys):
    client = minio.client()
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=minio.bucket, Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]]})


def remove_bucket(client, bucket):
    """Deletes a test's own unversioned bucket with what it holds (a bucket must be empty to go)."""
    for listed in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=listed["Key"])
    client.delete_bucket(Bucket=bucket)


def read_objects(minio, keys):
    """Prefix (segment or _quarantine) -> [(key, body)]."""
    client = minio.client()
    bodies = {}
    for key in keys:
        prefix = re.fullmatch(KEY_PATTERN, key)["prefix"]
        bodies.setdefault(prefix, []).append((key, client.get_object(Bucket=minio.bucket, Key=key)["Body"].read()))
    return bodies


def rows_of(bodies):
    return [row for key, body in bodies if key.endswith(".parquet") for row in pq.read_table(io.BytesIO(body)).to_pylist()]


def decrypted(fernet, values):
    return [None if v is None else fernet.decrypt(v.encode()).decode() for v in values]


def comparable(values):
    """Python values as Parquet gives them back: ISO dates, None for nulls."""
    return [None if v is None or v != v else v.isoformat() if hasattr(v, "isoformat") else v for v in values]


def gift_for(amount):
    return "Wireless Mouse" if amount < 500 else "Bluetooth Headphones" if amount <= 1200 else "Keyboard + Wireless Mouse"


def assert_lake_holds_exactly(objects, expected, key: str) -> None:
    """Every clean row once in each segment, every rejected row once in quarantine; tokens open with `key`."""
    fernet = Fernet(key)
    by_order = expected.clean.set_index("order_id", drop=False)
    for segment in SEGMENTS:
        rows = rows_of(objects.get(segment, []))
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

    quarantined = rows_of(objects.get("_quarantine", []))
    assert len(quarantined) == len(expected.quarantine)
    assert all(row["quarantine_reason"] for row in quarantined)
    for column in POLICY.encrypted_columns("quarantine"):
        for row in quarantined:
            row[column] = decrypted(fernet, [row[column]])[0]
    got = sorted(tuple(row[c] for c in expected.quarantine.columns) for row in quarantined)
    assert got == sorted(expected.quarantine.itertuples(index=False, name=None))


def assert_no_plaintext(objects, raw) -> None:
    """No input e-mail, phone or card number appears in any stored object, as a value or as bytes."""
    needles = {v.strip() for column in ("Email Address", "Phone Number", "Payment Info") for v in raw[column] if v.strip()}
    for key, body in (item for items in objects.values() for item in items):
        if key.endswith(".parquet"):
            texts = {str(v) for row in pq.read_table(io.BytesIO(body)).to_pylist() for v in row.values()}
            assert not needles & texts, key
        assert not any(n.encode() in body for n in list(needles)[:2000]), key
