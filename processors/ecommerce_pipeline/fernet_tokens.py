"""Fernet tokens for whole columns: the keys, the batch token builder and column decryption.

Tokens are standard Fernet (any `cryptography.fernet.Fernet` with the key decrypts
them), but they are built here in batches: calling `Fernet.encrypt` once per value
spends most of its time on per-call setup, which made encryption the slowest step of
the flow. Decryption is left to `cryptography` so no hand-written code ever decides
whether a token is valid.
"""

import base64
import binascii
import hmac
import os
import re
import time
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .exit_codes import ConfigurationMissing

BLOCK = 16
VERSION = 0x80
HEADER_BYTES = 1 + 8 + BLOCK  # version | timestamp | IV
MAC_BYTES = 32
_URLSAFE_BASE64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class InvalidKeyList(ConfigurationMissing, ValueError):
    """A Fernet key list is malformed; the message names the position, never the key (an unusable setting)."""


class DecryptionFailed(ValueError):
    """A column holds a token none of the keys can open (wrong keys or altered data)."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _decode_key(text: str, where: str) -> bytes:
    """The 32 key bytes, with strict checks: `Fernet()` silently skips stray characters."""
    if not text:
        raise InvalidKeyList(f"{where} is empty (a stray comma?)")
    if not _URLSAFE_BASE64.fullmatch(text):
        raise InvalidKeyList(
            f"{where} is not url-safe base64 (only A-Z a-z 0-9 - _ and '=' padding): "
            "a Fernet key is 32 url-safe base64-encoded bytes"
        )
    try:
        raw = base64.urlsafe_b64decode(text)
    except binascii.Error:
        raise InvalidKeyList(
            f"{where} has a wrong base64 length or padding: a Fernet key is 32 url-safe base64-encoded bytes"
        ) from None
    if len(raw) != 32:
        raise InvalidKeyList(
            f"{where} decodes to {len(raw)} bytes, not 32: a Fernet key is 32 url-safe base64-encoded bytes"
        )
    return raw


class BatchEncryptor:
    """Builds Fernet tokens for many values in one pass with one key.

    Values are grouped by padded length so each group is a rectangle: CBC runs as one
    AES-ECB call per block position for the whole group (CBC chains within a message,
    never across messages), and base64 runs once per group. Only the HMAC is per value.
    """

    def __init__(self, key: str | bytes, *, where: str = "key"):
        text = key.decode("latin-1") if isinstance(key, bytes) else key
        raw = _decode_key(text.strip(), where)
        self._signing_key = raw[:16]
        self._aes = algorithms.AES(raw[16:])

    def __repr__(self) -> str:
        return "BatchEncryptor(<key hidden>)"

    def encrypt(self, values, *, ivs: bytes | None = None, timestamp: int | None = None) -> pa.StringArray:
        """Tokens for `values`, nulls kept as nulls.

        `ivs` (16 bytes per non-null value, in order) and `timestamp` exist to reproduce
        known tokens in tests; by default the IVs come from one `os.urandom` call.
        """
        text = _as_text_array(values)
        present = text.drop_null()
        count = len(present)
        if ivs is None:
            ivs = os.urandom(BLOCK * count)
        elif len(ivs) != BLOCK * count:
            raise ValueError(f"need {BLOCK * count} IV bytes (16 per non-null value), got {len(ivs)}")
        stamp = int(time.time()) if timestamp is None else timestamp
        header_start = bytes([VERSION]) + stamp.to_bytes(8, "big")

        lengths = np.diff(_offsets(present))
        blocks = lengths // BLOCK + 1
        order = np.argsort(blocks, kind="stable")
        by_length = present.take(pa.array(order))
        offsets = _offsets(by_length)
        data = _data(by_length)
        iv_rows = np.frombuffer(ivs, np.uint8).reshape(count, BLOCK)[order]

        sorted_blocks = blocks[order]
        bounds = np.searchsorted(sorted_blocks, np.unique(sorted_blocks)).tolist() + [count]
        pieces = [
            self._encrypt_group(
                data[offsets[start] : offsets[end]],
                np.diff(offsets[start : end + 1]),
                int(sorted_blocks[start]),
                iv_rows[start:end],
                header_start,
            )
            for start, end in zip(bounds, bounds[1:])
        ]
        tokens = pa.concat_arrays(pieces) if pieces else pa.array([], pa.large_string())

        position_in_tokens = np.empty(count, np.int64)
        position_in_tokens[order] = np.arange(count)
        take_index = np.zeros(len(text), np.int64)
        valid = _validity(text)
        take_index[valid] = position_in_tokens
        return tokens.take(pa.array(take_index, mask=~valid)).cast(pa.string())

    def _encrypt_group(self, data, lengths, block_count, ivs, header_start) -> pa.LargeStringArray:
        """Tokens for values that all pad to `block_count` blocks, as one rectangle."""
        rows = len(lengths)
        padded_len = block_count * BLOCK
        plain = np.empty((rows, padded_len), np.uint8)
        plain[:] = (padded_len - lengths).astype(np.uint8)[:, None]  # PKCS7: pad byte = pad length
        plain[np.arange(padded_len) < lengths[:, None]] = data

        token_len = HEADER_BYTES + padded_len + MAC_BYTES
        width = -(-token_len // 3) * 3  # whole base64 quanta per row: one b64 call for all
        tokens = np.zeros((rows, width), np.uint8)
        tokens[:, :9] = np.frombuffer(header_start, np.uint8)
        tokens[:, 9:HEADER_BYTES] = ivs

        ecb = Cipher(self._aes, modes.ECB()).encryptor()
        previous = ivs
        for block in range(block_count):
            columns = slice(block * BLOCK, (block + 1) * BLOCK)
            chained = np.bitwise_xor(plain[:, columns], previous)
            previous = np.frombuffer(ecb.update(chained.tobytes()), np.uint8).reshape(rows, BLOCK)
            tokens[:, HEADER_BYTES + columns.start : HEADER_BYTES + columns.stop] = previous

        signed_len = HEADER_BYTES + padded_len
        flat = memoryview(tokens.reshape(-1))
        key = self._signing_key
        macs = b"".join(
            [hmac.digest(key, flat[at : at + signed_len], "sha256") for at in range(0, rows * width, width)]
        )
        tokens[:, signed_len:token_len] = np.frombuffer(macs, np.uint8).reshape(rows, MAC_BYTES)

        text_width = width // 3 * 4
        encoded = np.frombuffer(base64.urlsafe_b64encode(tokens.tobytes()), np.uint8).reshape(rows, text_width).copy()
        missing = width - token_len  # zero bytes added: their characters become '=' padding
        if missing:
            encoded[:, text_width - missing :] = ord("=")
        return pa.LargeStringArray.from_buffers(
            rows,
            pa.py_buffer(np.arange(0, rows * text_width + 1, text_width, dtype=np.int64)),
            pa.py_buffer(encoded),
        )


class KeyRing:
    """Fernet keys, newest first: the first encrypts, every one decrypts (key rotation)."""

    def __init__(self, keys: Sequence[str], source: str = "Fernet keys"):
        if not keys:
            raise InvalidKeyList(f"{source}: no key given")
        wheres = [f"{source}: key {position} of {len(keys)}" for position in range(1, len(keys) + 1)]
        fernets = [Fernet(base64.urlsafe_b64encode(_decode_key(key, where))) for key, where in zip(keys, wheres)]
        self.size = len(keys)
        self.primary = BatchEncryptor(keys[0], where=wheres[0])
        self.fernet = MultiFernet(fernets)

    def __repr__(self) -> str:
        return f"KeyRing({self.size} keys, hidden)"


def parse_keys(text: str, source: str = "Fernet keys") -> KeyRing:
    """Keys from a comma-separated list, newest first; `source` names it in errors (e.g. FERNET_KEYS)."""
    return KeyRing([part.strip() for part in text.split(",")], source)


def key_list_problem(text: str | None, source: str = "Fernet keys") -> str | None:
    """Why `text` is not a usable key list, or None: one check for every processor's validation."""
    try:
        parse_keys(text or "", source)
    except InvalidKeyList as error:
        return str(error)
    return None


def as_keyring(keys: KeyRing | str) -> KeyRing:
    """A KeyRing as it is, a comma-separated key list parsed."""
    return keys if isinstance(keys, KeyRing) else parse_keys(keys)


def decrypt_column(
    values, keys: KeyRing | str, *, column: str = "value", ttl_seconds: int | None = None, now: int | None = None
) -> list[str | None]:
    """Plaintexts of tokens made with any of `keys`; nulls stay None.

    `ttl_seconds` also rejects tokens older than that (or from the future beyond the
    allowed clock skew) as of `now` (default: the clock); the lake keeps data for
    years, so the tools leave it off.
    """
    fernet = as_keyring(keys).fernet
    if ttl_seconds is None:
        open_token = fernet.decrypt
    else:
        at = int(time.time()) if now is None else now

        def open_token(token):
            return fernet.decrypt_at_time(token, ttl_seconds, at)

    plaintexts = []
    for row, token in enumerate(_as_text_array(values).to_pylist()):
        if token is None:
            plaintexts.append(None)
            continue
        try:
            plaintexts.append(open_token(token).decode("utf-8"))
        except InvalidToken:
            raise DecryptionFailed(
                f"column {column!r}, row {row}: not a token made with any of the given keys "
                "(wrong keys, an unencrypted column, or altered data)"
            ) from None
    return plaintexts


def _as_text_array(values) -> pa.LargeStringArray:
    """One contiguous large_string array from a list, pandas Series or pyarrow (chunked) array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    elif not isinstance(values, pa.Array):
        values = pa.array(values, from_pandas=True)
    return values.cast(pa.large_string())


def _offsets(array: pa.LargeStringArray) -> np.ndarray:
    return np.frombuffer(array.buffers()[1], np.int64, len(array) + 1, array.offset * 8)


def _data(array: pa.LargeStringArray) -> np.ndarray:
    buffer = array.buffers()[2]
    return np.frombuffer(buffer, np.uint8) if buffer is not None else np.empty(0, np.uint8)


def _validity(array: pa.Array) -> np.ndarray:
    return array.is_valid().to_numpy(zero_copy_only=False)
