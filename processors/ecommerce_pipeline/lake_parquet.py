"""The file format of every lake object: one snappy-compressed Parquet file."""

import io
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq


def parquet_bytes(table: pa.Table, without_dictionary: Iterable[str] = ()) -> bytes:
    """The table as one snappy-compressed Parquet file, the form every lake object takes.

    Columns named in `without_dictionary` skip dictionary encoding: Fernet tokens are all
    distinct, so trying it only costs time (a third of the write of an encrypted segment)
    before the writer falls back to plain pages of the same size.
    """
    skipped = set(without_dictionary)
    dictionary = [name for name in table.column_names if name not in skipped] if skipped else True
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy", use_dictionary=dictionary)
    return buffer.getvalue()
