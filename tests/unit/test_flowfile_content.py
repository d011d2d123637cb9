"""What the NiFi processors do to one FlowFile's content, tested on bytes."""

import io

import pyarrow.csv as pa_csv

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet

from ecommerce_pipeline.cleaning import InvalidCsv
from ecommerce_pipeline.columns import CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN
from ecommerce_pipeline.encryption import generate_key, parse_keys
from ecommerce_pipeline.flowfile_content import clean_chunk, encrypt_content, parquet_bytes, read_csv_as_text
from ecommerce_pipeline.sample_data import write_sample_csv


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    path = tmp_path_factory.mktemp("chunk") / "orders.csv"
    write_sample_csv(path, rows=400, seed=9, bad_row_fraction=0.05, bom=True, crlf=True)
    return path.read_bytes()


def test_clean_chunk_counts_every_row_and_routes_by_reason(export):
    cleaned = clean_chunk(export)
    table = read_csv_as_text(cleaned.content)
    assert table.column_names == [*CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN]
    reasons = table.column(QUARANTINE_REASON_COLUMN).to_pylist()
    assert cleaned.rows_in == 400 == table.num_rows
    assert cleaned.rows_quarantined == sum(1 for r in reasons if r) > 0
    assert cleaned.rows_clean == sum(1 for r in reasons if not r)
    attributes = cleaned.attributes()
    assert int(attributes["clean.row.count"]) + int(attributes["quarantine.row.count"]) == int(attributes["record.count"])
    assert sum(int(part.split(" x ")[0]) for part in attributes["quarantine.reasons"].split("; ")) >= cleaned.rows_quarantined


def test_clean_chunk_rejects_unreadable_content():
    with pytest.raises(InvalidCsv, match="binary content"):
        clean_chunk(b"\x00\x01\x02PK")


def test_encrypt_content_csv_changes_only_policy_columns_and_keeps_multiline_values(export):
    key = generate_key()
    routed = read_csv_as_text(clean_chunk(export).content)
    customers = routed.select(["customer_id", "first_name", "last_name", "email_address", "phone_number",
                               "shipping_address", "vip_status"])
    buffer = io.BytesIO()
    pa_csv.write_csv(customers, buffer)
    encrypted = read_csv_as_text(encrypt_content(buffer.getvalue(), "customer_info", parse_keys(key)))
    assert encrypted.column("customer_id") == customers.column("customer_id")
    assert encrypted.column("vip_status") == customers.column("vip_status")
    addresses = [Fernet(key).decrypt(t.encode()).decode() for t in encrypted.column("shipping_address").to_pylist()]
    assert addresses == customers.column("shipping_address").to_pylist()
    assert any("\n" in a for a in addresses)


def test_encrypt_content_parquet_keeps_types_and_nulls():
    key = generate_key()
    table = pa.table({
        "customer_id": ["c1", "c2"], "order_id": ["o1", "o2"], "total_purchase_value": [10.5, 2000.0],
        "payment_info": ["4111 1111 1111 1111", None], "delivery_status": ["Delivered", "Shipped"],
        "delivery_address": ["1 Main St,\nSpringfield", "Zürich"], "gift_won": ["Wireless Mouse", None],
    })
    out = pq.read_table(pa.BufferReader(encrypt_content(parquet_bytes(table), "payment_and_delivery_info", parse_keys(key))))
    assert out.schema.field("total_purchase_value").type == pa.float64()
    assert out.column("payment_info").to_pylist()[1] is None
    fernet = Fernet(key)
    assert [fernet.decrypt(v.encode()).decode() for v in out.column("delivery_address").to_pylist()] == [
        "1 Main St,\nSpringfield", "Zürich"]
