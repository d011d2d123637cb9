"""Command-line ingestion: one CSV export into encrypted, segmented Parquet objects in S3.

The same steps as the NiFi flow, on the same core: chunks of whole records (SplitRecord),
cleaning (CleanEcommerceCsv), the routing SQL (QueryRecord), the segments' column types,
the encryption policy and snappy Parquet (EncryptColumns), whole rejected chunks as one
Fernet token (EncryptWholeContent) and the output contract's object keys (the flow's uploads).
Every input row ends in a segment or in quarantine, and both are encrypted.

Chunks are independent, so a file of several chunks is spread over worker processes (one
per core by default): encryption is CPU-bound Python and would otherwise use one core.

A chunk's object keys derive from its position and content, so running `ingest` again
after a failure (S3 down, a crash) rewrites the chunks already stored under their own
keys and adds the rest: nothing is duplicated, and another file's data never lands on
those keys. Before anything is stored the file's content is claimed in the ingest ledger,
as the flow does: running `ingest` again on the same file (same path, size and
modification time) is a replay onto the first run's ingest date, while the same content
from another file is a duplicate, stored nowhere and recorded beside quarantine. A store
that ignores the ledger's conditional put is refused before the claim (store_capabilities).
"""

import datetime as dt
import multiprocessing
import os
import socket
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from .chunking import iter_record_chunks
from .cleaning import InvalidCsv, clean_table, read_raw_table, routable_table
from .content_encryption import encrypt_whole_content, segment_parquet
from .fernet_tokens import parse_keys
from .ledger import Claim, IngestRecord, claim, content_sha256, ledger_key, now_iso, record_duplicate
from .object_keys import QUARANTINE_PREFIX, chunk_id, object_key
from .object_store import put_object, s3_errors
from .segments import QUARANTINE, split_segments
from .settings import S3Settings
from .store_capabilities import require_trusted_store

DEFAULT_CHUNK_ROWS = 100_000


@dataclass
class IngestReport:
    source: str
    rows_in: int = 0
    rows_clean: int = 0
    rows_quarantined: int = 0
    rejected_chunks: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    first_ingest: IngestRecord | None = None  # set when the content had been ingested by another drop
    duplicate_record: str | None = None

    def add(self, chunk: "ChunkReport") -> None:
        self.rows_in += chunk.rows_in
        self.rows_clean += chunk.rows_clean
        self.rows_quarantined += chunk.rows_quarantined
        self.rejected_chunks += [chunk.rejected_reason] if chunk.rejected_reason else []
        self.objects += chunk.objects


@dataclass
class ChunkReport:
    rows_in: int = 0
    rows_clean: int = 0
    rows_quarantined: int = 0
    rejected_reason: str | None = None
    objects: list[str] = field(default_factory=list)


class ChunkIngester:
    """Cleans, routes, encrypts and uploads one chunk; one per process (it holds a client)."""

    def __init__(self, s3: S3Settings, keys: str, source_stem: str, ingest_date: dt.date):
        self.s3, self.source_stem, self.ingest_date = s3, source_stem, ingest_date
        self.keyring = parse_keys(keys)
        self.client = s3.client()

    def __call__(self, position: int, chunk: bytes) -> ChunkReport:
        report = ChunkReport()
        unique_id = chunk_id(position, chunk)
        try:
            raw = read_raw_table(chunk)
        except InvalidCsv as error:
            report.rejected_reason = str(error)
            self._put(
                report,
                object_key(QUARANTINE_PREFIX, self.ingest_date, self.source_stem, unique_id, ".csv.fernet"),
                encrypt_whole_content(chunk, self.keyring),
                reason=report.rejected_reason,
            )
            return report
        result = clean_table(raw)
        report.rows_in, report.rows_clean, report.rows_quarantined = raw.num_rows, result.clean.num_rows, result.quarantine.num_rows
        for route, table in split_segments(routable_table(result)).items():
            if table.num_rows:
                prefix = QUARANTINE_PREFIX if route == QUARANTINE else route
                body = segment_parquet(table, route, self.keyring)
                self._put(report, object_key(prefix, self.ingest_date, self.source_stem, unique_id), body)
        return report

    def _put(self, report: ChunkReport, key: str, body: bytes, reason: str | None = None) -> None:
        put_object(self.client, self.s3.bucket, key, body, reason=reason)
        report.objects.append(key)


_worker_ingester: ChunkIngester | None = None


def _start_worker(*ingester_args) -> None:
    global _worker_ingester
    _worker_ingester = ChunkIngester(*ingester_args)


def _ingest_in_worker(position: int, chunk: bytes) -> ChunkReport:
    return _worker_ingester(position, chunk)


def ingest_file(
    path: str | Path,
    s3: S3Settings,
    keys: str,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ingest_date: dt.date | None = None,
    workers: int | None = None,
    on_chunk: Callable[[int, "ChunkReport"], object] = lambda size, chunk: None,
) -> IngestReport:
    """Clean, segment, encrypt and upload one export, a bounded chunk at a time.

    `keys` is the comma-separated Fernet key list (newest first). `workers` processes
    (default: one per core) share the chunks; at most two chunks per worker are in
    flight, so memory stays bounded however large the file is. `on_chunk` hears each
    chunk's size in bytes and report once it is stored, in input order (a progress bar).
    """
    path = Path(path)
    parse_keys(keys)  # a malformed key fails here, before anything is read or uploaded
    report = IngestReport(source=str(path))
    client = s3.client()
    require_trusted_store(client, s3.bucket, s3.endpoint_url)
    with path.open("rb") as stream:
        digest = content_sha256(stream)
    today = dt.datetime.now(dt.timezone.utc).date()
    record = IngestRecord(digest, now_iso(), (ingest_date or today).isoformat(), path.name, run_identity(path))
    with s3_errors(f"s3://{s3.bucket}/{ledger_key(digest)}"):
        outcome, first = claim(client, s3.bucket, record)
    if outcome is Claim.DUPLICATE:
        report.first_ingest = first
        report.duplicate_record = record_duplicate(client, s3.bucket, record, first, path.stem)
        return report
    ingester_args = (s3, keys, path.stem, dt.date.fromisoformat(first.ingest_date))
    workers = workers or os.cpu_count() or 1
    with path.open("rb") as stream:
        chunks = iter_record_chunks(stream, chunk_rows)
        first = next(chunks)
        second = next(chunks, None)
        if second is None or workers == 1:
            ingester = ChunkIngester(*ingester_args)
            for position, chunk in enumerate(chain([first], [second] if second is not None else [], chunks)):
                chunk_report = ingester(position, chunk)
                report.add(chunk_report)
                on_chunk(len(chunk), chunk_report)
        else:
            for size, chunk_report in _ingest_in_processes(chain([first, second], chunks), workers, ingester_args):
                report.add(chunk_report)
                on_chunk(size, chunk_report)
    return report


def run_identity(path: Path) -> str:
    """A command-line run's identity in the ledger: the same file on the same host, unchanged since."""
    status = path.stat()
    return f"ingest://{socket.gethostname()}{path.resolve()}?size={status.st_size}&mtime_ns={status.st_mtime_ns}"


def _ingest_in_processes(chunks: Iterator[bytes], workers: int,
                         ingester_args: tuple) -> Iterator[tuple[int, ChunkReport]]:
    """(chunk size, chunk report) in input order, with no more than two chunks per worker in flight."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=ingester_args) as pool:
        in_flight = deque()
        for position, chunk in enumerate(chunks):
            in_flight.append((len(chunk), pool.submit(_ingest_in_worker, position, chunk)))
            if len(in_flight) >= 2 * workers:
                size, done = in_flight.popleft()
                yield size, done.result()
        while in_flight:
            size, done = in_flight.popleft()
            yield size, done.result()
