"""The file format of every lake object: one snappy-compressed Parquet file."""

import io

import pyarrow as pa
import pyarrow.parquet as pq


def parquet_bytes(table: pa.Table) -> bytes:
    """The table as one snappy-compressed Parquet file, the form every lake object takes."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    return buffer.getvalue()
