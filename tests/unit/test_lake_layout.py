"""What the lake tools know of the output contract: tables from the segment SQL, object kinds, partitions."""

import datetime as dt

import pyarrow as pa

from ecommerce_pipeline.lake.layout import Kind, ingest_date_of, kind_of, table_of, table_schema, tables
from ecommerce_pipeline.segment_routes import segment_queries


def test_the_tables_are_the_segment_sql_routes_and_quarantine_lives_under_its_underscore_prefix():
    assert set(tables()) == set(segment_queries())
    assert tables() == {"customer_info": "customer_info/", "order_info": "order_info/",
                        "payment_and_delivery_info": "payment_and_delivery_info/", "quarantine": "_quarantine/"}


def test_a_table_has_the_columns_and_types_its_sql_gives_then_the_ingest_date():
    order_info = table_schema("order_info")
    assert order_info.names == ["customer_id", "order_id", "order_date", "product_id", "total_purchase_value",
                                "discount_code", "ingest_date"]
    assert order_info.field("order_date").type == pa.date32()
    assert order_info.field("total_purchase_value").type == pa.float64()
    assert order_info.field("ingest_date").type == pa.date32()
    assert table_schema("quarantine").field("total_purchase_value").type == pa.string()  # raw text that failed
    assert "quarantine_reason" in table_schema("quarantine").names


def test_objects_are_told_apart_by_suffix():
    assert kind_of("order_info/ingest_date=2026-01-02/x-1.parquet") is Kind.PARQUET
    assert kind_of("_quarantine/ingest_date=2026-01-02/x-1.csv.fernet") is Kind.WHOLE_FILE
    assert kind_of("_quarantine/ingest_date=2026-01-02/x-1.duplicate.json") is Kind.RECORD
    assert kind_of("order_info/notes.txt") is Kind.OTHER


def test_the_partition_date_and_table_come_from_the_key():
    assert ingest_date_of("order_info/ingest_date=2026-01-02/x-1.parquet") == dt.date(2026, 1, 2)
    assert ingest_date_of("order_info/ingest_date=2026-02-30/x-1.parquet") is None
    assert ingest_date_of("order_info/x-1.parquet") is None
    assert table_of("_quarantine/ingest_date=2026-01-02/x.parquet") == "quarantine"
    assert table_of("customer_info/ingest_date=2026-01-02/x.parquet") == "customer_info"
    assert table_of("_ingested/abc") is None
