"""The segments' column types, from DuckDB's typed columns and from the text NiFi's QueryRecord hands on."""

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ecommerce_pipeline.cleaning import clean_table, read_raw_table, routable_table
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.segment_types import apply_segment_types
from ecommerce_pipeline.segments import split_segments

NOV_15 = dt.date(2023, 11, 15)
NOV_15_MILLIS = "1700006400000"  # 2023-11-15T00:00:00Z


def typed(order_dates, amounts, segment="order_info"):
    table = apply_segment_types(pa.table({"order_date": order_dates, "total_purchase_value": amounts}), segment)
    assert table.schema.field("order_date").type == pa.date32()
    assert table.schema.field("total_purchase_value").type == pa.float64()
    return table.column("order_date").to_pylist(), table.column("total_purchase_value").to_pylist()


def test_iso_text_and_decimal_text():
    assert typed(["2023-11-15", " 2024-02-29 "], ["123.45", "1.2E3"]) == (
        [NOV_15, dt.date(2024, 2, 29)], [123.45, 1200.0])


def test_epoch_milliseconds_text_is_read_as_a_utc_day():
    assert typed([NOV_15_MILLIS, "0", "-86400000"], ["1", "2", "3"])[0] == [NOV_15, dt.date(1970, 1, 1),
                                                                         dt.date(1969, 12, 31)]


def test_typed_columns_pass_through():
    dates = pa.array([NOV_15, None], pa.date32())
    assert typed(dates, pa.array([10.5, None]))[0] == [NOV_15, None]
    assert typed(pa.array([NOV_15], pa.date64()), pa.array([7], pa.int64())) == ([NOV_15], [7.0])


def test_empty_text_and_nulls_become_null():
    assert typed(["", "  ", None], ["", None, "4"]) == ([None, None, None], [None, None, 4.0])


@pytest.mark.parametrize(
    "bad",
    ["15/11/2023", "2023-02-30", "2023-1-5", "1700006400001", "yesterday"],
    ids=["day-first", "no-such-day", "unpadded", "not-midnight", "word"],
)
def test_an_unreadable_date_names_the_column_and_the_value(bad):
    with pytest.raises(ValueError, match=rf"column 'order_date': 1 value\(s\) cannot be read as a date.*'{bad}'"):
        typed(["2023-11-15", bad], ["1", "2"])


@pytest.mark.parametrize("bad", ["12,50", "USD 5", "nan", "1.2.3"])
def test_an_unreadable_amount_names_the_column_and_the_value(bad):
    with pytest.raises(ValueError, match=rf"column 'total_purchase_value': .* a number, e\.g\. '{bad}'"):
        typed(["2023-11-15"], [bad])


def test_a_column_of_another_type_is_an_error():
    with pytest.raises(ValueError, match="column 'order_date' has type bool"):
        typed(pa.array([True]), ["1"])


def test_quarantine_stays_raw_text_with_its_empty_values():
    raw = pa.table({"order_date": ["32/13/2023"], "total_purchase_value": ["abc"], "first_name": [""],
                    "quarantine_reason": ["bad"]})
    assert apply_segment_types(raw, "quarantine").equals(raw)


def test_empty_text_in_other_segment_columns_becomes_null_and_the_rest_is_untouched():
    customers = pa.table({"customer_id": ["c1", "c2"], "first_name": ["", "Ann"]})
    typed_customers = apply_segment_types(customers, "customer_info")
    assert typed_customers.column("first_name").to_pylist() == [None, "Ann"]
    assert typed_customers.column("customer_id").to_pylist() == ["c1", "c2"]


def as_query_record_text(table: pa.Table) -> pa.Table:
    """What NiFi's QueryRecord hands on for a DuckDB segment table: dates as epoch ms, amounts as text,
    nulls as empty text (its CSV writer has no null)."""
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if field.type == pa.date32():
            column = pc.multiply(column.cast(pa.int32()).cast(pa.int64()), 86_400_000).cast(pa.string())
        elif field.type != pa.string():
            column = column.cast(pa.string())
        table = table.set_column(index, pa.field(field.name, pa.string()), column.fill_null(""))
    return table


def test_nifi_s_text_gets_the_types_duckdb_gives(tmp_path):
    path = tmp_path / "orders.csv"
    write_sample_csv(path, rows=300, seed=4, bad_row_fraction=0.05)
    routable = routable_table(clean_table(read_raw_table(path.read_bytes())))
    for segment, table in split_segments(routable).items():
        from_duckdb = apply_segment_types(table, segment)
        assert from_duckdb.equals(table), segment
        assert apply_segment_types(as_query_record_text(table), segment).equals(from_duckdb), segment
