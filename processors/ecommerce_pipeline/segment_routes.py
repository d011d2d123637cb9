"""The routes the segment SQL defines, read without DuckDB or Arrow.

One .sql file per route in segment_sql/ (package data): the three segments and `quarantine`.
Code that only needs the routes' names or text (the deploy's parameters, MinIO's policies in
the image's bucket init, which has no pyarrow) reads them here.
"""

from pathlib import Path

QUARANTINE = "quarantine"
SEGMENT_SQL_DIR = Path(__file__).resolve().parent / "segment_sql"


def segment_queries(sql_dir: Path = SEGMENT_SQL_DIR) -> dict[str, str]:
    """Route name -> SQL, from the .sql files (the file stem is the route's name)."""
    queries = {path.stem: path.read_text() for path in sorted(sql_dir.glob("*.sql"))}
    if not queries:
        raise FileNotFoundError(f"no segment SQL files in {sql_dir}")
    return queries
