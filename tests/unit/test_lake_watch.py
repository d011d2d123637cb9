"""When a dropped file counts as stored: the lake's objects against the records dropped."""

import io

from ecommerce_pipeline.chunking import count_records
from ecommerce_pipeline.lake_watch import LandedObject, drop_into_inbox, is_complete


def landed(prefix, rows, suffix=".parquet"):
    return LandedObject(f"{prefix}/ingest_date=2026-11-25/orders-{'a' * 32}{suffix}", 100, rows)


def test_complete_when_every_record_is_in_order_info_or_quarantine_and_segments_agree():
    objects = [landed("customer_info", 98), landed("order_info", 98), landed("payment_and_delivery_info", 98),
               landed("_quarantine", 2)]
    assert is_complete(objects, 100)
    assert not is_complete(objects, 101)


def test_not_complete_while_a_segment_is_still_missing():
    assert not is_complete([landed("order_info", 100), landed("customer_info", 100)], 100)


def test_a_file_without_records_is_complete_once_its_encrypted_copy_is_there():
    assert not is_complete([], 0)
    assert is_complete([landed("_quarantine", None, ".csv.fernet")], 0)


def test_records_are_counted_with_quoted_newlines_and_without_the_header():
    content = b'a,b\n1,"two\nlines"\n3,4\n'
    assert count_records(io.BytesIO(content)) == 2
    assert count_records(io.BytesIO(b"a,b\n")) == 0
    assert count_records(io.BytesIO(b"")) == 0


def test_a_drop_appears_whole_under_its_own_name(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_bytes(b"a,b\n1,2\n")
    target = drop_into_inbox(source, tmp_path / "inbox")
    assert target.read_bytes() == source.read_bytes() and source.exists()
    assert [p.name for p in (tmp_path / "inbox").iterdir()] == ["orders.csv"]
