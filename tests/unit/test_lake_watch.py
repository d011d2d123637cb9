"""When a dropped file counts as stored: the lake's objects against the records dropped."""

import datetime as dt
import io
import time

from ecommerce_pipeline.chunking import count_records
from ecommerce_pipeline.lake_watch import (
    COMPLETE_FILE_AGE_SECONDS, LandedObject, Outcome, drop_into_inbox, outcome, stem_prefixes,
)


def landed(prefix, rows, suffix=".parquet"):
    return LandedObject(f"{prefix}/ingest_date=2026-11-25/orders-{'a' * 32}{suffix}", 100, rows)


def test_complete_when_every_record_is_in_order_info_or_quarantine_and_segments_agree():
    objects = [landed("customer_info", 98), landed("order_info", 98), landed("payment_and_delivery_info", 98),
               landed("_quarantine", 2)]
    assert outcome(objects, 100) is Outcome.STORED
    assert outcome(objects, 101) is None


def test_not_complete_while_a_segment_is_still_missing():
    assert outcome([landed("order_info", 100), landed("customer_info", 100)], 100) is None


def test_a_file_without_records_is_quarantined_once_its_encrypted_copy_is_there():
    assert outcome([], 0) is None
    assert outcome([landed("_quarantine", None, ".csv.fernet")], 0) is Outcome.QUARANTINED


def test_an_unreadable_file_with_records_is_quarantined_at_its_first_encrypted_piece():
    assert outcome([landed("_quarantine", None, ".csv.fernet")], 3) is Outcome.QUARANTINED
    assert outcome([landed("_quarantine", None, ".csv.fernet"), landed("order_info", 10)], 30) is None


def test_a_drop_of_content_already_ingested_is_settled_by_its_record():
    assert outcome([landed("_quarantine", None, ".duplicate.json")], 100) is Outcome.ALREADY_INGESTED


def test_only_the_prefixes_a_file_s_keys_can_have_are_listed():
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    prefixes = stem_prefixes("../orders 1", since)
    assert len(prefixes) == 4 * 2
    assert all(p.endswith("/_._orders_1-") and "/ingest_date=" in p for p in prefixes)
    assert {p.split("/")[0] for p in prefixes} == {"customer_info", "order_info", "payment_and_delivery_info",
                                                   "_quarantine"}


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


def test_a_drop_is_dated_past_any_minimum_file_age_so_the_listing_takes_it_at_once(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_bytes(b"a,b\n1,2\n")
    target = drop_into_inbox(source, tmp_path / "inbox")
    assert time.time() - target.stat().st_mtime >= COMPLETE_FILE_AGE_SECONDS - 1
    assert source.stat().st_mtime > target.stat().st_mtime, "the source keeps its own date"
