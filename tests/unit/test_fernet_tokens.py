"""Fernet tokens for columns and contents, checked against `cryptography.fernet`, the reference.

Every token the compiled Fernet makes must open with `cryptography`'s Fernet and every token
`cryptography` makes must open with it; altered tokens, wrong keys and old tokens must not.
"""

import base64
import random
import time

import pandas as pd
import pyarrow as pa
import pytest
from cryptography.fernet import Fernet, InvalidToken

from ecommerce_pipeline.fernet_tokens import (
    DecryptionFailed,
    InvalidKeyList,
    decrypt_bytes,
    decrypt_column,
    encrypt_bytes,
    encrypt_column,
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
MEGABYTE = 2**20


@pytest.fixture
def key():
    return generate_key()


def plain_decrypt(key, tokens):
    return [None if token is None else Fernet(key).decrypt(token).decode("utf-8") for token in tokens]


def plain_encrypt(key, values):
    return [None if value is None else Fernet(key).encrypt(value.encode("utf-8")).decode("ascii") for value in values]


def raw_token(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token))


def as_token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(bytes(raw)).decode("ascii")


def test_round_trip_is_exact_for_tricky_values(key):
    tokens = encrypt_column(TRICKY, key)
    assert tokens.type == pa.string()
    plaintexts = decrypt_column(tokens, key)
    assert plaintexts.type == pa.string() and plaintexts.to_pylist() == TRICKY


def test_tokens_open_with_cryptography_and_cryptography_s_tokens_open_here(key):
    tokens = encrypt_column(TRICKY, key).to_pylist()
    assert [token is None for token in tokens] == [value is None for value in TRICKY]
    assert plain_decrypt(key, tokens) == TRICKY
    assert decrypt_column(plain_encrypt(key, TRICKY), key).to_pylist() == TRICKY


def test_many_lengths_and_characters_both_ways(key):
    rng = random.Random(7)
    values = [None if rng.random() < 0.05 else "".join(rng.choice("abcé日 ,\n🙂") for _ in range(rng.randint(0, 300)))
              for _ in range(3_000)]
    assert plain_decrypt(key, encrypt_column(values, key).to_pylist()) == values
    assert decrypt_column(plain_encrypt(key, values), key).to_pylist() == values


def test_one_megabyte_values_both_ways(key):
    values = ["é" * (MEGABYTE // 2), "x" * MEGABYTE + "y", None, "z" * (MEGABYTE - 1)]
    tokens = encrypt_column(values, key).to_pylist()
    assert plain_decrypt(key, tokens) == values
    assert decrypt_column(plain_encrypt(key, values), key).to_pylist() == values


@pytest.mark.parametrize(
    "make_input",
    [
        pytest.param(lambda values: values, id="list"),
        pytest.param(lambda values: pa.array(values), id="string"),
        pytest.param(lambda values: pa.array(values, pa.large_string()), id="large-string"),
        pytest.param(lambda values: pa.array(["drop", None, "these"] + values, pa.string())[3:], id="sliced-string"),
        pytest.param(lambda values: pa.array(["drop", None, "these"] + values, pa.large_string())[3:], id="sliced-large"),
        pytest.param(lambda values: pa.array(values + ["cut"])[:-1], id="sliced-at-the-end"),
        pytest.param(lambda values: pa.chunked_array([values[:5], values[5:]], pa.string()), id="chunked"),
        pytest.param(lambda values: pa.chunked_array([pa.array(["x"] + values[:5], pa.large_string())[1:],
                                                      pa.array(values[5:], pa.large_string())]), id="chunked-sliced-large"),
        pytest.param(lambda values: pd.Series(values, dtype="str"), id="pandas-str"),
        pytest.param(lambda values: pd.Series(values, dtype=object), id="pandas-object"),
    ],
)
def test_every_column_kind_encrypts_and_decrypts(key, make_input):
    tokens = encrypt_column(make_input(TRICKY), key)
    assert isinstance(tokens, pa.ChunkedArray) == isinstance(make_input(TRICKY), pa.ChunkedArray)
    assert plain_decrypt(key, tokens.to_pylist()) == TRICKY
    tokens = plain_encrypt(key, TRICKY)
    made = make_input(tokens)
    plaintexts = decrypt_column(made, key)
    assert plaintexts.to_pylist() == TRICKY
    if isinstance(made, (pa.Array, pa.ChunkedArray)) and made.type == pa.large_string():
        assert plaintexts.type == pa.large_string()


def test_binary_values_are_encrypted_as_their_bytes(key):
    tokens = encrypt_column(pa.array([b"\xff\x00raw", None], pa.binary()), key).to_pylist()
    assert Fernet(key).decrypt(tokens[0]) == b"\xff\x00raw" and tokens[1] is None


def test_each_token_gets_its_own_iv_and_the_current_time(key):
    before = int(time.time())
    tokens = encrypt_column(["same"] * 10_000, key).to_pylist()
    assert len(set(tokens)) == 10_000
    assert len({bytes(raw_token(token)[9:25]) for token in tokens}) == 10_000
    assert all(before <= Fernet(key).extract_timestamp(token) <= int(time.time()) for token in tokens[::100])
    assert set(encrypt_column(["same"] * 100, key).to_pylist()).isdisjoint(tokens)


def test_empty_and_all_null_columns(key):
    assert encrypt_column([], key).to_pylist() == []
    assert encrypt_column([None, None], key).to_pylist() == [None, None]
    assert encrypt_column(pa.chunked_array([], pa.string()), key).to_pylist() == []
    assert decrypt_column([None], key).to_pylist() == [None]
    assert decrypt_column(pa.array([], pa.large_string()), key).to_pylist() == []


def test_non_text_values_are_encrypted_as_their_text(key):
    assert decrypt_column(encrypt_column(pa.array([7, None]), key), key).to_pylist() == ["7", None]


def test_explicit_ivs_must_cover_every_non_null_value(key):
    with pytest.raises(ValueError, match="need 32 IV bytes"):
        encrypt_column(["a", None, "b"], key, ivs=bytes(16))


@pytest.mark.parametrize("part, position", [("version", 0), ("timestamp", 4), ("IV", 12), ("ciphertext", 30),
                                            ("last ciphertext block", -33), ("MAC", -1)])
def test_a_changed_byte_in_any_part_of_the_token_is_refused(key, part, position):
    token = Fernet(key).encrypt(b"a secret that spans two AES blocks").decode()
    raw = raw_token(token)
    raw[position] ^= 0x01
    altered = as_token(raw)
    with pytest.raises(InvalidToken):
        Fernet(key).decrypt(altered)
    with pytest.raises(DecryptionFailed, match=r"column 'email_address', row 1: not a token made with any of the given keys"):
        decrypt_column([token, altered, token], key, column="email_address")
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(altered.encode(), key)


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda token: token[:-4], id="a quantum short"),
        pytest.param(lambda token: token.rstrip("="), id="padding removed"),
        pytest.param(lambda token: token[:10] + "+" + token[11:], id="standard base64 alphabet"),
        pytest.param(lambda token: token[:10] + " " + token[11:], id="a space"),
        pytest.param(lambda token: token[:8] + "=" + token[9:], id="padding inside"),
        pytest.param(lambda token: token + "\n", id="a trailing newline"),
        pytest.param(lambda token: "", id="empty"),
        pytest.param(lambda token: as_token(raw_token(token)[:-16]), id="one block fewer, MAC kept"),
        pytest.param(lambda token: as_token(raw_token(token)[:56]), id="header and MAC only"),
    ],
)
def test_malformed_tokens_are_refused_strictly(key, alter):
    token = Fernet(key).encrypt(b"a secret of 20 bytes").decode()  # 89 bytes: one '=' of padding
    assert token.endswith("=") and not token.endswith("==")
    with pytest.raises(DecryptionFailed, match="row 0"):
        decrypt_column([alter(token)], key)


@pytest.mark.parametrize("plaintext, padding", [(b"x", 2), (b"a secret of 20 bytes", 1)])
def test_non_canonical_base64_is_refused(key, plaintext, padding):
    """Bits past the token's last byte must be zero: only one text encodes a token."""
    token = Fernet(key).encrypt(plaintext).decode()
    assert token.endswith("=" * padding) and not token.endswith("=" * (padding + 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = token[-padding - 1]
    altered = token[: -padding - 1] + alphabet[alphabet.index(last) | 1] + "=" * padding
    assert altered != token and base64.urlsafe_b64decode(altered) == base64.urlsafe_b64decode(token)
    assert decrypt_column([token], key).to_pylist() == [plaintext.decode()]
    with pytest.raises(DecryptionFailed):
        decrypt_column([altered], key)


def test_wrong_key_raises_decryption_failed_naming_the_column_and_row(key):
    tokens = encrypt_column(["secret", None, "other"], key)
    with pytest.raises(DecryptionFailed, match="column 'email_address', row 0") as caught:
        decrypt_column(tokens, generate_key(), column="email_address")
    assert key not in str(caught.value)


def test_rows_are_counted_across_chunks(key):
    good = encrypt_column(["a", "b", "c"], key).to_pylist()
    column = pa.chunked_array([good[:2], [good[2], "plain text"]])
    with pytest.raises(DecryptionFailed, match="column 'first_name', row 3"):
        decrypt_column(column, key, column="first_name")


def test_plaintext_in_an_encrypted_column_is_not_passed_through(key):
    with pytest.raises(DecryptionFailed, match="column 'first_name'"):
        decrypt_column(["Ada"], key, column="first_name")


def test_a_token_of_bytes_that_are_not_utf8_is_refused_as_text_but_opens_as_bytes(key):
    token = Fernet(key).encrypt(b"ok \xff\xfe")
    with pytest.raises(DecryptionFailed, match="row 1: the token opens, but not to UTF-8 text"):
        decrypt_column([Fernet(key).encrypt(b"fine").decode(), token.decode()], key)
    assert decrypt_bytes(token, key) == b"ok \xff\xfe"


def test_keys_are_newest_first_and_all_decrypt():
    old, new = generate_key(), generate_key()
    written_with_old = encrypt_column(TRICKY, old)
    ring = parse_keys(f"{new},{old}")
    assert decrypt_column(written_with_old, ring).to_pylist() == TRICKY
    assert decrypt_column(plain_encrypt(old, TRICKY), ring).to_pylist() == TRICKY
    written_now = encrypt_column(TRICKY, ring).to_pylist()
    assert plain_decrypt(new, written_now) == TRICKY
    with pytest.raises(InvalidToken):
        Fernet(old).decrypt(written_now[0])
    mixed = [written_now[0], written_with_old.to_pylist()[3]]
    assert decrypt_column(mixed, ring).to_pylist() == [TRICKY[0], TRICKY[3]]
    with pytest.raises(DecryptionFailed, match="row 0"):
        decrypt_column(mixed, old)


def test_ttl_refuses_old_and_far_future_tokens_as_the_reference_does(key):
    token = encrypt_column(["kept"], key, timestamp=1_000_000).to_pylist()[0]
    for now, opens in ((1_000_000, True), (1_000_100, True), (1_000_101, False), (999_940, True), (999_939, False)):
        reference = Fernet(key)
        try:
            reference.decrypt_at_time(token, 100, now)
            assert opens
        except InvalidToken:
            assert not opens
        if opens:
            assert decrypt_column([token], key, ttl_seconds=100, now=now).to_pylist() == ["kept"]
        else:
            with pytest.raises(DecryptionFailed, match="older than the 100 s|ahead of the clock"):
                decrypt_column([token], key, ttl_seconds=100, now=now)
    assert decrypt_column([token], key).to_pylist() == ["kept"]  # no ttl: any age
    with pytest.raises(ValueError, match="ttl_seconds"):
        decrypt_column([token], key, ttl_seconds=-1)


def test_whole_contents_of_16_megabytes_both_ways():
    newest, older = generate_key(), generate_key()
    content = random.Random(3).randbytes(16 * MEGABYTE)
    token = encrypt_bytes(content, f"{newest},{older}")
    assert isinstance(token, bytes)
    assert Fernet(newest).decrypt(token) == content
    with pytest.raises(InvalidToken):
        Fernet(older).decrypt(token)
    assert decrypt_bytes(Fernet(older).encrypt(content), f"{newest},{older}") == content
    assert decrypt_bytes(encrypt_bytes(b"", newest), newest) == b""
    with pytest.raises(DecryptionFailed, match="the token: not a token made with any of the given keys"):
        decrypt_bytes(token, older)


def test_whitespace_around_keys_is_tolerated():
    first, second = generate_key(), generate_key()
    ring = parse_keys(f"  {first} ,\n\t{second}\n")
    assert ring.size == 2
    assert plain_decrypt(first, encrypt_column(["x"], ring).to_pylist()) == ["x"]


def test_generated_keys_are_fernet_keys_and_differ():
    keys = {generate_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert Fernet(key).decrypt(encrypt_bytes(b"ok", key)) == b"ok"


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
    assert key not in repr(ring) and repr(ring) == "KeyRing(1 keys, hidden)"
