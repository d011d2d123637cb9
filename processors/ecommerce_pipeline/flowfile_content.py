"""What the NiFi processors do to one FlowFile's content, as plain functions over bytes.

The processors in processors/ecommerce_processors only move bytes and attributes between
NiFi and these functions, so everything here is tested without a NiFi.
"""

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from .cleaning import clean_frame, frame_to_csv_bytes, read_raw_csv, routable_frame
from .columns import QUARANTINE_REASON_COLUMN
from .encryption import KeyRing, encrypt_table
from .policy import EncryptionPolicy
from .segment_types import apply_segment_types

PARQUET_MAGIC = b"PAR1"
PARQUET = "parquet"
CSV = "csv"
OUTPUT_MIME_TYPES = {PARQUET: "application/vnd.apache.parquet", CSV: "text/csv"}
UNREADABLE_CONTENT = "unreadable content"


class UnreadableRecords(ValueError):
    """Content is not CSV or Parquet records; the message never quotes the content."""


@dataclass(frozen=True)
class CleanedChunk:
    content: bytes
    rows_in: int
    rows_clean: int
    rows_quarantined: int
    quarantine_reasons: str

    def attributes(self) -> dict[str, str]:
        """FlowFile attributes that let the flow and its users count every row."""
        return {
            "record.count": str(self.rows_in),
            "clean.row.count": str(self.rows_clean),
            "quarantine.row.count": str(self.rows_quarantined),
            "quarantine.reasons": self.quarantine_reasons,
            "mime.type": "text/csv",
        }


def clean_chunk(content: bytes) -> CleanedChunk:
    """A chunk of an export to routable CSV: cleaned rows and rejected rows with their reason.

    Raises cleaning.InvalidCsv for content that is not a readable export.
    """
    result = clean_frame(read_raw_csv(content))
    reasons = Counter(result.quarantine[QUARANTINE_REASON_COLUMN])
    return CleanedChunk(
        content=frame_to_csv_bytes(routable_frame(result)),
        rows_in=len(result.clean) + len(result.quarantine),
        rows_clean=len(result.clean),
        rows_quarantined=len(result.quarantine),
        quarantine_reasons="; ".join(f"{count} x {reason}" for reason, count in reasons.most_common()),
    )


def encrypt_content(
    content: bytes,
    segment: str,
    keys: KeyRing,
    policy: EncryptionPolicy | None = None,
    output_format: str | None = None,
) -> bytes:
    """CSV or Parquet records with the segment's policy columns encrypted.

    `output_format` is PARQUET or CSV; by default the records leave in the format they
    came in. Parquet output is one snappy file with the segment's column types
    (segment_types), given before encrypting. CSV values are read as text ('' stays ''),
    so CSV to CSV changes nothing but the policy's columns. Raises UnreadableRecords for
    content that is neither, with a message safe to store in clear.
    """
    parquet_in = content.startswith(PARQUET_MAGIC)
    output_format = output_format or (PARQUET if parquet_in else CSV)
    if output_format not in OUTPUT_MIME_TYPES:
        raise ValueError(f"output format {output_format!r} is not one of {', '.join(OUTPUT_MIME_TYPES)}")
    table = _read_records(content, parquet_in)
    if output_format == PARQUET:
        return parquet_bytes(encrypt_table(apply_segment_types(table, segment), segment, keys, policy))
    out = io.BytesIO()
    pa_csv.write_csv(encrypt_table(table, segment, keys, policy), out)
    return out.getvalue()


def _read_records(content: bytes, parquet: bool) -> pa.Table:
    try:
        return pq.read_table(pa.BufferReader(content)) if parquet else read_csv_as_text(content)
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
    return keys.fernet.encrypt(content)


def quarantine_reason(text: str | None) -> str:
    """One line saying why content was quarantined; UNREADABLE_CONTENT when nothing says why."""
    return " ".join((text or "").split()) or UNREADABLE_CONTENT


def parquet_bytes(table: pa.Table) -> bytes:
    """The table as one snappy-compressed Parquet file, the form every lake object takes."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    return buffer.getvalue()


def read_csv_as_text(content: bytes) -> pa.Table:
    """Every CSV column as a string column, quoted multi-line values kept whole."""
    header = next(csv.reader(io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")), [])
    return pa_csv.read_csv(
        io.BytesIO(content),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
