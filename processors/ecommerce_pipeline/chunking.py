"""Splits a CSV export into bounded chunks of whole records, each with the header.

A quoted field may span lines, so a record ends only at a newline outside quotes; quotes
inside a field are doubled (`""`), so the parity of the quote count tells whether a line
ends inside a field. This keeps any file, however large, out of one Python call: the
command-line ingestion cleans one chunk at a time (NiFi's SplitRecord does the same job
in the flow).
"""

from collections.abc import Iterator
from typing import BinaryIO


def iter_record_chunks(stream: BinaryIO, chunk_rows: int) -> Iterator[bytes]:
    """Chunks of at most `chunk_rows` records, each starting with the file's header line.

    An unclosed quote makes the rest of the file one record; the chunk's own parsing then
    reports it. A file with no data rows yields its header alone, so the caller still
    sees (and rejects) it.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    records = _records(stream)
    header = next(records, b"")
    lines: list[bytes] = []
    rows, yielded = 0, False
    for record in records:
        lines.append(record)
        rows += 1
        if rows == chunk_rows:
            yield header + b"".join(lines)
            lines, rows, yielded = [], 0, True
    if lines or not yielded:
        yield header + b"".join(lines)


def count_records(stream: BinaryIO) -> int:
    """Data records after the header line, counted as the chunks would hold them."""
    return max(sum(1 for _ in _records(stream)) - 1, 0)


def _records(stream: BinaryIO) -> Iterator[bytes]:
    """Whole records (the header first): lines joined while a quoted field is open."""
    record, in_quotes = b"", False
    for line in stream:
        record += line
        in_quotes ^= line.count(b'"') % 2 == 1
        if not in_quotes:
            yield record
            record = b""
    if record:
        yield record
