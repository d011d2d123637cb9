"""Fernet tokens for whole columns and whole contents: the keys, batch encryption and batch decryption.

Tokens are standard Fernet: `cryptography.fernet.Fernet` with the key opens them, and this module
opens `cryptography`'s. They are built and opened by `_fernet`, a small C module over OpenSSL's
libcrypto beside this file (`_fernet.c`), a whole Arrow array per call without the GIL: one Python
call per value spent most of its time on per-call setup, which made encryption the slowest step
of the flow. This module is that module's only caller: it hands over an Arrow array's buffers
(validity, offsets, data, with the array's offset) and wraps the buffers it gets back.
"""

import base64
import binascii
import os
import re
import time
from collections.abc import Callable, Sequence

import pyarrow as pa

from .exit_codes import ConfigurationMissing

try:
    from . import _fernet
except ImportError as missing:  # never a slower fallback: the flow would lose its throughput unnoticed
    raise ImportError(
        f"the compiled Fernet, ecommerce_pipeline._fernet, does not load ({missing}). It is built from "
        "processors/ecommerce_pipeline/_fernet.c by `python3 -m pip install -e .` in the checkout, which "
        "needs gcc, OpenSSL 3's headers (libssl-dev) and Python's headers and names what is missing"
    ) from missing

KEY_BYTES = 32
IV_BYTES = 16
MAX_CLOCK_SKEW_SECONDS = 60
_URLSAFE_BASE64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_WIDE_TYPES = (pa.large_string(), pa.large_binary())
_TEXT_TYPES = (pa.string(), pa.binary(), *_WIDE_TYPES)
_UNOPENED = "not a token made with any of the given keys (wrong keys, an unencrypted column, or altered data)"


class InvalidKeyList(ConfigurationMissing, ValueError):
    """A Fernet key list is malformed; the message names the position, never the key (an unusable setting)."""


class DecryptionFailed(ValueError):
    """A token none of the keys can open (wrong keys, altered data, or too old for the ttl)."""


def generate_key() -> str:
    """A new Fernet key: 32 random bytes from the OS, url-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _decode_key(text: str, where: str) -> bytes:
    """The 32 key bytes, with strict checks: base64's decoder silently skips stray characters."""
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
    if len(raw) != KEY_BYTES:
        raise InvalidKeyList(
            f"{where} decodes to {len(raw)} bytes, not 32: a Fernet key is 32 url-safe base64-encoded bytes"
        )
    return raw


class KeyRing:
    """Fernet keys, newest first: the first encrypts, every one decrypts (key rotation)."""

    def __init__(self, keys: Sequence[str], source: str = "Fernet keys"):
        if not keys:
            raise InvalidKeyList(f"{source}: no key given")
        wheres = [f"{source}: key {position} of {len(keys)}" for position in range(1, len(keys) + 1)]
        self.size = len(keys)
        self._keys = b"".join(_decode_key(key, where) for key, where in zip(keys, wheres))

    def __repr__(self) -> str:
        return f"KeyRing({self.size} keys, hidden)"

    @property
    def _newest(self) -> bytes:
        return self._keys[:KEY_BYTES]


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


def encrypt_column(values, keys: KeyRing | str, *, ivs: bytes | None = None, timestamp: int | None = None):
    """Tokens for `values` under the newest key, nulls kept as nulls.

    `values` is a list, a pandas Series or a pyarrow (chunked) array; values that are not text
    are encrypted as their text. The result is a pyarrow string array (large_string when the
    tokens pass 2 GiB), chunked like a chunked input. `ivs` (16 bytes per non-null value, in
    order) and `timestamp` exist to reproduce known tokens in tests; by default the IVs come
    from the OS (getrandom) and the timestamp from the clock.
    """
    key = as_keyring(keys)._newest
    stamp = int(time.time()) if timestamp is None else timestamp
    chunks = _text_chunks(values)
    needed = IV_BYTES * sum(len(chunk) - chunk.null_count for chunk in chunks)
    if ivs is not None and len(ivs) != needed:
        raise ValueError(f"need {needed} IV bytes (16 per non-null value), got {len(ivs)}")
    tokens = []
    for chunk in chunks:
        chunk_ivs, count = None, len(chunk) - chunk.null_count
        if ivs is not None:
            chunk_ivs, ivs = ivs[: IV_BYTES * count], ivs[IV_BYTES * count :]
        validity, offsets, data, width = _fernet.encrypt(key, stamp, *_arrow_buffers(chunk), chunk_ivs)
        tokens.append(_string_array(len(chunk), width, validity, offsets, data, chunk.null_count))
    return _like_input(values, tokens)


def decrypt_column(values, keys: KeyRing | str, *, column: str = "value", ttl_seconds: int | None = None,
                   now: int | None = None):
    """Plaintexts of tokens made with any of `keys`, as a pyarrow string array; nulls stay null.

    `values` takes what encrypt_column takes and the result is chunked like it. A token that
    does not open raises DecryptionFailed naming `column` and the row. `ttl_seconds` also
    rejects tokens older than that (or more than a minute in the future) as of `now` (default:
    the clock); the lake keeps data for years, so the tools leave it off.
    """
    ring, first_row, plaintexts = as_keyring(keys), 0, []
    for chunk in _text_chunks(values):

        def where(row: int, first_row: int = first_row) -> str:
            return f"column {column!r}, row {first_row + row}"

        validity, offsets, data = _decrypt(ring, ttl_seconds, now, _arrow_buffers(chunk), where)
        text = _string_array(len(chunk), 8 if chunk.type in _WIDE_TYPES else 4, validity, offsets, data,
                             chunk.null_count)
        try:
            text.validate(full=True)
        except pa.ArrowInvalid:
            row = next(row for row, value in enumerate(text.cast(pa.large_binary()).to_pylist())
                       if value is not None and not _is_utf8(value))
            raise DecryptionFailed(f"{where(row)}: the token opens, but not to UTF-8 text") from None
        plaintexts.append(text)
        first_row += len(chunk)
    return _like_input(values, plaintexts)


def encrypt_bytes(content: bytes, keys: KeyRing | str) -> bytes:
    """`content` as one Fernet token under the newest key (quarantined content of up to 16 MB)."""
    _, _, token, _ = _fernet.encrypt(as_keyring(keys)._newest, int(time.time()), *_one_value(content))
    return token


def decrypt_bytes(token: bytes, keys: KeyRing | str, *, ttl_seconds: int | None = None, now: int | None = None) -> bytes:
    """What encrypt_bytes (or `Fernet.encrypt`) made `token` from, with any of `keys`."""
    _, _, content = _decrypt(as_keyring(keys), ttl_seconds, now, _one_value(token), lambda row: "the token")
    return bytes(content)


def _decrypt(ring: KeyRing, ttl_seconds: int | None, now: int | None, buffers: tuple,
             where: Callable[[int], str]) -> tuple:
    """`_fernet.decrypt`'s (validity, offsets, data); a token that does not open raises DecryptionFailed."""
    if ttl_seconds is not None and ttl_seconds < 0:
        raise ValueError(f"ttl_seconds must not be negative, not {ttl_seconds}")
    at = int(time.time()) if now is None else now
    try:
        return _fernet.decrypt(ring._keys, -1 if ttl_seconds is None else ttl_seconds, at, *buffers)
    except _fernet.InvalidToken as error:
        row, reason = error.args
        raise DecryptionFailed(f"{where(row)}: {_reason(reason, ttl_seconds)}") from None


def _reason(code: str, ttl_seconds: int | None) -> str:
    if code == "expired":
        return f"the token is older than the {ttl_seconds} s allowed"
    if code == "future":
        return f"the token's timestamp is more than {MAX_CLOCK_SKEW_SECONDS} s ahead of the clock"
    return _UNOPENED


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text_chunks(values) -> list[pa.Array]:
    """The values as Arrow arrays of a string or binary type: a chunked array's chunks, else one array."""
    if isinstance(values, pa.ChunkedArray):
        chunks = values.chunks
    elif isinstance(values, pa.Array):
        chunks = [values]
    else:
        chunks = [pa.array(values, from_pandas=True)]
    return [chunk if chunk.type in _TEXT_TYPES else chunk.cast(pa.string()) for chunk in chunks]


def _arrow_buffers(array: pa.Array) -> tuple:
    """What `_fernet` takes for an array: length, offset, validity, offsets, offset width, data."""
    validity, offsets, data = array.buffers()
    if offsets is None:  # an empty array may come without buffers
        offsets = pa.py_buffer(bytes(8 * (array.offset + 1)))
    return len(array), array.offset, validity, offsets, 8 if array.type in _WIDE_TYPES else 4, data


def _one_value(content: bytes) -> tuple:
    """`_arrow_buffers` of an array holding `content` alone, without copying it."""
    return 1, 0, None, (0).to_bytes(8, "little") + len(content).to_bytes(8, "little"), 8, content


def _string_array(length: int, width: int, validity, offsets, data, null_count: int) -> pa.Array:
    return pa.Array.from_buffers(pa.large_string() if width == 8 else pa.string(), length,
                                 [None if validity is None else pa.py_buffer(validity), pa.py_buffer(offsets),
                                  pa.py_buffer(data)], null_count=null_count)


def _like_input(values, arrays: list[pa.Array]):
    """One array, or a chunked array for a chunked input (in one type: large_string if any chunk needs it)."""
    if not isinstance(values, pa.ChunkedArray):
        return arrays[0]
    kind = pa.large_string() if any(array.type == pa.large_string() for array in arrays) else pa.string()
    return pa.chunked_array([array.cast(kind) for array in arrays], kind)
