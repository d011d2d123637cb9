"""What the NiFi processors do to one FlowFile's content, as plain functions over bytes.

The processors in processors/ecommerce_processors only move bytes and attributes between
NiFi and these functions, so everything here is tested without a NiFi.
"""

import csv
import io
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from .cleaning import clean_frame, frame_to_csv_bytes, read_raw_csv, routable_frame
from .columns import QUARANTINE_REASON_COLUMN
from .encryption import KeyRing, encrypt_table
from .policy import EncryptionPolicy

PARQUET_MAGIC = b"PAR1"


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


def encrypt_content(content: bytes, segment: str, keys: KeyRing, policy: EncryptionPolicy | None = None) -> bytes:
    """CSV or Parquet records with the segment's policy columns encrypted, in the same format.

    CSV values are read as text ('' stays ''), so nothing but the policy's columns changes.
    """
    if content.startswith(PARQUET_MAGIC):
        return parquet_bytes(encrypt_table(pq.read_table(pa.BufferReader(content)), segment, keys, policy))
    table = read_csv_as_text(content)
    out = io.BytesIO()
    pa_csv.write_csv(encrypt_table(table, segment, keys, policy), out)
    return out.getvalue()


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
