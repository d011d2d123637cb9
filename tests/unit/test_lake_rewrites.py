"""The pure parts of rotation and erasure: what a rewritten object holds, checked without a store."""

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet, InvalidToken

from ecommerce_pipeline.content_encryption import encrypt_whole_content
from ecommerce_pipeline.fernet_tokens import generate_key, parse_keys
from ecommerce_pipeline.lake.erasure import records_without, table_without
from ecommerce_pipeline.lake.keys import RotationKeys
from ecommerce_pipeline.lake.layout import Kind
from ecommerce_pipeline.lake.rotation import Rotation
from ecommerce_pipeline.lake.store import StoredObject
from ecommerce_pipeline.lake_parquet import parquet_bytes
from ecommerce_pipeline.policy import load_policy
from ecommerce_pipeline.table_encryption import encrypt_table

POLICY = load_policy()
CUSTOMERS = pa.table({
    "customer_id": ["C1", "C2", " C1 ", None],
    "first_name": ["Ann", "Bo", "Ann", "Cy"],
    "last_name": ["Lee", None, "Lee", "Dee"],
    "email_address": ["ann@example.com", "bo@example.com", None, "cy@example.com"],
    "phone_number": ["+1 (555) 000-0001", None, None, None],
    "shipping_address": ["1 Main St,\nTown", "2 Side St", "1 Main St", None],
    "vip_status": ["Yes", "No", "Yes", "No"],
})


def stored(body: bytes) -> StoredObject:
    return StoredObject(body, "etag", None, {"reason": "kept"}, None)


@pytest.fixture
def keys():
    old, new = generate_key(), generate_key()
    return old, new, Rotation(None, RotationKeys.from_settings({"NEW_FERNET_KEYS": f"{new},{old}"}), POLICY)


def test_a_rotated_object_opens_with_the_new_key_alone_to_the_same_rows(keys):
    old, new, rotation = keys
    body = parquet_bytes(encrypt_table(CUSTOMERS, "customer_info", old))
    assert not rotation._under_target(stored(body), Kind.PARQUET, "customer_info")
    rotated = pq.read_table(io.BytesIO(rotation._rotated(stored(body), Kind.PARQUET, "customer_info")))
    assert rotation._under_target(stored(parquet_bytes(rotated)), Kind.PARQUET, "customer_info")
    assert rotated.column("customer_id").equals(CUSTOMERS.column("customer_id"))
    for column in POLICY.encrypted_columns("customer_info"):
        tokens = rotated.column(column).to_pylist()
        assert [None if t is None else Fernet(new).decrypt(t.encode()).decode() for t in tokens] == \
            CUSTOMERS.column(column).to_pylist()
        with pytest.raises(InvalidToken):
            Fernet(old).decrypt(next(t for t in tokens if t).encode())


def test_a_rotated_whole_file_opens_with_the_new_key_to_the_same_bytes(keys):
    old, new, rotation = keys
    body = encrypt_whole_content(b"\xff\xfe not an export", parse_keys(old))
    assert not rotation._under_target(stored(body), Kind.WHOLE_FILE, "quarantine")
    rotated = rotation._rotated(stored(body), Kind.WHOLE_FILE, "quarantine")
    assert Fernet(new).decrypt(rotated) == b"\xff\xfe not an export"
    assert rotation._under_target(stored(rotated), Kind.WHOLE_FILE, "quarantine")


def test_an_object_with_no_tokens_is_under_any_key(keys):
    _, _, rotation = keys
    empty = CUSTOMERS.slice(0, 0)
    assert rotation._under_target(stored(parquet_bytes(empty)), Kind.PARQUET, "customer_info")


def test_erasing_from_a_table_keeps_the_other_rows_as_they_were():
    found, kept = table_without(CUSTOMERS, "C1")
    assert found == 2
    assert kept.equals(CUSTOMERS.take([1, 3]))
    assert table_without(CUSTOMERS, "C9") == (0, CUSTOMERS)
    assert table_without(CUSTOMERS.drop_columns(["customer_id"]), "C1")[0] == 0


UNREADABLE = (b"Customer ID,First Name,Shipping Address,Total\n"
              b"C1,Ann,\"1 Main St,\nTown\",12\n"
              b"C10,Al,\"2 \"\"Side\"\" St\",3\n"
              b"\"C1\",Ann,x,4\r\n"
              b"C2,Bo,\"C1 Road\",5\n"
              b"C3,Jos\xe9,y,\"never closed\n"
              b"C1,tail\n")


def test_erasing_from_an_unreadable_file_removes_whole_records_holding_the_id_as_a_field():
    found, rest = records_without(UNREADABLE, "C1")
    assert found == 3  # two records and the unclosed tail, which swallows the rest of the file
    assert rest == (b"Customer ID,First Name,Shipping Address,Total\n"
                    b"C10,Al,\"2 \"\"Side\"\" St\",3\n"
                    b"C2,Bo,\"C1 Road\",5\n")
    assert records_without(UNREADABLE, "C7") == (0, UNREADABLE)
    assert records_without(UNREADABLE, "C2")[1] == UNREADABLE.replace(b"C2,Bo,\"C1 Road\",5\n", b"")
