"""Fernet tokens for columns: exact round trips, plain-Fernet compatibility, key lists, errors."""

import base64
import random
import time

import pandas as pd
import pyarrow as pa
import pytest
from cryptography.fernet import Fernet, InvalidToken

from ecommerce_pipeline.fernet_tokens import (
    BatchEncryptor,
    DecryptionFailed,
    InvalidKeyList,
    decrypt_column,
    generate_key,
    key_list_problem,
    parse_keys,
)

TRICKY = [
    "Ada",
    "",
    None,
    "Zoë Ångström-Łukasz, 東京都 🙂",
    "12 Main St\nApt 4\r\nSpringfield",
    'a, b, "quoted", \'single\'',
    "x" * 15,
    "x" * 16,
    "x" * 17,
    "\x00nul and \t tab",
    "  padded  ",
    None,
]


@pytest.fixture
def key():
    return generate_key()


def plain_decrypt(key, tokens):
    return [None if token is None else Fernet(key).decrypt(token).decode("utf-8") for token in tokens]


def test_round_trip_is_exact_for_tricky_values(key):
    tokens = BatchEncryptor(key).encrypt(TRICKY)
    assert decrypt_column(tokens, key) == TRICKY


def test_tokens_open_with_plain_cryptography_fernet(key):
    tokens = BatchEncryptor(key).encrypt(TRICKY).to_pylist()
    assert [token is None for token in tokens] == [value is None for value in TRICKY]
    assert plain_decrypt(key, tokens) == TRICKY


@pytest.mark.parametrize(
    "make_input",
    [
        pytest.param(lambda values: values, id="list"),
        pytest.param(lambda values: pa.array(values), id="arrow"),
        pytest.param(lambda values: pa.array(["drop", "these"] + values)[2:], id="sliced-arrow"),
        pytest.param(lambda values: pa.chunked_array([values[:5], values[5:]], pa.string()), id="chunked"),
        pytest.param(lambda values: pa.array(values, pa.large_string()), id="large-string"),
        pytest.param(lambda values: pd.Series(values, dtype="str"), id="pandas-str"),
        pytest.param(lambda values: pd.Series(values, dtype=object), id="pandas-object"),
    ],
)
def test_every_column_kind_round_trips(key, make_input):
    assert plain_decrypt(key, BatchEncryptor(key).encrypt(make_input(TRICKY)).to_pylist()) == TRICKY


def test_many_lengths_keep_their_order(key):
    """Values are grouped by padded length inside the encryptor; output order must not change."""
    rng = random.Random(7)
    values = [
        None if rng.random() < 0.05 else "".join(rng.choice("abcé日 ,\n") for _ in range(rng.randint(0, 300)))
        for _ in range(3_000)
    ]
    assert plain_decrypt(key, BatchEncryptor(key).encrypt(values).to_pylist()) == values


def test_each_token_gets_its_own_iv_and_the_current_time(key):
    before = int(time.time())
    tokens = BatchEncryptor(key).encrypt(["same"] * 50).to_pylist()
    assert len(set(tokens)) == 50
    assert len({base64.urlsafe_b64decode(token)[9:25] for token in tokens}) == 50
    assert all(before <= Fernet(key).extract_timestamp(token) <= int(time.time()) for token in tokens)


def test_empty_and_all_null_columns(key):
    assert BatchEncryptor(key).encrypt([]).to_pylist() == []
    assert BatchEncryptor(key).encrypt([None, None]).to_pylist() == [None, None]
    assert decrypt_column([None], key) == [None]


def test_non_text_values_are_encrypted_as_their_text(key):
    assert decrypt_column(BatchEncryptor(key).encrypt(pa.array([7, None])), key) == ["7", None]


def test_explicit_ivs_must_cover_every_non_null_value(key):
    with pytest.raises(ValueError, match="need 32 IV bytes"):
        BatchEncryptor(key).encrypt(["a", None, "b"], ivs=bytes(16))


def test_keys_are_newest_first_and_all_decrypt():
    old, new = generate_key(), generate_key()
    written_with_old = BatchEncryptor(old).encrypt(TRICKY)
    ring = parse_keys(f"{new},{old}")
    assert decrypt_column(written_with_old, ring) == TRICKY
    written_now = ring.primary.encrypt(TRICKY).to_pylist()
    assert plain_decrypt(new, written_now) == TRICKY
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(written_now[0])


def test_whitespace_around_keys_is_tolerated():
    first, second = generate_key(), generate_key()
    ring = parse_keys(f"  {first} ,\n\t{second}\n")
    assert ring.size == 2
    assert plain_decrypt(first, ring.primary.encrypt(["x"]).to_pylist()) == ["x"]


GOOD = base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode()  # a well-formed key holding "_" and "-"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "key 1 of 1 is empty"),
        (f"{GOOD}, ,{GOOD}", "key 2 of 3 is empty"),
        (f"{GOOD},", "key 2 of 2 is empty"),
        ("n0t/a+key=with*stars", "key 1 of 1 is not url-safe base64"),
        (GOOD.replace("_", "/"), "key 1 of 1 is not url-safe base64"),
        (f"{GOOD},{GOOD[:-2]}", "key 2 of 2 has a wrong base64 length or padding"),
        (base64.urlsafe_b64encode(bytes(range(16))).decode(), "key 1 of 1 decodes to 16 bytes, not 32"),
        (base64.urlsafe_b64encode(bytes(range(33))).decode(), "key 1 of 1 decodes to 33 bytes, not 32"),
    ],
)
def test_malformed_keys_are_named_by_position_and_never_echoed(text, message):
    with pytest.raises(InvalidKeyList) as caught:
        parse_keys(text, "FERNET_KEYS")
    assert str(caught.value).startswith(f"FERNET_KEYS: {message}")
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        assert part not in str(caught.value)


def test_key_list_problem_is_the_processors_validation(key):
    assert key_list_problem(f"{key},{GOOD}", "Fernet Keys") is None
    assert key_list_problem(None, "Fernet Keys") == "Fernet Keys: key 1 of 1 is empty (a stray comma?)"
    problem = key_list_problem(f"{key},{GOOD[:-2]}", "Fernet Keys")
    assert problem.startswith("Fernet Keys: key 2 of 2 has a wrong base64 length") and GOOD[:-2] not in problem


def test_key_objects_do_not_show_their_keys(key):
    ring = parse_keys(key)
    assert key not in repr(ring) and key not in repr(ring.primary)


def test_wrong_key_raises_decryption_failed_naming_the_column(key):
    tokens = BatchEncryptor(key).encrypt(["secret"])
    with pytest.raises(DecryptionFailed, match="column 'email_address', row 0"):
        decrypt_column(tokens, generate_key(), column="email_address")


def test_plaintext_in_an_encrypted_column_is_not_passed_through(key):
    with pytest.raises(DecryptionFailed, match="column 'first_name'"):
        decrypt_column(["Ada"], key, column="first_name")
