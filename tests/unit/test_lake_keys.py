"""The keys the lake tools read, and the names derived from them."""

import pytest

from ecommerce_pipeline.exit_codes import ConfigurationMissing
from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.lake.keys import RotationKeys, customer_digest, key_id, key_texts


def test_a_key_id_is_stable_differs_per_key_and_does_not_contain_the_key():
    key, other = generate_key(), generate_key()
    assert key_id(key) == key_id(key) != key_id(other)
    assert len(key_id(key)) == 16 and key_id(key) not in key


def test_a_customer_digest_needs_the_key():
    key, other = generate_key(), generate_key()
    assert customer_digest(key, "CUST-1") == customer_digest(key, "CUST-1")
    assert customer_digest(key, "CUST-1") != customer_digest(other, "CUST-1")
    assert customer_digest(key, "CUST-1") != customer_digest(key, "CUST-2")
    assert "CUST" not in customer_digest(key, "CUST-1")


def test_rotation_targets_the_newest_new_key_and_opens_with_every_key_of_both_lists_once_old_ones_first():
    new, old, older = generate_key(), generate_key(), generate_key()
    keys = RotationKeys.from_settings({"NEW_FERNET_KEYS": f"{new},{old}", "FERNET_KEYS": f"{old}, {older}"})
    assert keys.target_text == new
    assert keys.opening_texts == (old, older, new)
    assert new not in repr(keys) and old not in repr(keys)


@pytest.mark.parametrize("settings, message", [
    ({}, "NEW_FERNET_KEYS is not set"),
    ({"NEW_FERNET_KEYS": "not-a-key"}, "NEW_FERNET_KEYS: key 1 of 1"),
    ({"NEW_FERNET_KEYS": "replace-with-output-of-ecommerce-pipeline-keygen"}, "is not set"),
])
def test_missing_or_malformed_keys_are_a_configuration_error_naming_the_variable(settings, message):
    with pytest.raises(ConfigurationMissing, match=message) as raised:
        RotationKeys.from_settings(settings)
    assert raised.value.exit_code == 78


def test_optional_keys_may_be_absent_but_not_malformed():
    assert key_texts({}, "FERNET_KEYS", required=False) is None
    with pytest.raises(ConfigurationMissing):
        key_texts({"FERNET_KEYS": "abc"}, "FERNET_KEYS", required=False)
