"""How the watched folder takes files: a drop at once, a file still being written never before it is whole.

`ecommerce-pipeline drop` writes under a hidden name, dates the copy back and renames it, so
the listing takes it at its next poll; a file written in place by a plain `cp` or by an
exporter that appends for several seconds keeps a fresh modification time while it grows, and
the listing's Minimum File Age keeps it out until it has stopped changing. Each file must end
in the lake once and whole: every row in its segment or quarantine, no partial file quarantined.
"""

import random
import shutil
import subprocess
import threading
import time

import pytest

from inbox import INBOX, MessyExports, lake_key, wait_for_rows
from lake import assert_lake_holds_exactly, delete_objects, keys_of

pytestmark = pytest.mark.integration


@pytest.fixture
def exports(minio, tmp_path):
    made = MessyExports(tmp_path, "pickup")
    yield made
    for stem in made.stems:
        delete_objects(minio, keys_of(minio, stem))


def append_slowly(content: bytes, target, pauses: list[float]) -> threading.Thread:
    """Writes `content` straight into `target` in len(pauses) + 1 appends with those pauses between them."""
    def write():
        step = -(-len(content) // (len(pauses) + 1))
        with open(target, "wb") as out:
            for number, start in enumerate(range(0, len(content), step)):
                out.write(content[start:start + step])
                out.flush()
                if number < len(pauses):
                    time.sleep(pauses[number])

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def assert_stored_once_and_whole(minio, path, expected, rows):
    objects = wait_for_rows(minio, path.stem, rows)
    assert not [key for key in keys_of(minio, path.stem) if key.endswith(".csv.fernet")], "a partial file was quarantined"
    assert_lake_holds_exactly(objects, expected, lake_key())


def test_a_plain_cp_into_the_inbox_is_taken_once_whole(minio, deployed_flow, exports):
    path, expected = exports(rows=120_000, seed=41)
    subprocess.run(["cp", str(path), str(INBOX / path.name)], check=True)
    assert_stored_once_and_whole(minio, path, expected, 120_000)


def test_an_exporter_appending_for_several_seconds_is_taken_once_whole(minio, deployed_flow, exports):
    path, expected = exports(rows=15_000, seed=42)
    rng = random.Random(7)
    pauses = [rng.uniform(0.3, 2.5) for _ in range(6)]  # each shorter than the 5 s Minimum File Age
    writer = append_slowly(path.read_bytes(), INBOX / path.name, pauses)
    writer.join()
    assert_stored_once_and_whole(minio, path, expected, 15_000)


def test_a_hidden_partial_copy_is_never_taken(minio, deployed_flow, exports):
    path, expected = exports(rows=3_000, seed=45)
    hidden = INBOX / f".{path.name}.part"
    shutil.copyfile(path, hidden)
    try:
        time.sleep(8)  # longer than the Minimum File Age and several listings
        assert hidden.exists(), "the listing took a hidden file"
        assert not keys_of(minio, path.stem)
    finally:
        hidden.unlink(missing_ok=True)
