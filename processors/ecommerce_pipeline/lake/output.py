"""A query's result written as it arrives: an aligned table, CSV, JSON or Parquet, to stdout or a file.

Batches are written one by one, so a large result never sits whole in memory (the aligned
table measures its column widths on its first rows). A file is created readable by its owner
alone, under a temporary name renamed into place once the result is complete: query results
may hold decrypted personal data, and a failed query leaves no partial file.
"""

import datetime as dt
import decimal
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..exit_codes import UsageError

FORMATS = ("table", "csv", "json", "parquet")
TABLE_SAMPLE_ROWS = 1_000  # rows the aligned table measures its column widths on
NULL = "NULL"


class OutputError(UsageError):
    """The output asked for cannot be written (a usage error: nothing was queried)."""


def choose_format(requested: str | None, output: str | None, stdout_is_terminal: bool) -> str:
    """The format to write: as asked; else by the output file's suffix; else a table on a terminal, CSV on a pipe."""
    if requested:
        chosen = requested
    elif output:
        chosen = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".txt": "table"}.get(
            Path(output).suffix.lower(), "csv")
    else:
        chosen = "table" if stdout_is_terminal else "csv"
    if chosen == "parquet" and output is None and stdout_is_terminal:
        raise OutputError("Parquet is binary: write it with --output FILE.parquet or to a pipe")
    return chosen


def write_result(batches: Iterable[pa.RecordBatch], schema: pa.Schema, fmt: str, stream) -> int:
    """Writes the batches to a binary stream in `fmt`; returns the rows written."""
    return _WRITERS[fmt](batches, schema, stream)


@contextmanager
def owner_only_output(path: str | os.PathLike):
    """A binary stream to `path`, owner-only, that appears there only when the block succeeds."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{target} is a directory")
    if not target.parent.is_dir():
        raise OutputError(f"{target.parent} does not exist")
    descriptor, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _csv(batches, schema, stream) -> int:
    with pacsv.CSVWriter(stream, schema) as writer:
        return _each(batches, writer.write_batch)


def _parquet(batches, schema, stream) -> int:
    with pq.ParquetWriter(stream, schema, compression="snappy") as writer:
        return _each(batches, writer.write_batch)


def _each(batches, write) -> int:
    rows = 0
    for batch in batches:
        write(batch)
        rows += batch.num_rows
    return rows


def _json(batches, schema, stream) -> int:
    """One JSON array of objects, written row by row."""
    rows = 0
    stream.write(b"[")
    for batch in batches:
        for row in batch.to_pylist():
            stream.write((",\n" if rows else "\n").encode() + json.dumps(row, default=_json_value,
                                                                         ensure_ascii=False).encode())
            rows += 1
    stream.write(b"\n]\n" if rows else b"]\n")
    return rows


def _json_value(value):
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _table(batches, schema, stream) -> int:
    """Columns aligned on the widths of the first rows (later, longer values overflow), then `(N rows)`."""
    names = schema.names
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) for t in schema.types]
    pending: list[list[str]] = []
    widths: list[int] | None = None
    rows = 0

    def emit(lines: list[list[str]]) -> None:
        for cells in lines:
            line = " | ".join(_cell(text, width, right) for text, width, right in zip(cells, widths, numeric))
            stream.write((line.rstrip() + "\n").encode())

    for batch in batches:
        text = _text_rows(batch)
        rows += len(text)
        if widths is None:
            pending += text
            if len(pending) < TABLE_SAMPLE_ROWS:
                continue
            widths = _header(names, pending, stream)
            emit(pending)
        else:
            emit(text)
    if widths is None:
        widths = _header(names, pending, stream)
        emit(pending)
    stream.write(f"({rows} row{'s' if rows != 1 else ''})\n".encode())
    return rows


def _header(names: list[str], sample: list[list[str]], stream) -> list[int]:
    widths = [max([len(name)] + [len(row[i]) for row in sample]) for i, name in enumerate(names)]
    stream.write((" | ".join(name.ljust(w) for name, w in zip(names, widths)).rstrip() + "\n").encode())
    stream.write(("-+-".join("-" * w for w in widths) + "\n").encode())
    return widths


def _cell(text: str, width: int, numeric: bool) -> str:
    return text.rjust(width) if numeric else text.ljust(width)


def _text_rows(batch: pa.RecordBatch) -> list[list[str]]:
    columns = [[_text(value) for value in column.to_pylist()] for column in batch.columns]
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(batch.num_rows)]


def _text(value) -> str:
    if value is None:
        return NULL
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return " ".join(str(value).splitlines()) if isinstance(value, str) else str(value)


_WRITERS: dict[str, Callable] = {"table": _table, "csv": _csv, "json": _json, "parquet": _parquet}
