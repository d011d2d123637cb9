"""What the lake holds, from the output contract: tables, their prefixes, schemas and object kinds.

The segment SQL (segment_sql/*.sql) stays the one definition of the segments: the tables
are its routes, and a table's columns are what its SQL returns, run by DuckDB on an empty
FLOWFILE. `ingest_date` comes from the key (`<prefix>/ingest_date=YYYY-MM-DD/...`).
"""

import datetime as dt
import enum
import re
from functools import cache

import duckdb
import pyarrow as pa

from ..columns import CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN
from ..ledger import DUPLICATE_SUFFIX
from ..object_keys import QUARANTINE_PREFIX
from ..segment_routes import QUARANTINE, segment_queries

PARTITION_COLUMN = "ingest_date"
PARQUET_SUFFIX = ".parquet"
WHOLE_FILE_SUFFIX = ".csv.fernet"  # an unreadable file (or a 16 MB piece of one) as one Fernet token
_PARTITION = re.compile(rf"/{PARTITION_COLUMN}=(\d{{4}}-\d{{2}}-\d{{2}})/")


class Kind(enum.Enum):
    PARQUET = "parquet"  # rows, the policy's columns as Fernet tokens
    WHOLE_FILE = "whole file"  # one Fernet token: an export (piece) that was not readable as records
    RECORD = "record"  # a duplicate drop's JSON record: no rows, no tokens
    OTHER = "other"  # not written by the flow: left as it is


@cache
def tables() -> dict[str, str]:
    """Table name -> key prefix (with its slash): the segments, and `quarantine` under `_quarantine/`."""
    return {route: f"{QUARANTINE_PREFIX if route == QUARANTINE else route}/" for route in segment_queries()}


def table_of(key: str) -> str | None:
    """The table an object key belongs to (its segment, or `quarantine`), None outside the lake."""
    return next((name for name, prefix in tables().items() if key.startswith(prefix)), None)


def kind_of(key: str) -> Kind:
    if key.endswith(PARQUET_SUFFIX):
        return Kind.PARQUET
    if key.endswith(WHOLE_FILE_SUFFIX):
        return Kind.WHOLE_FILE
    if key.endswith(DUPLICATE_SUFFIX):
        return Kind.RECORD
    return Kind.OTHER


def ingest_date_of(key: str) -> dt.date | None:
    """The partition date in a key, None when the key has no valid `ingest_date=` folder."""
    found = _PARTITION.search(key)
    if not found:
        return None
    try:
        return dt.date.fromisoformat(found[1])
    except ValueError:
        return None


def table_schema(table: str) -> pa.Schema:
    """The columns the segment SQL gives `table` (on an empty FLOWFILE), then `ingest_date` as a DATE."""
    return _table_schemas()[table]


@cache
def _table_schemas() -> dict[str, pa.Schema]:
    flowfile = pa.table({name: pa.array([], pa.string()) for name in (*CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN)})
    connection = duckdb.connect()
    try:
        connection.register("FLOWFILE", flowfile)
        return {name: connection.sql(sql).to_arrow_table().schema.append(pa.field(PARTITION_COLUMN, pa.date32()))
                for name, sql in segment_queries().items()}
    finally:
        connection.close()
