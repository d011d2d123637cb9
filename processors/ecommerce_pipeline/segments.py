"""Routes cleaned rows to the lake's segments and quarantine by running the flow's own SQL.

The SQL in ecommerce_pipeline/segment_sql/*.sql is the one definition of the routes (the three segments
and `quarantine`): NiFi's QueryRecord runs it in the flow, and DuckDB runs the same text
here for the command-line tools, tests and benchmarks. Both call the input FLOWFILE: the
all-text table `cleaning.routable_frame` makes.
"""

from pathlib import Path

import duckdb
import pyarrow as pa

from .segment_types import QUARANTINE

SEGMENT_SQL_DIR = Path(__file__).resolve().parent / "segment_sql"  # package data: in every install


def segment_queries(sql_dir: Path = SEGMENT_SQL_DIR) -> dict[str, str]:
    """Route name -> SQL, from the .sql files (the file stem is the route's name)."""
    queries = {path.stem: path.read_text() for path in sorted(sql_dir.glob("*.sql"))}
    if not queries:
        raise FileNotFoundError(f"no segment SQL files in {sql_dir}")
    return queries


def split_segments(routable: pa.Table, queries: dict[str, str] | None = None) -> dict[str, pa.Table]:
    """Each route's rows: every clean row in each segment, every rejected row in quarantine."""
    connection = duckdb.connect()
    try:
        connection.register("FLOWFILE", routable)
        return {name: connection.sql(sql).to_arrow_table() for name, sql in (queries or segment_queries()).items()}
    finally:
        connection.close()
