"""The compiled Fernet against the Fernet spec's acceptance vectors, beside `cryptography`'s reference."""

import base64
import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from cryptography.fernet import Fernet, InvalidToken

from ecommerce_pipeline.fernet_tokens import DecryptionFailed, decrypt_bytes, decrypt_column, encrypt_column

SPEC_DIR = Path(__file__).resolve().parents[1] / "data" / "fernet-spec"  # copied from fernet/spec, see its README


def vectors(name: str) -> list[dict]:
    path = SPEC_DIR / name
    loaded = json.loads(path.read_text())
    assert loaded, f"{path} holds no vectors"
    return loaded


def unix_time(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def test_encryption_reproduces_every_generate_token_byte_for_byte():
    for vector in vectors("generate.json"):
        tokens = encrypt_column([vector["src"]], vector["secret"], ivs=bytes(vector["iv"]), timestamp=unix_time(vector["now"]))
        assert tokens.to_pylist() == [vector["token"]]


def test_the_token_is_the_same_inside_a_batch_sliced_and_chunked():
    """Each value gets its own IV, in order, wherever it sits in the array."""
    for vector in vectors("generate.json"):
        values = ["", vector["src"], "a value that pads to several AES blocks, unlike the spec's", None, vector["src"], "x" * 16]
        ivs = bytes(range(16, 32)) + bytes(vector["iv"]) + bytes(range(32, 48)) + bytes(vector["iv"]) + bytes(16)
        stamp = unix_time(vector["now"])
        for make in (lambda v: v, lambda v: pa.array(["skip"] + v)[1:], lambda v: pa.chunked_array([v[:2], v[2:]])):
            tokens = encrypt_column(make(values), vector["secret"], ivs=ivs, timestamp=stamp).to_pylist()
            assert tokens[1] == tokens[4] == vector["token"]
            assert tokens[3] is None
            for position, iv in ((0, bytes(range(16, 32))), (2, bytes(range(32, 48))), (5, bytes(16))):
                assert base64.urlsafe_b64decode(tokens[position])[9:25] == iv
                assert Fernet(vector["secret"]).decrypt(tokens[position]).decode() == values[position]


def test_verify_tokens_decrypt_to_their_source():
    for vector in vectors("verify.json"):
        at_time = decrypt_column([vector["token"]], vector["secret"], ttl_seconds=vector["ttl_sec"], now=unix_time(vector["now"]))
        assert at_time.to_pylist() == [vector["src"]]
        assert decrypt_column([vector["token"]], vector["secret"]).to_pylist() == [vector["src"]]
        assert decrypt_bytes(vector["token"].encode(), vector["secret"]) == vector["src"].encode()


@pytest.mark.parametrize("vector", vectors("invalid.json"), ids=lambda vector: vector["desc"])
def test_every_invalid_token_is_rejected_as_the_reference_rejects_it(vector):
    now = unix_time(vector["now"])
    with pytest.raises(InvalidToken):
        Fernet(vector["secret"]).decrypt_at_time(vector["token"], vector["ttl_sec"], now)
    with pytest.raises(DecryptionFailed, match="row 0"):
        decrypt_column([vector["token"]], vector["secret"], ttl_seconds=vector["ttl_sec"], now=now)
    with pytest.raises(DecryptionFailed):
        decrypt_bytes(vector["token"].encode(), vector["secret"], ttl_seconds=vector["ttl_sec"], now=now)


def test_invalid_tokens_that_fail_regardless_of_time_fail_without_a_ttl_too():
    checked = 0
    for vector in vectors("invalid.json"):
        try:
            Fernet(vector["secret"]).decrypt(vector["token"])
        except InvalidToken:
            checked += 1
            with pytest.raises(DecryptionFailed):
                decrypt_column([vector["token"]], vector["secret"])
        else:  # only the time checks fail it: without a ttl both sides open it
            assert decrypt_column([vector["token"]], vector["secret"]).to_pylist()[0] is not None
    assert checked, "no invalid token failed regardless of time"
