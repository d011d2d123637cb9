"""Splits cleaned rows into the lake's segments by running the flow's own segment SQL.

The SQL in flows/segments/*.sql is the one definition of the segments: NiFi's QueryRecord
runs it in the flow, and DuckDB runs the same text here for the command-line tools,
tests and benchmarks (both call the input table FLOWFILE).
"""

from pathlib import Path

import duckdb
import pyarrow as pa

SEGMENT_SQL_DIR = Path(__file__).resolve().parents[2] / "flows" / "segments"


def segment_queries(sql_dir: Path = SEGMENT_SQL_DIR) -> dict[str, str]:
    """Segment name -> SQL, from the .sql files (the file stem is the segment name)."""
    queries = {path.stem: path.read_text() for path in sorted(sql_dir.glob("*.sql"))}
    if not queries:
        raise FileNotFoundError(f"no segment SQL files in {sql_dir}")
    return queries


def split_segments(clean: pa.Table, queries: dict[str, str] | None = None) -> dict[str, pa.Table]:
    """Every segment's rows for one table of cleaned rows (each segment gets every row)."""
    connection = duckdb.connect()
    try:
        connection.register("FLOWFILE", clean)
        return {name: connection.sql(sql).to_arrow_table() for name, sql in (queries or segment_queries()).items()}
    finally:
        connection.close()
