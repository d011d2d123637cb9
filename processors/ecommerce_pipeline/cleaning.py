"""Reading and cleaning the e-commerce CSV exports, as plain vectorised pandas functions.

`read_raw_csv` turns an export's bytes into a frame of strings or raises `InvalidCsv`
saying what is wrong with the file; `clean_frame` splits that frame into typed clean rows
and quarantined rows (raw values plus the reason). Every row ends up in exactly one of
the two: len(clean) + len(quarantine) == len(raw).

Only the keys and the measures decide quarantine: a missing order_id or customer_id and
a missing or unparseable order_date or total_purchase_value. Other fields are normalised
when they can be and otherwise kept as trimmed, so no data is invented or lost:
a phone number that is not a North American number stays as written, and so does a
delivery or VIP status outside the vocabulary.

Clean dtypes: text columns are pandas `str` (missing = NaN), total_purchase_value is
float64 rounded to cents, order_date is `date32[pyarrow]` so Parquet gets a DATE column.
"""

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from .columns import CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN, RAW_COLUMNS, RAW_TO_CLEAN

DELIVERY_STATUS_ALIASES = {
    "delivered": "Delivered",
    "shipped": "Shipped",
    "in transit": "In Transit",
    "intransit": "In Transit",
    "pending": "Pending",
    "cancelled": "Cancelled",
    "canceled": "Cancelled",
    "returned": "Returned",
}
VIP_STATUS_ALIASES = {
    "yes": "Yes", "y": "Yes", "true": "Yes", "t": "Yes", "1": "Yes", "vip": "Yes",
    "no": "No", "n": "No", "false": "No", "f": "No", "0": "No",
}

# Patterns spell out [0-9] and spaces: pandas runs \d on non-ASCII data and \s always
# through Python's re row by row instead of pyarrow's RE2, about ten times slower.
ORDER_DATE_PATTERN = r"[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"
AMOUNT_PATTERN = r"-?\$? *(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)"
PHONE_CHARACTERS_PATTERN = r"[0-9 \t().+-]+"

UTF8_CHECK_CHUNK_BYTES = 8 * 1024 * 1024


class InvalidCsv(ValueError):
    """The input is not a readable export: the whole file goes to failure, not row by row."""


@dataclass(frozen=True)
class CleaningResult:
    """Clean rows (CLEAN_COLUMNS, typed) and rejected rows (raw strings plus the reason)."""

    clean: pd.DataFrame
    quarantine: pd.DataFrame


def read_raw_csv(data: bytes | bytearray | memoryview | BinaryIO) -> pd.DataFrame:
    """Every value of an export as a string ('' stays ''), columns in RAW_COLUMNS order.

    Accepts a UTF-8 BOM, CRLF or LF line ends, quoted fields spanning lines and the
    columns in any order; raises InvalidCsv for anything that is not such an export.
    """
    content = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else data.read()
    if not content.lstrip(codecs.BOM_UTF8).strip():
        raise InvalidCsv("empty input: no header and no data rows")
    _check_utf8_text(content)
    header = _read_header(content)
    _check_header(header)
    table = _parse(content, header)
    if table.num_rows == 0:
        raise InvalidCsv("header only, no data rows")
    frame = table.to_pandas()
    frame.columns = [name.strip() for name in header]
    return frame[list(RAW_COLUMNS)]


def _line_of(content: bytes, offset: int) -> int:
    return content.count(b"\n", 0, offset) + 1


def _check_utf8_text(content: bytes) -> None:
    """Reject UTF-16, binary and non-UTF-8 input, naming the first offending byte."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidCsv("not UTF-8: the input starts with a UTF-16 byte order mark; export it as UTF-8")
    nul_at = content.find(b"\x00")
    if nul_at >= 0:
        raise InvalidCsv(
            f"binary content: NUL byte at byte {nul_at} (line {_line_of(content, nul_at)}); expected UTF-8 CSV text"
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(content) + 1, UTF8_CHECK_CHUNK_BYTES):
        pending = len(decoder.getstate()[0])
        chunk = content[start : start + UTF8_CHECK_CHUNK_BYTES]
        try:
            decoder.decode(chunk, final=start + UTF8_CHECK_CHUNK_BYTES >= len(content))
        except UnicodeDecodeError as error:
            offset = start - pending + error.start
            raise InvalidCsv(
                f"not UTF-8: invalid byte 0x{content[offset]:02x} at byte {offset} (line {_line_of(content, offset)})"
            ) from None


def _text_stream(content: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")


def _read_header(content: bytes) -> list[str]:
    reader = csv.reader(_text_stream(content), strict=True)
    try:
        for record in reader:
            if record:
                return record
    except csv.Error as error:
        raise InvalidCsv(f"malformed CSV header at line {reader.line_num}: {error}") from None
    raise InvalidCsv("empty input: no header and no data rows")


def _check_header(header: list[str]) -> None:
    names = [name.strip() for name in header]
    missing = [name for name in RAW_COLUMNS if name not in names]
    unexpected = [name for name in names if name not in RAW_COLUMNS]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    problems = [
        f"{label} {', '.join(map(repr, values))}"
        for label, values in (("missing columns", missing), ("unexpected columns", unexpected), ("duplicated columns", duplicated))
        if values
    ]
    if problems:
        raise InvalidCsv(f"wrong header: {'; '.join(problems)} (expected the {len(RAW_COLUMNS)} export columns)")


def _parse(content: bytes, header: list[str]) -> pa.Table:
    """Parse with pyarrow (fast, multi-threaded, strict about field counts).

    pyarrow takes a quote left open at the end of the input as closed, so an odd number
    of quote characters sends the input through the slow exact check as well.
    """
    try:
        table = read_csv_as_text(content, header, check_utf8=False)
    except pa.ArrowInvalid as error:
        raise InvalidCsv(_locate_malformed_record(content, len(header)) or f"malformed CSV: {error}") from None
    if content.count(b'"') % 2:
        problem = _locate_malformed_record(content, len(header))
        if problem:
            raise InvalidCsv(problem)
    return table


def read_csv_as_text(content: bytes, header: list[str] | None = None, *, check_utf8: bool = True) -> pa.Table:
    """Every CSV column as a string column ('' stays ''), quoted multi-line values kept whole.

    `header` is the first record when the caller has read it already; `check_utf8=False`
    when it has checked the encoding itself.
    """
    if header is None:
        header = next(csv.reader(_text_stream(content)), [])
    return pa_csv.read_csv(
        io.BytesIO(content),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=False, check_utf8=check_utf8
        ),
    )


def _locate_malformed_record(content: bytes, expected_fields: int) -> str | None:
    """The first structural problem with its line number, read with the csv module.

    Only run once parsing has failed, as it is slower than the parse itself.
    """
    reader = csv.reader(_text_stream(content), strict=True)
    last_line = 0
    try:
        for record in reader:
            if record and len(record) != expected_fields:
                return (
                    f"malformed CSV: the record starting at line {last_line + 1} has {len(record)} fields, "
                    f"expected {expected_fields}"
                )
            last_line = reader.line_num
    except csv.Error as error:
        if "end of data" in str(error) or "field larger than field limit" in str(error):
            return f"malformed CSV: unclosed quote in the record starting at line {last_line + 1}"
        return f"malformed CSV at line {reader.line_num}: {error}"
    return None


def clean_frame(raw: pd.DataFrame) -> CleaningResult:
    """Split raw rows (as read_raw_csv returns them) into clean typed rows and quarantine."""
    missing = [name for name in RAW_TO_CLEAN if name not in raw.columns]
    if missing:
        raise ValueError(f"raw frame lacks columns {missing}")
    original = raw[list(RAW_TO_CLEAN)].rename(columns=RAW_TO_CLEAN).astype("str").reset_index(drop=True)
    trimmed = original.apply(lambda column: _blank_to_null(column.str.strip()))

    order_date = parse_order_date(trimmed["order_date"])
    amount = parse_amount(trimmed["total_purchase_value"])
    reasons = _quarantine_reasons(trimmed, order_date, amount)
    rejected = reasons != ""

    clean = trimmed.assign(
        phone_number=standardise_phone(trimmed["phone_number"]),
        delivery_status=normalise_delivery_status(trimmed["delivery_status"]),
        vip_status=normalise_vip_status(trimmed["vip_status"]),
        order_date=order_date,
        total_purchase_value=amount,
    )[~rejected]
    quarantine = original[rejected].fillna("").assign(**{QUARANTINE_REASON_COLUMN: reasons[rejected]})
    return CleaningResult(
        clean=clean[list(CLEAN_COLUMNS)].reset_index(drop=True),
        quarantine=quarantine.reset_index(drop=True),
    )


def _blank_to_null(values: pd.Series) -> pd.Series:
    return values.where(values != "")


def parse_order_date(values: pd.Series) -> pd.Series:
    """Day-first `dd-mm-yyyy` or `dd/mm/yyyy` to date32; anything else becomes null.

    An export holds a few thousand distinct dates at most, so each distinct value is parsed
    once (pandas parses string columns row by row, about 1 s per million rows).
    """
    dashed = values.where(values.str.fullmatch(ORDER_DATE_PATTERN)).str.replace("/", "-", regex=False)
    codes, distinct = pd.factorize(dashed)
    parsed = pd.to_datetime(pd.Series(distinct, dtype="str"), format="%d-%m-%Y", errors="coerce")
    return pd.Series(parsed.astype("date32[pyarrow]").array.take(codes, allow_fill=True), index=values.index)


def parse_amount(values: pd.Series) -> pd.Series:
    """`1234.5`, `$1,234.50`, `-12` to float64 rounded to cents; anything else becomes NaN.

    Commas count only as thousands separators (`1,234`), so `12,50` is not read as 12.5.
    """
    well_formed = values.str.fullmatch(AMOUNT_PATTERN)
    digits = values.where(well_formed).str.replace(r"[$, ]", "", regex=True)
    return pd.to_numeric(digits, errors="coerce").astype("float64").round(2)


def standardise_phone(values: pd.Series) -> pd.Series:
    """North American numbers to `+1 (XXX) XXX-XXXX`; other values are kept as written.

    Accepted: only digits, spaces, `()+.-`, and 10 digits or 11 starting with 1; a value
    starting with `+` must be `+1`, so foreign numbers are not mistaken for American ones.
    """
    digits = values.str.replace(r"[^0-9]", "", regex=True)
    length = digits.str.len()
    with_country_code = (length == 11) & digits.str.startswith("1")
    without_country_code = (length == 10) & ~values.str.startswith("+")
    parseable = values.str.fullmatch(PHONE_CHARACTERS_PATTERN) & (with_country_code | without_country_code)
    national = digits.str.slice(-10)
    formatted = "+1 (" + national.str.slice(0, 3) + ") " + national.str.slice(3, 6) + "-" + national.str.slice(6)
    return formatted.where(parseable, values)


def normalise_delivery_status(values: pd.Series) -> pd.Series:
    """Messy spellings to the statuses DELIVERY_STATUS_ALIASES names; unknown statuses are kept as written."""
    key = values.str.lower().str.replace(r"[ \t_-]+", " ", regex=True).str.strip()
    return key.map(DELIVERY_STATUS_ALIASES).astype("str").fillna(values)


def normalise_vip_status(values: pd.Series) -> pd.Series:
    """Yes/No spellings (`y`, `TRUE`, `0`...) to Yes or No; unknown values are kept."""
    return values.str.lower().map(VIP_STATUS_ALIASES).astype("str").fillna(values)


def _quarantine_reasons(trimmed: pd.DataFrame, order_date: pd.Series, amount: pd.Series) -> pd.Series:
    """Why each row cannot be cleaned, reasons joined with '; ', or '' for a clean row."""
    amount_text, date_text = trimmed["total_purchase_value"], trimmed["order_date"]
    unparseable_amount = amount.isna() & amount_text.notna()
    unparseable_date = order_date.isna() & date_text.notna()
    checks = (
        (trimmed["order_id"].isna(), "missing order_id"),
        (trimmed["customer_id"].isna(), "missing customer_id"),
        (amount_text.isna(), "missing total_purchase_value"),
        (unparseable_amount, "unparseable total_purchase_value '" + amount_text[unparseable_amount] + "'"),
        (date_text.isna(), "missing order_date"),
        (unparseable_date, "unparseable order_date '" + date_text[unparseable_date] + "'"),
    )
    reasons = pd.Series("", index=trimmed.index, dtype="str")
    for rows, reason in checks:
        if rows.any():
            so_far = reasons[rows]
            reasons[rows] = so_far.where(so_far == "", so_far + "; ") + reason
    return reasons


def routable_frame(result: CleaningResult) -> pd.DataFrame:
    """Clean and quarantined rows in one all-text frame; `quarantine_reason` is '' for clean rows.

    A NiFi Python processor hands on one FlowFile per input, so cleaning passes both kinds
    of rows on together and the flow's SQL (processors/ecommerce_pipeline/segment_sql) routes them: the segments take
    the rows without a reason and cast dates and amounts back to their types, quarantine
    takes the rest as they came in. The command-line ingestion runs the same SQL.
    """
    clean = result.clean.assign(
        order_date=result.clean["order_date"].astype("str"),
        total_purchase_value=result.clean["total_purchase_value"].map("{:.2f}".format).astype("str"),
        **{QUARANTINE_REASON_COLUMN: ""},
    )
    return pd.concat([clean, result.quarantine], ignore_index=True)


def frame_to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A clean or quarantine frame as UTF-8 CSV: ISO dates, amounts with 2 decimals, '' for null."""
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False, float_format="%.2f", date_format="%Y-%m-%d", lineterminator="\n", encoding="utf-8")
    return buffer.getvalue()


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

    Raises InvalidCsv for content that is not a readable export.
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
