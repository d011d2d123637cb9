"""Encrypting a chunk's content: its records by the encryption policy, or, unreadable, whole.

Works on bytes, so the NiFi processors and the command-line ingestion share it and it is
tested without a NiFi.
"""

import csv
import io
import re

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from .arrow_input import in_arrow_memory
from .cleaning import read_csv_as_text
from .fernet_tokens import KeyRing, encrypt_bytes
from .lake_parquet import parquet_bytes
from .policy import EncryptionPolicy, load_policy
from .segment_types import apply_segment_types
from .table_encryption import encrypt_table

PARQUET_MAGIC = b"PAR1"
PARQUET = "parquet"
CSV = "csv"
OUTPUT_MIME_TYPES = {PARQUET: "application/vnd.apache.parquet", CSV: "text/csv"}
UNREADABLE_CONTENT = "unreadable content"


class UnreadableRecords(ValueError):
    """Content is not CSV or Parquet records; the message never quotes the content."""


def encrypt_content(
    content: bytes,
    segment: str,
    keys: KeyRing,
    policy: EncryptionPolicy | None = None,
    output_format: str | None = None,
) -> bytes:
    """CSV or Parquet records with the segment's policy columns encrypted.

    `output_format` is PARQUET or CSV; by default the records leave in the format they
    came in. Parquet output is segment_parquet's. CSV values are read as text ('' stays ''),
    so CSV to CSV changes nothing but the policy's columns. Raises UnreadableRecords for
    content that is neither, with a message safe to store in clear.
    """
    parquet_in = content.startswith(PARQUET_MAGIC)
    output_format = output_format or (PARQUET if parquet_in else CSV)
    if output_format not in OUTPUT_MIME_TYPES:
        raise ValueError(f"output format {output_format!r} is not one of {', '.join(OUTPUT_MIME_TYPES)}")
    table = _read_records(content, parquet_in)
    if output_format == PARQUET:
        return segment_parquet(table, segment, keys, policy)
    out = io.BytesIO()
    pa_csv.write_csv(encrypt_table(table, segment, keys, policy), out)
    return out.getvalue()


def segment_parquet(table: pa.Table, segment: str, keys: KeyRing, policy: EncryptionPolicy | None = None) -> bytes:
    """A segment's rows as a lake object: the segment's column types (segment_types), given
    before encrypting, the policy's columns encrypted, one snappy Parquet file."""
    policy = policy or load_policy()
    encrypted = encrypt_table(apply_segment_types(table, segment), segment, keys, policy)
    return parquet_bytes(encrypted, without_dictionary=policy.encrypted_columns(segment))


def _read_records(content: bytes, parquet: bool) -> pa.Table:
    try:
        return pq.read_table(in_arrow_memory(content)) if parquet else read_csv_as_text(content)
    except (pa.ArrowException, UnicodeDecodeError, csv.Error) as error:
        raise UnreadableRecords(f"not readable as {'Parquet' if parquet else 'CSV'} records: {_cause(error)}") from None


def _cause(error: Exception) -> str:
    """What went wrong, without the text around it: Arrow's CSV errors quote the offending row."""
    if isinstance(error, UnicodeDecodeError):
        return f"invalid UTF-8 at byte {error.start}"
    if isinstance(error, csv.Error):
        return str(error)  # the csv module's messages are fixed texts
    message = str(error)
    columns = re.search(r"Expected \d+ columns, got \d+", message)
    if columns:
        return columns[0]
    if message == "Empty CSV file":
        return "empty content"
    return type(error).__name__


def encrypt_whole_content(content: bytes, keys: KeyRing) -> bytes:
    """Content that cannot be read as records, as one Fernet token under the newest key."""
    return encrypt_bytes(content, keys)


def quarantine_reason(text: str | None) -> str:
    """One line saying why content was quarantined; UNREADABLE_CONTENT when nothing says why."""
    return " ".join((text or "").split()) or UNREADABLE_CONTENT
