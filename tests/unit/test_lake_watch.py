"""When a dropped file counts as stored: the lake's objects against the records dropped."""

import datetime as dt
import io
import time

from ecommerce_pipeline.chunking import count_records
import pytest

from ecommerce_pipeline.lake_watch import (
    COMPLETE_FILE_AGE_SECONDS, AlreadyWaiting, LandedObject, Outcome, drop_into_inbox, outcome, stem_prefixes,
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


def test_a_drop_never_replaces_a_file_still_waiting_in_the_inbox(tmp_path):
    first, second = tmp_path / "a" / "orders.csv", tmp_path / "b" / "orders.csv"
    for path, content in ((first, "Customer ID\nC1\n"), (second, "Customer ID\nC2\n")):
        path.parent.mkdir()
        path.write_text(content)
    inbox = tmp_path / "inbox"
    drop_into_inbox(first, inbox)
    with pytest.raises(AlreadyWaiting, match=r"orders.csv is still waiting for the flow: not replaced") as refused:
        drop_into_inbox(second, inbox)
    assert refused.value.exit_code == 1
    assert (inbox / "orders.csv").read_text() == "Customer ID\nC1\n"
    assert [p.name for p in inbox.iterdir()] == ["orders.csv"], "no partial copy left behind"


def test_the_name_appearing_during_the_copy_is_not_replaced_either(tmp_path, monkeypatch):
    """The check before the copy is not the guard: publishing refuses a name another writer took meanwhile."""
    import ecommerce_pipeline.lake_watch as lake_watch

    source, inbox = tmp_path / "orders.csv", tmp_path / "inbox"
    source.write_text("Customer ID\nC2\n")
    copy = lake_watch.shutil.copyfile

    def copy_while_another_drop_lands(src, dst):
        (inbox / "orders.csv").write_text("Customer ID\nC1\n")
        return copy(src, dst)

    monkeypatch.setattr(lake_watch.shutil, "copyfile", copy_while_another_drop_lands)
    with pytest.raises(AlreadyWaiting):
        drop_into_inbox(source, inbox)
    assert (inbox / "orders.csv").read_text() == "Customer ID\nC1\n"
    assert [p.name for p in inbox.iterdir()] == ["orders.csv"]


def test_the_dropped_file_is_readable_as_any_new_file_is_not_owner_only(tmp_path):
    """NiFi may run as another user (uid 1000 in Docker): the copy gets the usual 0666 less the umask."""
    import os
    import stat

    source = tmp_path / "orders.csv"
    source.write_text("Customer ID\nC1\n")
    source.chmod(0o600)
    umask = os.umask(0o022)
    try:
        target = drop_into_inbox(source, tmp_path / "inbox")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_drop_is_dated_past_any_minimum_file_age_so_the_listing_takes_it_at_once(tmp_path):
    source = tmp_path / "orders.csv"
    source.write_bytes(b"a,b\n1,2\n")
    target = drop_into_inbox(source, tmp_path / "inbox")
    assert time.time() - target.stat().st_mtime >= COMPLETE_FILE_AGE_SECONDS - 1
    assert source.stat().st_mtime > target.stat().st_mtime, "the source keeps its own date"
