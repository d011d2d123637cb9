"""Which landing-bucket object the flow takes next, and what the source keeps in its state."""

import datetime as dt

from ecommerce_pipeline.landing import (
    MAX_OBJECT_BYTES, LandingObject, committed, next_to_take, still_listed, take_record,
)


def listed(key, etag="e1", size=10, minute=0):
    return LandingObject(key, etag, size, dt.datetime(2026, 11, 25, 12, minute, tzinfo=dt.timezone.utc).isoformat())


def test_the_oldest_object_not_taken_comes_first():
    found, _ = next_to_take([listed("landing/b.csv", minute=2), listed("landing/a.csv", minute=5)], {}, "run-1")
    assert found.key == "landing/b.csv" and found.filename == "b.csv" and found.etag == "e1"


def test_a_take_pending_in_this_scheduling_or_committed_is_not_taken_again():
    a = listed("landing/a.csv")
    assert next_to_take([a], {a.key: take_record(a, "run-1")}, "run-1")[0] is None
    assert next_to_take([a], committed({a.key: take_record(a, "run-1")}), "run-2")[0] is None


def test_a_take_still_pending_from_a_scheduling_that_never_stopped_is_taken_again_under_the_same_take_id():
    a = listed("landing/a.csv")
    again, _ = next_to_take([a], {a.key: take_record(a, "crashed-run")}, "run-2")
    assert again == a and again.take_id("lake") == a.take_id("lake")


def test_a_new_upload_of_the_key_is_a_new_take_even_with_the_same_bytes():
    first, reupload = listed("landing/a.csv", minute=1), listed("landing/a.csv", minute=9)
    takes = committed({first.key: take_record(first, "run-1")})
    assert next_to_take([reupload], takes, "run-2")[0] == reupload
    assert reupload.take_id("lake") != first.take_id("lake")


def test_state_keeps_only_takes_whose_upload_is_still_listed():
    kept, gone, replaced = listed("landing/kept.csv"), listed("landing/gone.csv"), listed("landing/new.csv")
    takes = {o.key: take_record(o, "run-1") for o in (kept, gone, replaced)}
    assert still_listed(takes, [kept, listed("landing/new.csv", etag="e2")]) == {kept.key: takes[kept.key]}


def test_folders_and_hidden_objects_are_skipped_and_large_ones_reported():
    listing = [listed("landing/"), listed("landing/.upload.part"), listed("landing/big.csv", size=MAX_OBJECT_BYTES + 1)]
    found, too_large = next_to_take(listing, {}, "run-1")
    assert found is None and [o.key for o in too_large] == ["landing/big.csv"]
