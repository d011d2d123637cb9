"""Reading and cleaning the e-commerce CSV exports, as vectorised Arrow functions.

`read_raw_table` turns an export's bytes into a table of strings or raises `InvalidCsv`
saying what is wrong with the file; `clean_table` splits that table into typed clean rows
and quarantined rows (raw values plus the reason). Every row ends up in exactly one of
the two: clean.num_rows + quarantine.num_rows == raw.num_rows. The work is done by
pyarrow.compute kernels over whole columns (no Python loop over rows); `read_raw_csv` and
`clean_frame` are the same functions for pandas callers.

Only the keys and the measures decide quarantine: a missing order_id or customer_id and
a missing or unparseable order_date or total_purchase_value. Other fields are normalised
when they can be and otherwise kept as trimmed, so no data is invented or lost:
a phone number that is not a North American number stays as written, and so does a
delivery or VIP status outside the vocabulary.

Clean types: text columns are strings (missing = null), total_purchase_value is float64
rounded to cents, order_date is date32 so Parquet gets a DATE column.
"""

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .arrow_input import in_arrow_memory
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

# RE2 patterns (pyarrow's regex engine), matched against the whole trimmed value.
ORDER_DATE_PATTERN = r"[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"
AMOUNT_PATTERN = r"-?\$? *(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)"
PHONE_CHARACTERS_PATTERN = r"[0-9 \t().+-]+"
# What Python's str.strip() removes: values are trimmed exactly as the pandas version trimmed them.
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
DAYS_IN_MONTH = pa.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int64())
# Amounts render with two decimals through decimal128(38, 2) below this size; larger (or infinite) ones as floats.
DECIMAL_TEXT_LIMIT = 1e30

UTF8_CHECK_CHUNK_BYTES = 8 * 1024 * 1024


class InvalidCsv(ValueError):
    """The input is not a readable export: the whole file goes to failure, not row by row."""


@dataclass(frozen=True)
class CleanTables:
    """Clean rows (CLEAN_COLUMNS, typed) and rejected rows (raw strings plus the reason), as Arrow tables."""

    clean: pa.Table
    quarantine: pa.Table


@dataclass(frozen=True)
class CleaningResult:
    """The same as CleanTables, as pandas frames (Arrow-backed strings, order_date date32[pyarrow])."""

    clean: pd.DataFrame
    quarantine: pd.DataFrame


def read_raw_table(data: bytes | bytearray | memoryview | BinaryIO) -> pa.Table:
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
    table = table.rename_columns([name.strip() for name in header])
    return table.select(list(RAW_COLUMNS))


def read_raw_csv(data: bytes | bytearray | memoryview | BinaryIO) -> pd.DataFrame:
    """read_raw_table as a pandas frame of strings."""
    return read_raw_table(data).to_pandas()


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
        in_arrow_memory(content),
        # One thread: a chunk is small, and in NiFi the other core is busy with the next step.
        read_options=pa_csv.ReadOptions(use_threads=False),
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


def clean_table(raw: pa.Table) -> CleanTables:
    """Split raw rows (as read_raw_table returns them) into clean typed rows and quarantine."""
    missing = [name for name in RAW_TO_CLEAN if name not in raw.column_names]
    if missing:
        raise ValueError(f"raw table lacks columns {missing}")
    original = {clean: _combined_text(raw.column(name)) for name, clean in RAW_TO_CLEAN.items()}
    trimmed = {name: _blank_to_null(pc.utf8_trim(values, characters=WHITESPACE)) for name, values in original.items()}

    order_date = parse_order_date(trimmed["order_date"])
    amount = parse_amount(trimmed["total_purchase_value"])
    checks = _quarantine_checks(trimmed, order_date, amount)
    rejected = _any(rows for rows, _, _ in checks)

    clean = {
        **trimmed,
        "phone_number": standardise_phone(trimmed["phone_number"]),
        "delivery_status": normalise_delivery_status(trimmed["delivery_status"]),
        "vip_status": normalise_vip_status(trimmed["vip_status"]),
        "order_date": order_date,
        "total_purchase_value": amount,
    }
    kept = pc.invert(rejected)
    clean_rows = pa.table({name: clean[name] for name in CLEAN_COLUMNS}).filter(kept)
    quarantine_rows = pa.table({name: original[name].fill_null("") for name in CLEAN_COLUMNS}).filter(rejected)
    reasons = _reasons([(pc.filter(rows, rejected), reason, quoted if quoted is None else pc.filter(quoted, rejected))
                        for rows, reason, quoted in checks])
    return CleanTables(clean=clean_rows, quarantine=quarantine_rows.append_column(QUARANTINE_REASON_COLUMN, reasons))


def clean_frame(raw: pd.DataFrame) -> CleaningResult:
    """clean_table for a pandas frame of raw strings (as read_raw_csv returns, or built in code)."""
    missing = [name for name in RAW_TO_CLEAN if name not in raw.columns]
    if missing:
        raise ValueError(f"raw frame lacks columns {missing}")
    table = pa.Table.from_pandas(raw[list(RAW_TO_CLEAN)].astype("str"), preserve_index=False)
    result = clean_table(table)
    return CleaningResult(
        clean=result.clean.to_pandas(types_mapper={pa.date32(): pd.ArrowDtype(pa.date32())}.get),
        quarantine=result.quarantine.to_pandas(),
    )


def _combined_text(values: pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks().cast(pa.string())


def _blank_to_null(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _fullmatch(values: pa.Array, pattern: str) -> pa.Array:
    """Whether each whole value matches `pattern`; null for null."""
    return pc.match_substring_regex(values, f"^(?:{pattern})$")


def parse_order_date(values: pa.Array) -> pa.Array:
    """Day-first `dd-mm-yyyy` or `dd/mm/yyyy` to date32; anything else (31/31/2020, 29-02-2023) becomes null.

    Works on the distinct values (an export holds a few thousand dates at most) and takes
    the result back to every row.
    """
    encoded = values.dictionary_encode()
    distinct = encoded.dictionary
    well_formed = pc.fill_null(_fullmatch(distinct, ORDER_DATE_PATTERN), False)
    parts = pc.extract_regex(pc.if_else(well_formed, pc.replace_substring(distinct, "/", "-"), "0-0-0"),
                             r"^(?P<day>[0-9]+)-(?P<month>[0-9]+)-(?P<year>[0-9]+)$")
    day, month, year = (pc.struct_field(parts, name).cast(pa.int64()) for name in ("day", "month", "year"))
    leap = pc.and_(pc.equal(pc.bit_wise_and(year, 3), 0),
                   pc.or_(pc.not_equal(pc.remainder(year, 100), 0), pc.equal(pc.remainder(year, 400), 0)))
    month_index = pc.if_else(pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12)), month, 0)
    month_days = pc.add(pc.take(DAYS_IN_MONTH, month_index), pc.and_(leap, pc.equal(month, 2)).cast(pa.int64()))
    real = pc.and_(pc.and_(well_formed, pc.greater_equal(year, 1)),
                   pc.and_(pc.greater_equal(day, 1), pc.less_equal(day, month_days)))
    dates = pc.if_else(real, _days_since_epoch(year, month, day), None).cast(pa.int32()).cast(pa.date32())
    return dates.take(encoded.indices)


def _days_since_epoch(year: pa.Array, month: pa.Array, day: pa.Array) -> pa.Array:
    """Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), years >= 1."""
    march_based_year = pc.subtract(year, pc.less_equal(month, 2).cast(pa.int64()))
    era = pc.divide(march_based_year, 400)  # non-negative for years >= 1: integer division is floor division
    year_of_era = pc.subtract(march_based_year, pc.multiply(era, 400))
    shifted_month = pc.if_else(pc.greater(month, 2), pc.subtract(month, 3), pc.add(month, 9))
    day_of_year = pc.add(pc.divide(pc.add(pc.multiply(shifted_month, 153), 2), 5), pc.subtract(day, 1))
    day_of_era = pc.add(pc.add(pc.multiply(year_of_era, 365), pc.divide(year_of_era, 4)),
                        pc.subtract(day_of_year, pc.divide(year_of_era, 100)))
    return pc.subtract(pc.add(pc.multiply(era, 146_097), day_of_era), 719_468)


def parse_amount(values: pa.Array) -> pa.Array:
    """`1234.5`, `$1,234.50`, `-12` to float64 rounded to cents; anything else becomes null.

    Commas count only as thousands separators (`1,234`), so `12,50` is not read as 12.5.
    """
    well_formed = pc.fill_null(_fullmatch(values, AMOUNT_PATTERN), False)
    digits = pc.replace_substring_regex(pc.if_else(well_formed, values, "0"), r"[$, ]", "")
    return pc.if_else(well_formed, pc.round(digits.cast(pa.float64()), 2), None)


def standardise_phone(values: pa.Array) -> pa.Array:
    """North American numbers to `+1 (XXX) XXX-XXXX`; other values are kept as written.

    Accepted: only digits, spaces, `()+.-`, and 10 digits or 11 starting with 1; a value
    starting with `+` must be `+1`, so foreign numbers are not mistaken for American ones.
    """
    digits = pc.replace_substring_regex(values, r"[^0-9]", "")
    length = pc.utf8_length(digits)
    with_country_code = pc.and_(pc.equal(length, 11), pc.starts_with(digits, "1"))
    without_country_code = pc.and_(pc.equal(length, 10), pc.invert(pc.starts_with(values, "+")))
    parseable = pc.and_(_fullmatch(values, PHONE_CHARACTERS_PATTERN), pc.or_(with_country_code, without_country_code))
    national = pc.utf8_slice_codeunits(digits, -10)
    formatted = pc.binary_join_element_wise(
        "+1 (", pc.utf8_slice_codeunits(national, 0, 3), ") ", pc.utf8_slice_codeunits(national, 3, 6), "-",
        pc.utf8_slice_codeunits(national, 6), "")
    return pc.if_else(pc.fill_null(parseable, False), formatted, values)


def normalise_delivery_status(values: pa.Array) -> pa.Array:
    """Messy spellings to the statuses DELIVERY_STATUS_ALIASES names; unknown statuses are kept as written."""
    key = pc.utf8_trim(pc.replace_substring_regex(pc.utf8_lower(values), r"[ \t_-]+", " "), characters=WHITESPACE)
    return _map_known(key, DELIVERY_STATUS_ALIASES, values)


def normalise_vip_status(values: pa.Array) -> pa.Array:
    """Yes/No spellings (`y`, `TRUE`, `0`...) to Yes or No; unknown values are kept."""
    return _map_known(pc.utf8_lower(values), VIP_STATUS_ALIASES, values)


def _map_known(keys: pa.Array, aliases: dict[str, str], otherwise: pa.Array) -> pa.Array:
    """aliases[key] where the key is one of them, else the value from `otherwise`."""
    position = pc.index_in(keys, value_set=pa.array(list(aliases), pa.string()))
    mapped = pa.array(list(aliases.values()), pa.string()).take(position)
    return pc.coalesce(mapped, otherwise)


def _quarantine_checks(trimmed: dict[str, pa.Array], order_date: pa.Array, amount: pa.Array):
    """(rows, reason, the value the reason quotes or None) for every reason a row cannot be cleaned."""
    amount_text, date_text = trimmed["total_purchase_value"], trimmed["order_date"]
    return [
        (pc.is_null(trimmed["order_id"]), "missing order_id", None),
        (pc.is_null(trimmed["customer_id"]), "missing customer_id", None),
        (pc.is_null(amount_text), "missing total_purchase_value", None),
        (pc.and_(pc.is_null(amount), pc.is_valid(amount_text)), "unparseable total_purchase_value", amount_text),
        (pc.is_null(date_text), "missing order_date", None),
        (pc.and_(pc.is_null(order_date), pc.is_valid(date_text)), "unparseable order_date", date_text),
    ]


def _any(masks) -> pa.Array:
    masks = iter(masks)
    result = next(masks)
    for mask in masks:
        result = pc.or_(result, mask)
    return result


def _reasons(checks) -> pa.Array:
    """Each row's reasons joined with '; ' in the order of the checks; an unparseable value is quoted."""
    reasons = pa.nulls(len(checks[0][0]), pa.string()).fill_null("")
    for rows, reason, quoted in checks:
        text = pa.scalar(reason) if quoted is None else pc.binary_join_element_wise(
            f"{reason} '", pc.fill_null(quoted, ""), "'", "")
        joined = pc.if_else(pc.equal(reasons, ""), text, pc.binary_join_element_wise(reasons, text, "; "))
        reasons = pc.if_else(rows, joined, reasons)
    return reasons


def routable_table(result: CleanTables) -> pa.Table:
    """Clean and quarantined rows in one all-text table; `quarantine_reason` is '' for clean rows.

    A NiFi Python processor hands on one FlowFile per input, so cleaning passes both kinds
    of rows on together and the flow's SQL (processors/ecommerce_pipeline/segment_sql) routes them: the segments take
    the rows without a reason and cast dates and amounts back to their types, quarantine
    takes the rest as they came in. The command-line ingestion runs the same SQL.
    """
    clean = result.clean
    as_text = {
        "order_date": clean.column("order_date").cast(pa.string()),
        "total_purchase_value": _amount_text(clean.column("total_purchase_value")),
    }
    columns = {name: as_text.get(name, clean.column(name)) for name in CLEAN_COLUMNS}
    columns[QUARANTINE_REASON_COLUMN] = pa.nulls(clean.num_rows, pa.string()).fill_null("")
    text = pa.table(columns, schema=routable_schema())
    return pa.concat_tables([text, result.quarantine.cast(routable_schema())])


def routable_schema() -> pa.Schema:
    """The columns cleaning hands on, every one text: CLEAN_COLUMNS and quarantine_reason."""
    return pa.schema([pa.field(name, pa.string()) for name in (*CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN)])


def _amount_text(amounts: pa.ChunkedArray) -> pa.ChunkedArray:
    """Amounts as text with two decimals (`1234.50`); beyond DECIMAL_TEXT_LIMIT as the float's shortest text."""
    values = amounts.combine_chunks() if isinstance(amounts, pa.ChunkedArray) else amounts
    small = pc.fill_null(pc.less(pc.abs(values), DECIMAL_TEXT_LIMIT), True)
    cents = pc.if_else(small, values, 0.0).cast(pa.decimal128(38, 2), safe=False).cast(pa.string())
    return pc.if_else(small, cents, values.cast(pa.string()))


def table_to_csv_bytes(table: pa.Table) -> bytes:
    """A table as UTF-8 CSV with a header line (names unquoted): ISO dates, '' for null, every text value quoted."""
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(quoting_header="none"))
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
    result = clean_table(read_raw_table(content))
    reasons = Counter(result.quarantine.column(QUARANTINE_REASON_COLUMN).to_pylist())
    return CleanedChunk(
        content=table_to_csv_bytes(routable_table(result)),
        rows_in=result.clean.num_rows + result.quarantine.num_rows,
        rows_clean=result.clean.num_rows,
        rows_quarantined=result.quarantine.num_rows,
        quarantine_reasons="; ".join(f"{count} x {reason}" for reason, count in reasons.most_common()),
    )
