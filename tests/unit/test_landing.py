"""Which landing-bucket object the flow takes next."""

import datetime as dt

from ecommerce_pipeline.landing import MAX_OBJECT_BYTES, next_to_take


def listed(key, etag="e1", size=10, minute=0):
    return {"Key": key, "ETag": f'"{etag}"', "Size": size, "LastModified": dt.datetime(2026, 11, 25, 12, minute)}


def test_the_oldest_object_not_taken_comes_first():
    found, _ = next_to_take([listed("landing/b.csv", minute=2), listed("landing/a.csv", minute=5)], {})
    assert found.key == "landing/b.csv" and found.filename == "b.csv" and found.etag == "e1"


def test_a_taken_object_is_not_taken_again_unless_its_content_changed():
    listing = [listed("landing/a.csv", etag="e1")]
    assert next_to_take(listing, {"landing/a.csv": "e1"})[0] is None
    assert next_to_take([listed("landing/a.csv", etag="e2")], {"landing/a.csv": "e1"})[0].etag == "e2"


def test_folders_and_hidden_objects_are_skipped_and_large_ones_reported():
    listing = [listed("landing/"), listed("landing/.upload.part"), listed("landing/big.csv", size=MAX_OBJECT_BYTES + 1)]
    found, too_large = next_to_take(listing, {})
    assert found is None and [o.key for o in too_large] == ["landing/big.csv"]
