"""The policy's columns of a table encrypted, decrypted and re-keyed; everything else untouched."""

import pandas as pd
import pyarrow as pa
import pytest
from cryptography.fernet import Fernet

from ecommerce_pipeline.fernet_tokens import DecryptionFailed, generate_key
from ecommerce_pipeline.policy import PolicyError, load_policy
from ecommerce_pipeline.table_encryption import MissingPolicyColumns, decrypt_table, encrypt_table, rotate_table

NAMES = ["Ada", "", None, "Zoë Ångström-Łukasz, 東京都 🙂", "12 Main St\nApt 4\r\nSpringfield"]


@pytest.fixture
def key():
    return generate_key()


def plain_decrypt(key, tokens):
    return [None if token is None else Fernet(key).decrypt(token).decode("utf-8") for token in tokens]


def customer_info(rows: int = 4) -> pa.Table:
    return pa.table(
        {
            "customer_id": [f"C{i}" for i in range(rows)],
            "first_name": (NAMES * rows)[:rows],
            "last_name": [f"Lovelace {i}" for i in range(rows)],
            "email_address": [None if i % 3 == 0 else f"ada{i}@example.com" for i in range(rows)],
            "phone_number": [f"+1 555 010{i}" for i in range(rows)],
            "shipping_address": [f"{i} Main St,\nSpringfield" for i in range(rows)],
            "vip_status": [i % 2 == 0 for i in range(rows)],
        }
    )


def test_encrypt_table_changes_exactly_the_policy_columns(key):
    table = customer_info(12)
    encrypted = encrypt_table(table, "customer_info", key)
    policy_columns = load_policy().encrypted_columns("customer_info")
    assert encrypted.column_names == table.column_names
    for name in table.column_names:
        if name in policy_columns:
            assert encrypted.column(name).type == pa.string()
            assert plain_decrypt(key, encrypted.column(name).to_pylist()) == table.column(name).to_pylist()
            assert encrypted.column(name).to_pylist() != table.column(name).to_pylist()
        else:
            assert encrypted.column(name).equals(table.column(name)), name
    assert decrypt_table(encrypted, "customer_info", key).equals(table)


def test_pandas_frames_keep_their_index_and_other_columns(key):
    frame = customer_info(6).to_pandas()
    frame.index = [10, 20, 30, 40, 50, 60]
    encrypted = encrypt_table(frame, "customer_info", key)
    assert list(encrypted.index) == list(frame.index)
    pd.testing.assert_series_equal(encrypted["customer_id"], frame["customer_id"])
    pd.testing.assert_series_equal(encrypted["vip_status"], frame["vip_status"])
    assert plain_decrypt(key, [None if pd.isna(t) else t for t in encrypted["email_address"]]) == [
        None if pd.isna(v) else v for v in frame["email_address"]
    ]
    pd.testing.assert_frame_equal(decrypt_table(encrypted, "customer_info", key), frame)


def test_a_policy_column_missing_from_the_table_is_named(key):
    table = customer_info().drop_columns(["phone_number"])
    with pytest.raises(MissingPolicyColumns, match="phone_number"):
        encrypt_table(table, "customer_info", key)


def test_unknown_segment_is_an_error(key):
    with pytest.raises(PolicyError, match="unknown segment 'customers'"):
        encrypt_table(customer_info(), "customers", key)


def test_decrypt_table_with_a_wrong_key_names_the_column(key):
    encrypted = encrypt_table(customer_info(), "customer_info", key)
    with pytest.raises(DecryptionFailed, match="column 'first_name'"):
        decrypt_table(encrypted, "customer_info", generate_key())


def test_rotate_table_moves_data_to_the_new_primary_key():
    old, new = generate_key(), generate_key()
    table = customer_info(9)
    rotated = rotate_table(encrypt_table(table, "customer_info", old), "customer_info", old, f"{new},{old}")
    assert decrypt_table(rotated, "customer_info", new).equals(table)
    with pytest.raises(DecryptionFailed):
        decrypt_table(rotated, "customer_info", old)
