"""Arrow's readers never get Python memory: the runs that died with SIGABRT at exit (docs/reliability.md, "Exits").

The abort itself is a race with the interpreter's shutdown, too rare to catch in a few runs
(benchmarks/exit_aborts.py counts it over hundreds); these tests hold the rule that closes it:
every in-memory source an Arrow reader gets is a copy in Arrow's memory (arrow_input), which no
module of the package bypasses.
"""

import ast
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from ecommerce_pipeline.arrow_input import in_arrow_memory
from ecommerce_pipeline.lake_parquet import parquet_bytes

PACKAGES = Path(__file__).resolve().parents[2] / "processors"
# pyarrow's readers of a file or stream, by the names the package calls them with (pq.read_table, ...)
ARROW_READERS = {"read_table", "ParquetFile", "read_metadata", "read_schema", "read_pandas", "read_csv", "open_csv",
                 "read_json", "dataset", "open_file", "open_stream", "read_feather"}
PYTHON_MEMORY = {"BytesIO", "BufferReader", "py_buffer", "memoryview"}
MODULES = sorted(path for path in PACKAGES.rglob("*.py") if path.name != "arrow_input.py")  # it makes the copy


def test_the_reader_reads_a_copy_of_its_own():
    table = pa.table({"id": ["a", None, "c"], "amount": [1.5, 2.0, None]})
    content = parquet_bytes(table)
    references = sys.getrefcount(content)
    reader = in_arrow_memory(content)
    assert sys.getrefcount(content) == references  # Arrow holds no reference to the caller's bytes
    assert reader.read_buffer().address != pa.py_buffer(content).address
    reader.seek(0)
    assert pq.read_table(reader).equals(table)
    assert pq.read_metadata(in_arrow_memory(content)).num_rows == 3
    assert pa_csv.read_csv(in_arrow_memory(b"id,name\n1,x\n")).to_pylist() == [{"id": 1, "name": "x"}]


def test_empty_content_is_an_empty_reader():
    assert in_arrow_memory(b"").size() == 0
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(in_arrow_memory(b""))


def python_memory_handed_to_readers(source: str) -> list[str]:
    """Calls like `pq.read_table(io.BytesIO(body))` or `source = pa.BufferReader(body); pq.read_table(source)`."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "BufferReader":
            found.append(f"line {node.lineno}: pa.BufferReader over Python memory")
        if isinstance(node, ast.Call) and _name(node.func) in ARROW_READERS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Call) and _name(first.func) in PYTHON_MEMORY and first.args:
                found.append(f"line {node.lineno}: {_name(node.func)}({_name(first.func)}(...))")
    return found


def _name(func: ast.expr) -> str | None:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


@pytest.mark.parametrize("module", MODULES, ids=lambda path: str(path.relative_to(PACKAGES)))
def test_no_module_hands_python_memory_to_an_arrow_reader(module):
    assert python_memory_handed_to_readers(module.read_text()) == [], \
        f"{module.name}: give Arrow's readers ecommerce_pipeline.arrow_input.in_arrow_memory(content)"


@pytest.mark.parametrize("call", [
    "pq.read_table(io.BytesIO(body))",
    "pq.ParquetFile(io.BytesIO(stored.body))",
    "pa_csv.read_csv(io.BytesIO(content), parse_options=options)",
    "source = pa.BufferReader(body)\npq.read_table(source)",
])
def test_the_check_finds_what_made_runs_abort(call):
    assert python_memory_handed_to_readers(call)


def test_the_check_leaves_writers_and_copies_alone():
    assert python_memory_handed_to_readers(
        "buffer = io.BytesIO()\npq.write_table(table, buffer)\npq.read_table(in_arrow_memory(body))") == []
