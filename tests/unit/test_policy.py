"""The encryption policy: the decisions it pins, its fit with the segments, and its checks."""

import pyarrow as pa
import pytest

from ecommerce_pipeline.columns import CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN
from ecommerce_pipeline.policy import PolicyError, load_policy
from ecommerce_pipeline.segments import split_segments

DIRECT_IDENTIFIERS = (
    "first_name",
    "last_name",
    "email_address",
    "phone_number",
    "shipping_address",
    "delivery_address",
    "payment_info",
)
ALWAYS_CLEAR = {
    "customer_id",
    "order_id",
    "order_date",
    "total_purchase_value",
    "product_id",
    "delivery_status",
    "vip_status",
    "discount_code",
    "quarantine_reason",
}


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("customer_info", ("first_name", "last_name", "email_address", "phone_number", "shipping_address")),
        ("order_info", ()),
        ("payment_and_delivery_info", ("payment_info", "delivery_address", "gift_won")),
        ("quarantine", DIRECT_IDENTIFIERS),
    ],
)
def test_encrypted_columns_per_segment(segment, expected):
    assert load_policy().encrypted_columns(segment) == expected


def test_every_direct_identifier_is_encrypted_and_join_keys_stay_clear():
    for name, segment in load_policy().segments.items():
        columns = set(segment.encrypted) | set(segment.clear)
        assert set(DIRECT_IDENTIFIERS) & columns <= set(segment.encrypted), name
        assert not ALWAYS_CLEAR & set(segment.encrypted), name


def test_policy_classifies_exactly_the_columns_each_route_query_returns():
    routable = pa.Table.from_pylist(
        [{name: "x" for name in CLEAN_COLUMNS} | {"total_purchase_value": "10.00", "order_date": "2024-01-31",
                                                  QUARANTINE_REASON_COLUMN: ""}]
    )
    policy = load_policy()
    assert set(policy.segments) == set(split_segments(routable))
    for name, table in split_segments(routable).items():
        segment = policy.segment(name)
        assert sorted(segment.encrypted + segment.clear) == sorted(table.column_names), name


def test_quarantine_covers_every_clean_column_and_the_reason():
    segment = load_policy().segment("quarantine")
    assert sorted(segment.encrypted + segment.clear) == sorted(CLEAN_COLUMNS + (QUARANTINE_REASON_COLUMN,))


def test_unknown_segment_error_lists_the_known_ones():
    with pytest.raises(PolicyError, match="unknown segment 'orders'.*customer_info, order_info"):
        load_policy().encrypted_columns("orders")


def test_an_override_path_replaces_the_default(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('[orders]\nencrypted = ["card"]\nclear = ["id"]\n')
    assert load_policy(path).encrypted_columns("orders") == ("card",)
    assert load_policy(path).segment("orders").clear == ("id",)
    with pytest.raises(PolicyError, match="unknown segment 'customer_info'"):
        load_policy(path).encrypted_columns("customer_info")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[a\nencrypted = [", "is not valid TOML"),
        ("", "defines no segment"),
        ("a = 1\n", "expected a \\[a\\] table"),
        ('[a]\nencrypted = ["x"]\n', "missing keys \\['clear'\\]"),
        ('[a]\nencrypted = ["x"]\nclear = []\ncomment = "y"\n', "unexpected keys \\['comment'\\]"),
        ('[a]\nencrypted = "x"\nclear = []\n', "`encrypted` must be a list of column names"),
        ('[a]\nencrypted = [""]\nclear = []\n', "`encrypted` must be a list of column names"),
        ('[a]\nencrypted = []\nclear = ["x", "y", "x"]\n', "`clear` lists x more than once"),
        ('[a]\nencrypted = ["x"]\nclear = ["x"]\n', "x cannot be both encrypted and clear"),
    ],
)
def test_malformed_policies_are_rejected_clearly(tmp_path, text, message):
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_a_missing_policy_file_is_named(tmp_path):
    with pytest.raises(PolicyError, match="nowhere.toml does not exist"):
        load_policy(tmp_path / "nowhere.toml")
