"""Object keys of the output contract: one chunk-id rule for the command-line ingestion and NiFi."""

import datetime as dt
import json
from pathlib import Path

import pytest

from ecommerce_pipeline import ingest
from ecommerce_pipeline.object_keys import (
    LEADING_DOT, QUARANTINE_PREFIX, UNSAFE_STEM_CHARACTER, chunk_id, fragment_chunk_id, object_key, safe_stem)

FLOW = Path(__file__).resolve().parents[2] / "flows" / "ecommerce-ingest.json"

CHUNK = b"header\nrow\n"


def test_chunk_id_is_the_rule_stored_objects_were_named_by():
    # sha256(b"0\n" + chunk)[:32]: changing the rule would put replays next to, not over, their objects.
    assert chunk_id(0, CHUNK) == "2905c1b8929d634a21e7f3afa033f3eb"
    assert chunk_id(0, CHUNK) == chunk_id(0, bytes(CHUNK))


def test_chunk_id_depends_on_position_and_content():
    ids = {chunk_id(0, CHUNK), chunk_id(1, CHUNK), chunk_id(10, CHUNK), chunk_id(0, CHUNK + b"row\n")}
    assert len(ids) == 4
    assert chunk_id(1, b"0\n") != chunk_id(10, b"\n")  # the separator keeps position and content apart


def test_fragment_chunk_id_reads_split_record_s_index_and_treats_an_unsplit_file_as_chunk_0():
    assert fragment_chunk_id("3", CHUNK) == chunk_id(3, CHUNK)
    assert fragment_chunk_id(None, CHUNK) == fragment_chunk_id("", CHUNK) == chunk_id(0, CHUNK)
    with pytest.raises(ValueError, match="fragment.index 'x' is not an integer"):
        fragment_chunk_id("x", CHUNK)


def test_object_key_layout():
    day = dt.date(2026, 11, 24)
    assert object_key("order_info", day, "orders", "abc") == "order_info/ingest_date=2026-11-24/orders-abc.parquet"
    assert (
        object_key(QUARANTINE_PREFIX, day, "orders", "abc", ".csv.fernet")
        == "_quarantine/ingest_date=2026-11-24/orders-abc.csv.fernet"
    )


def test_the_command_line_ingestion_uses_the_shared_rule():
    assert ingest.chunk_id is chunk_id and ingest.object_key is object_key
    assert ingest.QUARANTINE_PREFIX == QUARANTINE_PREFIX


@pytest.mark.parametrize("stem, safe", [
    ("orders_2026-11.v2", "orders_2026-11.v2"),
    ("../../etc/passwd", "_._.._etc_passwd"),
    ("..\\..\\evil name;rm -rf", "_._.._evil_name_rm_-rf"),
    ("Bestellungen März\nx", "Bestellungen_M_rz_x"),
])
def test_a_stem_in_a_key_has_no_separator_no_leading_dot_and_no_control_character(stem, safe):
    assert safe_stem(stem) == safe
    key = object_key("order_info", dt.date(2026, 11, 24), stem, "abc")
    assert key == f"order_info/ingest_date=2026-11-24/{safe}-abc.parquet"
    assert ".." not in key.split("/") and "\\" not in key


def test_the_flow_makes_the_stem_safe_with_the_same_patterns():
    processors = json.loads(FLOW.read_text())["flowContents"]["processors"]
    stamp = next(p for p in processors if p["name"] == "Stamp ingest date and source")
    assert stamp["properties"]["source.stem"] == (
        f"${{filename:substringBeforeLast('.'):replaceAll('{UNSAFE_STEM_CHARACTER}', '_'):replaceAll('{LEADING_DOT}', '_')}}")
