"""Approach d2 of the benchmarks: the numpy batch encryptor the pipeline used before the compiled Fernet.

Kept only as a historical approach to measure against, like `original_demo/`: the pipeline
encrypts with `ecommerce_pipeline.fernet_tokens` (compiled, approach d3). CBC runs as one AES-ECB
call per block position over values grouped by padded length, then one Python `hmac.digest` per
value, which is what held it near 320k tokens/s.
"""

import base64
import hmac
import os
import time

import numpy as np
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
VERSION = 0x80
HEADER_BYTES = 1 + 8 + BLOCK  # version | timestamp | IV
MAC_BYTES = 32


class BatchEncryptor:
    """Builds Fernet tokens for many values in one pass with one key.

    Values are grouped by padded length so each group is a rectangle: CBC runs as one
    AES-ECB call per block position for the whole group (CBC chains within a message,
    never across messages), and base64 runs once per group. Only the HMAC is per value.
    """

    def __init__(self, key: str):
        raw = base64.urlsafe_b64decode(key)
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
