"""The routing SQL (processors/ecommerce_pipeline/segment_sql) run by DuckDB: columns, types, routing and the gift rule."""

import datetime as dt

import pyarrow as pa
import pytest

from ecommerce_pipeline.cleaning import CleanTables, clean_table, read_raw_table, routable_table
from ecommerce_pipeline.columns import CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN
from ecommerce_pipeline.segments import segment_queries, split_segments
from ecommerce_pipeline.sample_data import write_sample_csv

SEGMENTS = ("customer_info", "order_info", "payment_and_delivery_info")


def routes_of(result: CleanTables) -> dict[str, pa.Table]:
    return split_segments(routable_table(result))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "orders.csv"
    write_sample_csv(path, rows=2_000, seed=3, bad_row_fraction=0.05)
    return clean_table(read_raw_table(path.read_bytes()))


def test_routes_are_the_three_segments_and_quarantine():
    assert set(segment_queries()) == {*SEGMENTS, "quarantine"}


def test_every_clean_row_is_in_every_segment_and_every_rejected_row_in_quarantine(sample):
    routes = routes_of(sample)
    assert sample.quarantine.num_rows > 0
    for name in SEGMENTS:
        assert sorted(routes[name].column("customer_id").to_pylist()) == sorted(
            sample.clean.column("customer_id").to_pylist()), name
    assert sorted(routes["quarantine"].column("order_id").to_pylist(), key=str) == sorted(
        sample.quarantine.column("order_id").to_pylist(), key=str
    )


def test_every_clean_column_lands_in_some_segment(sample):
    routes = routes_of(sample)
    assert set(CLEAN_COLUMNS) <= {name for n in SEGMENTS for name in routes[n].schema.names}


def test_segments_get_typed_dates_and_amounts_back(sample):
    orders = routes_of(sample)["order_info"]
    assert orders.schema.field("order_date").type == pa.date32()
    assert orders.schema.field("total_purchase_value").type == pa.float64()
    by_order = sample.clean.to_pandas().set_index("order_id")
    first = orders.slice(0, 1).to_pylist()[0]
    assert first["total_purchase_value"] == by_order.loc[first["order_id"], "total_purchase_value"]
    assert first["order_date"] == by_order.loc[first["order_id"], "order_date"]
    assert isinstance(first["order_date"], dt.date)


def test_quarantine_keeps_the_raw_text_and_the_reason(sample):
    quarantine = routes_of(sample)["quarantine"]
    assert quarantine.schema.names == [*CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN]
    assert sorted(quarantine.to_pylist(), key=repr) == sorted(sample.quarantine.to_pylist(), key=repr)


@pytest.mark.parametrize(
    ("amount", "gift"),
    [
        ("0.00", "Wireless Mouse"),
        ("499.99", "Wireless Mouse"),
        ("500.00", "Bluetooth Headphones"),
        ("1200.00", "Bluetooth Headphones"),
        ("1200.01", "Keyboard + Wireless Mouse"),
    ],
)
def test_gift_won_rule_at_its_boundaries(amount, gift):
    row = {name: "x" for name in CLEAN_COLUMNS} | {"total_purchase_value": amount, "order_date": "2024-01-31"}
    table = pa.Table.from_pylist([row | {QUARANTINE_REASON_COLUMN: ""}])
    assert split_segments(table)["payment_and_delivery_info"].column("gift_won").to_pylist() == [gift]
