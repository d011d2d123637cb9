"""An Avro object container file of an all-text Arrow table, built column-wise (no loop over rows).

Only for the record-format benchmark: each value of a nullable string field is the union
branch (0 null, 2 string) followed, for a string, by its zigzag-varint byte length and its
bytes; a record is its fields' encodings one after another; the container holds the schema
and one block of all records (Avro 1.11 specification, "Object Container Files").
"""

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAGIC = b"Obj\x01"
NULL_BRANCH = b"\x00"
STRING_BRANCH = b"\x02"


def zigzag_varint(value: int) -> bytes:
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _string(text: bytes) -> bytes:
    return zigzag_varint(len(text)) + text


def _length_prefixes(lengths: np.ndarray) -> pa.BinaryArray:
    """For each length: the string branch byte and the zigzag varint of the length."""
    zigzag = lengths.astype(np.uint64) * 2
    width = 1 + 5  # branch byte + up to 5 varint bytes (lengths below 2**34)
    count = 1 + sum((zigzag >= (1 << (7 * k))).astype(np.int64) for k in range(1, 5))
    matrix = np.zeros((len(lengths), width), np.uint8)
    matrix[:, 0] = STRING_BRANCH[0]
    for k in range(5):
        more = (count > k + 1).astype(np.uint8) << 7
        matrix[:, 1 + k] = ((zigzag >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8) | more
    used = np.arange(width) < (1 + count)[:, None]
    offsets = np.zeros(len(lengths) + 1, np.int32)
    np.cumsum(1 + count, out=offsets[1:])
    return pa.BinaryArray.from_buffers(pa.binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(matrix[used])])


def _encoded_column(values: pa.Array) -> pa.Array:
    text = values.cast(pa.binary())
    lengths = pc.fill_null(pc.binary_length(text), 0).to_numpy(zero_copy_only=False)
    encoded = pc.binary_join_element_wise(_length_prefixes(lengths), pc.fill_null(text, b""), b"")
    return pc.if_else(pc.is_null(text), pa.scalar(NULL_BRANCH, pa.binary()), encoded)


def avro_container_bytes(table: pa.Table, name: str = "routable") -> bytes:
    """The table (string columns, nulls allowed) as one Avro container file with one block."""
    schema = {"type": "record", "name": name,
              "fields": [{"name": field.name, "type": ["null", "string"]} for field in table.schema]}
    columns = [_encoded_column(table.column(index).combine_chunks()) for index in range(table.num_columns)]
    records = pc.binary_join_element_wise(*columns, b"")
    offsets = np.frombuffer(records.buffers()[1], np.int32, len(records) + 1, records.offset)
    data = records.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]]
    sync = os.urandom(16)
    metadata = {b"avro.schema": json.dumps(schema).encode(), b"avro.codec": b"null"}
    header = MAGIC + zigzag_varint(len(metadata)) + b"".join(_string(k) + _string(v) for k, v in metadata.items())
    header += zigzag_varint(0) + sync
    return header + zigzag_varint(table.num_rows) + zigzag_varint(len(data)) + data + sync
