"""Query results written as they arrive: formats, the aligned table, owner-only files."""

import datetime as dt
import io
import json
import os
import stat

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from ecommerce_pipeline.lake.output import OutputError, choose_format, owner_only_output, write_result

RESULT = pa.table({"vip_status": ["Yes", "No", None], "revenue": [1234.5, 7.25, None],
                   "day": [dt.date(2026, 1, 2), None, dt.date(2026, 1, 3)]})


def written(fmt, table=RESULT):
    stream = io.BytesIO()
    rows = write_result(table.to_batches(max_chunksize=2), table.schema, fmt, stream)
    assert rows == table.num_rows
    return stream.getvalue()


@pytest.mark.parametrize("requested, output, terminal, chosen", [
    (None, None, True, "table"), (None, None, False, "csv"), ("json", None, True, "json"),
    (None, "out.parquet", True, "parquet"), (None, "out.json", False, "json"), (None, "out.data", True, "csv"),
    ("csv", "out.parquet", False, "csv"), ("parquet", None, False, "parquet"),
])
def test_the_format_is_as_asked_else_by_suffix_else_a_table_on_a_terminal_and_csv_on_a_pipe(
        requested, output, terminal, chosen):
    assert choose_format(requested, output, terminal) == chosen


def test_parquet_is_never_written_to_a_terminal():
    with pytest.raises(OutputError, match="--output"):
        choose_format("parquet", None, True)


def test_the_table_aligns_columns_numbers_right_nulls_named():
    assert written("table").decode().splitlines() == [
        "vip_status | revenue | day",
        "-----------+---------+-----------",
        "Yes        |  1234.5 | 2026-01-02",
        "No         |    7.25 | NULL",
        "NULL       |    NULL | 2026-01-03",
        "(3 rows)",
    ]


def test_csv_json_and_parquet_hold_the_same_rows():
    assert pacsv.read_csv(io.BytesIO(written("csv"))).column("revenue").to_pylist() == [1234.5, 7.25, None]
    assert json.loads(written("json")) == [
        {"vip_status": "Yes", "revenue": 1234.5, "day": "2026-01-02"},
        {"vip_status": "No", "revenue": 7.25, "day": None},
        {"vip_status": None, "revenue": None, "day": "2026-01-03"}]
    assert pq.read_table(io.BytesIO(written("parquet"))).equals(RESULT)
    assert json.loads(written("json", RESULT.slice(0, 0))) == []


def test_rows_are_written_as_they_arrive_not_after_the_last_batch():
    stream = io.BytesIO()
    seen = []

    def batches():
        for batch in RESULT.to_batches(max_chunksize=1):
            seen.append(len(stream.getvalue()))
            yield batch

    write_result(batches(), RESULT.schema, "csv", stream)
    assert seen[-1] > seen[1] > seen[0]  # the header, then each row as its batch arrives


def test_an_output_file_is_owner_only_and_appears_only_when_complete(tmp_path):
    target = tmp_path / "result.csv"
    target.write_text("old")
    os.chmod(target, 0o644)
    with pytest.raises(RuntimeError):
        with owner_only_output(target) as stream:
            stream.write(b"partial")
            raise RuntimeError("the query failed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["result.csv"]
    with owner_only_output(target) as stream:
        stream.write(b"new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_output_in_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        with owner_only_output(tmp_path / "no" / "x.csv"):
            pass
