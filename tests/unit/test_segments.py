"""The segment SQL (flows/segments) run by DuckDB: columns, row counts and the gift rule."""

import pyarrow as pa
import pytest

from ecommerce_pipeline.columns import CLEAN_COLUMNS
from ecommerce_pipeline.segments import segment_queries, split_segments


def cleaned(amounts):
    n = len(amounts)
    columns = {name: pa.array([f"{name}-{i}" for i in range(n)]) for name in CLEAN_COLUMNS}
    columns["total_purchase_value"] = pa.array(amounts, pa.float64())
    columns["order_date"] = pa.array([None] * n, pa.date32())
    return pa.table(columns)


def test_segments_are_the_three_of_the_output_contract():
    assert set(segment_queries()) == {"customer_info", "order_info", "payment_and_delivery_info"}


def test_every_clean_column_lands_in_some_segment():
    segments = split_segments(cleaned([10.0]))
    assert set(CLEAN_COLUMNS) <= {name for table in segments.values() for name in table.schema.names}


def test_each_segment_keeps_every_row_and_its_keys():
    segments = split_segments(cleaned([1.0, 2.0, 3.0]))
    for name, table in segments.items():
        assert table.num_rows == 3, name
        assert table.column("customer_id").to_pylist() == ["customer_id-0", "customer_id-1", "customer_id-2"]


@pytest.mark.parametrize(
    ("amount", "gift"),
    [
        (0.0, "Wireless Mouse"),
        (499.99, "Wireless Mouse"),
        (500.0, "Bluetooth Headphones"),
        (1200.0, "Bluetooth Headphones"),
        (1200.01, "Keyboard + Wireless Mouse"),
    ],
)
def test_gift_won_rule_at_its_boundaries(amount, gift):
    table = split_segments(cleaned([amount]))["payment_and_delivery_info"]
    assert table.column("gift_won").to_pylist() == [gift]
