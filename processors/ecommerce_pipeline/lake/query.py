"""SQL over the whole lake, straight from S3: DuckDB over pyarrow datasets of the lake's objects.

DuckDB cannot read `s3://` here (its httpfs extension is not installable), so each table is
a pyarrow dataset with one fragment per Parquet object, read through pyarrow's S3 client with
the analyst's read-only credentials. Every fragment carries its `ingest_date` from the key,
so a filter on `ingest_date` that DuckDB pushes into the scan opens only the matching
objects. `decrypt(column)` exists only when keys are given: a DuckDB function over Arrow
vectors calling the core's column decryption.

DuckDB runs with external access off: a query reads the lake and nothing else, and cannot
write files (COPY ... TO) beside the tool's own owner-only output.
"""

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from ..exit_codes import CommandFailed, ConfigurationMissing, ServiceUnreachable
from ..fernet_tokens import DecryptionFailed, KeyRing, decrypt_column
from ..settings import S3Settings
from .keys import KEYS_VARIABLE, key_texts, ring
from .layout import PARTITION_COLUMN, Kind, ingest_date_of, kind_of, table_schema, tables
from .output import choose_format, owner_only_output, write_result
from .progress import Progress
from .store import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, LakeStore, lake_settings

DECRYPT_FUNCTION = "decrypt"
BATCH_ROWS = 65_536
RELEASE_SECONDS = 30
_UNREACHABLE_HINTS = ("NETWORK_CONNECTION", "Couldn't connect", "curlCode", "Connection refused", "Timeout")


@dataclass(frozen=True)
class LakeTable:
    name: str
    objects: int
    bytes: int


class _CountingHandler(pafs.FileSystemHandler):
    """A read-only view of another filesystem that counts the files opened: the lake's objects read."""

    def __init__(self, inner: pafs.FileSystem):
        self.inner = inner
        self.opened = 0
        self._lock = threading.Lock()

    def open_input_file(self, path):
        with self._lock:
            self.opened += 1
        return self.inner.open_input_file(path)

    def open_input_stream(self, path):
        with self._lock:
            self.opened += 1
        return self.inner.open_input_stream(path)

    def get_type_name(self):
        return f"counting+{self.inner.type_name}"

    def normalize_path(self, path):
        return self.inner.normalize_path(path)

    def get_file_info(self, paths):
        return self.inner.get_file_info(paths)

    def get_file_info_selector(self, selector):
        return self.inner.get_file_info(selector)

    def _read_only(self, *args):
        raise PermissionError("the lake is read-only to queries")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = delete_file = _read_only
    move = copy_file = open_output_stream = open_append_stream = _read_only


class LakeQuery:
    """A DuckDB connection whose tables are the lake's segments and quarantine; close it when done."""

    def __init__(self, s3: S3Settings, keys: KeyRing | None = None, *, account: str = "analyst"):
        self.store = LakeStore(s3, account)
        self.keys = keys
        self.tables: dict[str, LakeTable] = {}
        self._decrypt_failed = False
        endpoint = urlsplit(s3.endpoint_url)
        self._counting = _CountingHandler(pafs.S3FileSystem(
            access_key=s3.access_key, secret_key=s3.secret_key, endpoint_override=endpoint.netloc,
            scheme=endpoint.scheme or "http", region="us-east-1", connect_timeout=CONNECT_TIMEOUT_SECONDS,
            request_timeout=READ_TIMEOUT_SECONDS, allow_bucket_creation=False, allow_bucket_deletion=False))
        self.filesystem = pafs.PyFileSystem(self._counting)
        self.connection = duckdb.connect(config={"enable_external_access": False})
        try:
            for name, prefix in tables().items():
                self.connection.register(name, self._dataset(name, prefix))
            if keys is not None:
                self.connection.create_function(DECRYPT_FUNCTION, self._decrypt, ["VARCHAR"], "VARCHAR", type="arrow",
                                                null_handling="special", side_effects=False)
            self.connection.execute("SET lock_configuration = true")
        except BaseException:
            self.close()
            raise

    @property
    def objects_read(self) -> int:
        return self._counting.opened

    @property
    def objects(self) -> int:
        return sum(table.objects for table in self.tables.values())

    def _dataset(self, name: str, prefix: str) -> ds.Dataset:
        """The table's Parquet objects as fragments with their size and partition: listed once, never opened here."""
        parquet = ds.ParquetFileFormat()
        fragments = []
        size = 0
        for item in self.store.objects(prefix):
            if kind_of(item["Key"]) is not Kind.PARQUET:
                continue  # whole unreadable files and duplicate records are not rows
            day = ingest_date_of(item["Key"])
            partition = (ds.field(PARTITION_COLUMN) == pa.scalar(day, pa.date32())) if day else ds.scalar(True)
            fragments.append(parquet.make_fragment(f"{self.store.bucket}/{item['Key']}", self.filesystem,
                                                   partition_expression=partition, file_size=item["Size"]))
            size += item["Size"]
        self.tables[name] = LakeTable(name, len(fragments), size)
        return ds.FileSystemDataset(fragments, table_schema(name), parquet, self.filesystem)

    def _decrypt(self, values: pa.Array) -> pa.Array:
        try:
            return decrypt_column(values, self.keys, column=DECRYPT_FUNCTION)
        except DecryptionFailed:
            self._decrypt_failed = True
            raise

    def execute(self, sql: str, batch_rows: int = BATCH_ROWS) -> pa.RecordBatchReader:
        """The result of `sql` (its last statement), a batch at a time as DuckDB produces it."""
        with self.errors():
            relation = self.connection.sql(sql)
            if relation is None:
                raise CommandFailed("the SQL returns no rows to show (end it with a SELECT)")
            return _guarded(relation.to_arrow_reader(batch_rows), self.errors)

    @contextmanager
    def errors(self):
        """DuckDB's and Arrow's errors as one line and an exit code."""
        try:
            yield
        except (duckdb.Error, pa.ArrowException, OSError) as error:
            raise self._failure(error) from None

    def _failure(self, error: Exception) -> CommandFailed:
        message = " ".join(str(error).split())
        if self._decrypt_failed:
            return CommandFailed(f"{DECRYPT_FUNCTION}(): a value is not a token any key in {KEYS_VARIABLE} opens "
                                 "(wrong keys, a column that is not encrypted, or altered data)")
        if self.keys is None and isinstance(error, duckdb.CatalogException) and \
                f"name {DECRYPT_FUNCTION} does not exist" in message:
            return ConfigurationMissing(f"{DECRYPT_FUNCTION}() needs the keys: set {KEYS_VARIABLE} (environment or "
                                        ".env); without them encrypted columns stay Fernet tokens")
        if any(hint in message for hint in _UNREACHABLE_HINTS):
            return ServiceUnreachable(f"lost the S3 store at {self.store.s3.endpoint_url} during the query: {message}")
        return CommandFailed(f"query failed: {message}")

    def close(self) -> None:
        """Closes DuckDB, then waits until Arrow's threads have let go of the filesystem.

        A query that stops early (an error, a LIMIT) leaves read-ahead tasks in Arrow's thread
        pools; the last of them to finish releases the Python filesystem handler, which takes the
        GIL. Were that to happen while the interpreter shuts down, the process would abort
        ("terminate called without an active exception"), so it happens here, before.
        """
        self.connection.close()
        self.filesystem = None
        deadline = time.monotonic() + RELEASE_SECONDS
        while sys.getrefcount(self._counting) > 2 and time.monotonic() < deadline:
            time.sleep(0.01)

    def __enter__(self) -> "LakeQuery":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _guarded(reader: pa.RecordBatchReader, errors) -> pa.RecordBatchReader:
    """The reader with failures while streaming (a bad cast, the store gone) mapped like the query's own."""

    def batches() -> Iterator[pa.RecordBatch]:
        with errors():
            yield from reader

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


class ScanProgress:
    """Objects read so far, on stderr once a scan has taken a few seconds (polled: reads happen in Arrow's threads)."""

    def __init__(self, query: LakeQuery, every: float = 0.5):
        self.query = query
        self.progress = Progress("objects read", None, f"of {query.objects} objects")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(every,), daemon=True)

    def _poll(self, every: float) -> None:
        while not self._stop.wait(every):
            self._show()

    def _show(self) -> None:
        read = self.query.objects_read
        if read > self.progress.done:
            self.progress.update(read - self.progress.done)

    def __enter__(self) -> "ScanProgress":
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()
            self.progress.close()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass(frozen=True)
class QueryReport:
    rows: int
    objects_read: int
    objects: int  # Parquet objects in the lake's tables
    format: str


def run_query(settings: dict[str, str], sql: str, *, fmt: str | None = None, output: str | None = None,
              stdout=None, stdout_is_terminal: bool = False) -> QueryReport:
    """Runs `sql` over the lake as the analyst and writes the result to `output` (owner-only) or `stdout`.

    `decrypt()` is there when FERNET_KEYS is set. Progress goes to stderr once the scan takes a
    few seconds, and stops before the first row reaches a terminal.
    """
    fmt = choose_format(fmt, output, stdout_is_terminal)
    keys = key_texts(settings, KEYS_VARIABLE, required=False)
    s3 = lake_settings(settings, "analyst")
    with LakeQuery(s3, ring(keys, KEYS_VARIABLE) if keys else None) as query, ScanProgress(query) as progress:
        reader = query.execute(sql)

        def batches() -> Iterator[pa.RecordBatch]:
            for batch in reader:
                if output is None and stdout_is_terminal:
                    progress.stop()
                yield batch

        if output is not None:
            with owner_only_output(output) as stream:
                rows = write_result(batches(), reader.schema, fmt, stream)
        else:
            rows = write_result(batches(), reader.schema, fmt, stdout)
            stdout.flush()
        return QueryReport(rows, query.objects_read, query.objects, fmt)
