"""The batch token builder and the decrypt path against the Fernet spec's acceptance vectors."""

import base64
import json
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from ecommerce_pipeline.fernet_tokens import BatchEncryptor, DecryptionFailed, decrypt_column

SPEC_DIR = Path(__file__).resolve().parents[1] / "data" / "fernet-spec"  # copied from fernet/spec, see its README


def vectors(name: str) -> list[dict]:
    path = SPEC_DIR / name
    loaded = json.loads(path.read_text())
    assert loaded, f"{path} holds no vectors"
    return loaded


def unix_time(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def test_builder_reproduces_every_generate_token_byte_for_byte():
    for vector in vectors("generate.json"):
        tokens = BatchEncryptor(vector["secret"]).encrypt(
            [vector["src"]], ivs=bytes(vector["iv"]), timestamp=unix_time(vector["now"])
        )
        assert tokens.to_pylist() == [vector["token"]]


def test_builder_reproduces_the_token_inside_a_mixed_batch():
    """Grouping by length and restoring order must not move a token or its IV."""
    for vector in vectors("generate.json"):
        others = ["", "a value that pads to several AES blocks, unlike the spec's", None, "x" * 16]
        values = [others[0], vector["src"], others[1], others[2], vector["src"], others[3]]
        ivs = bytes(range(16, 32)) + bytes(vector["iv"]) + bytes(range(32, 48)) + bytes(vector["iv"]) + bytes(16)
        tokens = BatchEncryptor(vector["secret"]).encrypt(values, ivs=ivs, timestamp=unix_time(vector["now"]))
        assert tokens[1].as_py() == tokens[4].as_py() == vector["token"]
        assert tokens[3].as_py() is None
        for position, iv in ((0, bytes(range(16, 32))), (2, bytes(range(32, 48))), (5, bytes(16))):
            raw = base64.urlsafe_b64decode(tokens[position].as_py())
            assert raw[9:25] == iv
            assert Fernet(vector["secret"]).decrypt(tokens[position].as_py()).decode() == values[position]


def test_verify_tokens_decrypt_to_their_source():
    for vector in vectors("verify.json"):
        at_time = decrypt_column(
            [vector["token"]], vector["secret"], ttl_seconds=vector["ttl_sec"], now=unix_time(vector["now"])
        )
        assert at_time == [vector["src"]]
        assert decrypt_column([vector["token"]], vector["secret"]) == [vector["src"]]


def test_every_invalid_token_is_rejected_by_the_decrypt_path():
    for vector in vectors("invalid.json"):
        with pytest.raises(DecryptionFailed):
            decrypt_column(
                [vector["token"]], vector["secret"], ttl_seconds=vector["ttl_sec"], now=unix_time(vector["now"])
            )


def test_invalid_tokens_that_fail_regardless_of_time_fail_without_a_ttl_too():
    checked = 0
    for vector in vectors("invalid.json"):
        try:
            Fernet(vector["secret"]).decrypt(vector["token"])
        except InvalidToken:
            checked += 1
            with pytest.raises(DecryptionFailed):
                decrypt_column([vector["token"]], vector["secret"])
    assert checked, "no invalid token failed regardless of time"
