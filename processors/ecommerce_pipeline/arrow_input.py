"""Bytes held in memory (an S3 object's body, an export's chunk) handed to Arrow's readers.

Every Arrow reader of in-memory data (`pq.read_table`, `pq.ParquetFile`, `pq.read_metadata`,
`pyarrow.csv.read_csv`) gets `in_arrow_memory(content)`, never the bytes themselves
(`pa.BufferReader(content)`, `io.BytesIO(content)`). Arrow's Parquet scan returns the table before
its thread pool has let go of the source. Over Python memory, that last release needs the GIL,
and if the command has finished by then and the interpreter is shutting down, Python ends that
thread in the middle of a C++ destructor and the C++ runtime aborts the process. A run that has
printed its result then dies with SIGABRT, "terminate called without an active exception"
(docs/reliability.md, "Exits"). Arrow frees memory it owns without Python, so a copy closes the race.
"""

import pyarrow as pa


def in_arrow_memory(content: bytes) -> pa.BufferReader:
    """A reader over a copy of `content` in Arrow's own memory (one memcpy of data already held whole)."""
    buffer = pa.allocate_buffer(len(content))
    memoryview(buffer).cast("B")[:] = content
    return pa.BufferReader(buffer)
