"""The lake's column types, whichever engine ran the segment SQL.

DuckDB (the command-line path) hands the SQL's `CAST(... AS DATE)` and `AS DOUBLE` on
as real DATE and DOUBLE columns. NiFi's QueryRecord keeps the text schema its CSVReader
read, so the same casts arrive as text: a date as epoch milliseconds ("1700006400000"),
an amount as "123.45". Both paths give their segment tables the types here before
writing Parquet, so a segment's files have one schema however they were made.
"""

import pyarrow as pa
import pyarrow.compute as pc

from .segment_routes import QUARANTINE
SEGMENT_COLUMN_TYPES = {"order_date": pa.date32(), "total_purchase_value": pa.float64()}

MILLIS_PER_DAY = 86_400_000
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_EPOCH_MILLIS = r"^-?\d{1,15}$"
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def apply_segment_types(table: pa.Table, segment: str) -> pa.Table:
    """The table with `order_date` as date32 and `total_purchase_value` as float64, where present.

    Empty text becomes null in every column: cleaning turns blanks into nulls, and a CSV hop
    (NiFi's QueryRecord) turns nulls back into empty text. The quarantine segment stays as it
    is: rejected rows keep the raw text that failed. Raises ValueError naming the column and a
    value it cannot read.
    """
    if segment == QUARANTINE:
        return table
    for index, name in enumerate(table.column_names):
        column = table.column(index)
        if name in _CONVERTERS:
            table = table.set_column(index, pa.field(name, SEGMENT_COLUMN_TYPES[name]), _CONVERTERS[name](column, name))
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            table = table.set_column(index, table.field(index), _where(pc.not_equal(column, ""), column))
    return table


def _to_date32(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """Dates from date columns, ISO `YYYY-MM-DD` text or epoch-milliseconds text of a UTC midnight."""
    if pa.types.is_date(column.type) or pa.types.is_null(column.type):
        return column.cast(pa.date32())
    text = _text_or_none(column, name, "a date")
    iso_text = _where(pc.match_substring_regex(text, _ISO_DATE), text)
    parsed = pc.strptime(iso_text, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2023-02-30 over to 2023-03-02: only a date that prints back as its text is one.
    real = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), iso_text)
    from_iso = _where(real, parsed).cast(pa.date32())

    millis = _where(pc.match_substring_regex(text, _EPOCH_MILLIS), text).cast(pa.int64())
    midnight = pc.equal(pc.modulo(millis, MILLIS_PER_DAY), 0)
    from_millis = _where(midnight, pc.divide(millis, MILLIS_PER_DAY)).cast(pa.int32()).cast(pa.date32())

    dates = pc.coalesce(from_iso, from_millis)
    _raise_for_unread(text, dates, name, "a date (YYYY-MM-DD, or the epoch milliseconds of a UTC midnight)")
    return dates


def _to_float64(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """Numbers from numeric columns or decimal text ("123.45", "1.2E3")."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_decimal(column.type):
        return column.cast(pa.float64())
    if pa.types.is_null(column.type):
        return column.cast(pa.float64())
    text = _text_or_none(column, name, "a number")
    numbers = _where(pc.match_substring_regex(text, _NUMBER), text).cast(pa.float64())
    _raise_for_unread(text, numbers, name, "a number")
    return numbers


def _text_or_none(column: pa.ChunkedArray, name: str, expected: str) -> pa.ChunkedArray:
    """Trimmed text with empty values as null; a column of another type is an error."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise ValueError(f"column {name!r} has type {column.type}, expected {expected} or text")
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    return _where(pc.not_equal(text, ""), text)


def _where(mask, values):
    """`values` where `mask` is true, null elsewhere."""
    return pc.if_else(mask, values, pa.scalar(None, values.type))


def _raise_for_unread(text, converted, name: str, expected: str) -> None:
    unread = pc.and_(pc.is_valid(text), pc.is_null(converted))
    if pc.any(unread).as_py():
        example = pc.filter(text, unread)[0].as_py()
        count = pc.sum(unread).as_py()
        raise ValueError(f"column {name!r}: {count} value(s) cannot be read as {expected}, e.g. {example!r}")


_CONVERTERS = {"order_date": _to_date32, "total_purchase_value": _to_float64}
