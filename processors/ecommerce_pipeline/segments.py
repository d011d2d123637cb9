"""Routes cleaned rows to the lake's segments and quarantine by running the flow's own SQL.

The SQL in ecommerce_pipeline/segment_sql/*.sql is the one definition of the routes (the three segments
and `quarantine`): NiFi's QueryRecord runs it in the flow, and DuckDB runs the same text
here for the command-line tools, tests and benchmarks. Both call the input FLOWFILE: the
all-text table `cleaning.routable_frame` makes.
"""

import duckdb
import pyarrow as pa

from .segment_routes import QUARANTINE, segment_queries

__all__ = ["QUARANTINE", "segment_queries", "split_segments"]


def split_segments(routable: pa.Table, queries: dict[str, str] | None = None) -> dict[str, pa.Table]:
    """Each route's rows: every clean row in each segment, every rejected row in quarantine."""
    connection = duckdb.connect()
    try:
        connection.register("FLOWFILE", routable)
        return {name: connection.sql(sql).to_arrow_table() for name, sql in (queries or segment_queries()).items()}
    finally:
        connection.close()
