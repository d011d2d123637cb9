"""Encrypting a chunk's content, records by the policy or unreadable content whole, tested on bytes."""

import datetime as dt
import io

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet, InvalidToken

from ecommerce_pipeline.cleaning import clean_chunk, read_csv_as_text
from ecommerce_pipeline.columns import CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN
from ecommerce_pipeline.content_encryption import (
    CSV,
    PARQUET,
    UNREADABLE_CONTENT,
    UnreadableRecords,
    encrypt_content,
    encrypt_whole_content,
    quarantine_reason,
)
from ecommerce_pipeline.fernet_tokens import generate_key, parse_keys
from ecommerce_pipeline.lake_parquet import parquet_bytes


def test_encrypt_content_csv_changes_only_policy_columns_and_keeps_multiline_values(messy_export):
    key = generate_key()
    routed = read_csv_as_text(clean_chunk(messy_export).content)
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


def csv_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer)
    return buffer.getvalue()


# payment_and_delivery_info as NiFi's QueryRecord writes it: every value text, amounts as "123.45".
PAYMENTS_FROM_QUERY_RECORD = pa.table({
    "customer_id": ["c1", "c2"], "order_id": ["o1", "o2"], "total_purchase_value": ["10.5", ""],
    "payment_info": ["4111 1111 1111 1111", ""], "delivery_status": ["Delivered", "Shipped"],
    "delivery_address": ["1 Main St,\nSpringfield", "Zürich"], "gift_won": ["Wireless Mouse", "Wireless Mouse"],
})


def test_encrypt_content_to_parquet_gives_the_segment_s_types_and_plain_fernet_tokens():
    key = generate_key()
    out = pq.read_table(pa.BufferReader(encrypt_content(
        csv_bytes(PAYMENTS_FROM_QUERY_RECORD), "payment_and_delivery_info", parse_keys(key), output_format=PARQUET)))
    assert out.schema.field("total_purchase_value").type == pa.float64()
    assert out.column("total_purchase_value").to_pylist() == [10.5, None]
    assert out.column("customer_id").to_pylist() == ["c1", "c2"]
    fernet = Fernet(key)
    assert [fernet.decrypt(v.encode()).decode() for v in out.column("delivery_address").to_pylist()] == [
        "1 Main St,\nSpringfield", "Zürich"]
    assert out.column("payment_info")[1].as_py() is None, "empty text in a segment is null, and stays null"


def test_encrypt_content_to_parquet_reads_query_record_s_epoch_millisecond_dates():
    orders = pa.table({
        "customer_id": ["c1", "c2"], "order_id": ["o1", "o2"], "order_date": ["1700006400000", "2023-11-16"],
        "product_id": ["p1", "p2"], "total_purchase_value": ["123.45", "7"], "discount_code": ["", "SAVE10"],
    })
    out = pq.read_table(pa.BufferReader(encrypt_content(csv_bytes(orders), "order_info", parse_keys(generate_key()),
                                                        output_format=PARQUET)))
    assert out.schema.field("order_date").type == pa.date32()
    assert out.column("order_date").to_pylist() == [dt.date(2023, 11, 15), dt.date(2023, 11, 16)]
    assert out.column("total_purchase_value").to_pylist() == [123.45, 7.0]


def test_encrypt_content_to_parquet_keeps_quarantine_rows_as_text():
    rejected = pa.table({name: ["x"] for name in (*CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN)})
    rejected = rejected.set_column(CLEAN_COLUMNS.index("order_date"), "order_date", pa.array(["31/02/2023"]))
    out = pq.read_table(pa.BufferReader(encrypt_content(csv_bytes(rejected), "quarantine", parse_keys(generate_key()),
                                                        output_format=PARQUET)))
    assert all(field.type == pa.string() for field in out.schema)
    assert out.column("order_date").to_pylist() == ["31/02/2023"]


def test_encrypt_content_rejects_an_unreadable_amount_before_encrypting():
    bad = PAYMENTS_FROM_QUERY_RECORD.set_column(2, "total_purchase_value", pa.array(["10.5", "ten"]))
    with pytest.raises(ValueError, match="column 'total_purchase_value'.*'ten'"):
        encrypt_content(csv_bytes(bad), "payment_and_delivery_info", parse_keys(generate_key()), output_format=PARQUET)


def test_encrypt_content_csv_output_stays_text_and_an_unknown_format_is_an_error():
    keys = parse_keys(generate_key())
    out = read_csv_as_text(encrypt_content(csv_bytes(PAYMENTS_FROM_QUERY_RECORD), "payment_and_delivery_info", keys,
                                           output_format=CSV))
    assert out.column("total_purchase_value").to_pylist() == ["10.5", ""]
    with pytest.raises(ValueError, match="output format 'avro'"):
        encrypt_content(csv_bytes(PAYMENTS_FROM_QUERY_RECORD), "payment_and_delivery_info", keys, output_format="avro")


def test_encrypt_whole_content_is_one_token_plain_fernet_opens_with_the_newest_key():
    newest, older = generate_key(), generate_key()
    content = b"\x00\x01 not a CSV, Zo\xc3\xab\n" * 100
    token = encrypt_whole_content(content, parse_keys(f"{newest},{older}"))
    assert Fernet(newest).decrypt(token) == content
    with pytest.raises(InvalidToken):
        Fernet(older).decrypt(token)


def test_quarantine_reason_is_one_line_with_a_default():
    assert quarantine_reason("wrong header:\n  missing  Order ID") == "wrong header: missing Order ID"
    assert quarantine_reason("") == quarantine_reason(None) == quarantine_reason(" \n") == UNREADABLE_CONTENT


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"a,b\n1,2,secret@example.com\n", "Expected 2 columns, got 3"),
        (b'a,b\n"unclosed secret@example.com\n', "Expected 2 columns, got 1"),
        (b"", "empty content"),
        (b"a\nsecret@example.com\xff\n", "invalid UTF-8 at byte"),
        (b"PAR1secret@example.com", "ArrowInvalid"),
    ],
)
def test_unreadable_records_are_named_without_quoting_the_content(content, cause):
    # The reason travels on in clear (attributes, then object metadata): it must not carry the data.
    with pytest.raises(UnreadableRecords) as raised:
        encrypt_content(content, "customer_info", parse_keys(generate_key()))
    assert cause in str(raised.value) and "secret" not in str(raised.value)
