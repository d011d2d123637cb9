"""Command-line ingestion: one CSV export into encrypted, segmented Parquet objects in S3.

The same steps as the NiFi flow, on the same core: chunks of whole records (SplitRecord),
cleaning (CleanEcommerceCsv), the segment SQL (QueryRecord), the encryption policy
(EncryptColumns), snappy Parquet (ConvertRecord) and the output contract's object keys
(PutS3Object). Every input row ends in a segment or in quarantine, and both are encrypted.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from .chunking import iter_record_chunks
from .cleaning import InvalidCsv, clean_frame, read_raw_csv, routable_frame
from .encryption import KeyRing, encrypt_table, parse_keys
from .flowfile_content import parquet_bytes
from .parquet_io import s3_errors
from .segments import QUARANTINE, split_segments
from .settings import S3Settings

QUARANTINE_PREFIX = "_quarantine"
DEFAULT_CHUNK_ROWS = 100_000


@dataclass
class IngestReport:
    source: str
    rows_in: int = 0
    rows_clean: int = 0
    rows_quarantined: int = 0
    rejected_chunks: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)

    @property
    def accounted_for(self) -> bool:
        """Rows counted in are all in a segment or in quarantine (rejected chunks aside)."""
        return self.rows_in == self.rows_clean + self.rows_quarantined


def object_key(prefix: str, ingest_date: dt.date, source_stem: str, unique_id: str, suffix: str = ".parquet") -> str:
    """`<prefix>/ingest_date=YYYY-MM-DD/<stem>-<id><suffix>`: never another file's key."""
    return f"{prefix}/ingest_date={ingest_date.isoformat()}/{source_stem}-{unique_id}{suffix}"


def ingest_file(
    path: str | Path,
    s3: S3Settings,
    keys: KeyRing | str,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ingest_date: dt.date | None = None,
) -> IngestReport:
    """Clean, segment, encrypt and upload one export, a bounded chunk at a time."""
    path = Path(path)
    keyring = keys if isinstance(keys, KeyRing) else parse_keys(keys)
    ingest_date = ingest_date or dt.datetime.now(dt.timezone.utc).date()
    client = s3.client()
    report = IngestReport(source=str(path))

    def put(key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        with s3_errors(f"s3://{s3.bucket}/{key}"):
            client.put_object(Bucket=s3.bucket, Key=key, Body=body, Metadata=metadata or {})
        report.objects.append(key)

    with path.open("rb") as stream:
        for chunk in iter_record_chunks(stream, chunk_rows):
            chunk_id = uuid.uuid4().hex
            try:
                raw = read_raw_csv(chunk)
            except InvalidCsv as error:
                reason = str(error)
                report.rejected_chunks.append(reason)
                put(
                    object_key(QUARANTINE_PREFIX, ingest_date, path.stem, chunk_id, ".csv.fernet"),
                    keyring.fernet.encrypt(chunk),
                    {"reason": reason.encode("ascii", "backslashreplace").decode()},
                )
                continue
            result = clean_frame(raw)
            report.rows_in += len(raw)
            report.rows_clean += len(result.clean)
            report.rows_quarantined += len(result.quarantine)
            routable = pa.Table.from_pandas(routable_frame(result), preserve_index=False)
            for route, table in split_segments(routable).items():
                if table.num_rows:
                    prefix = QUARANTINE_PREFIX if route == QUARANTINE else route
                    encrypted = encrypt_table(table, route, keyring)
                    put(object_key(prefix, ingest_date, path.stem, chunk_id), parquet_bytes(encrypted))
    return report
