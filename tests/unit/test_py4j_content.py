"""The faster content decoding gives py4j's answers for a Java byte[] unchanged.

py4j here is the release NiFi 2.3.0 bundles (0.10.9.9, pinned in the test extras).
"""

import os

import pytest
from py4j import protocol

from ecommerce_processors import py4j_content

PAYLOADS = [b"", b"\x00", bytes(range(256)), "Müller,+49 170 1234567\r\n".encode(), os.urandom(100_003)]


@pytest.fixture
def restore_py4j(monkeypatch):
    monkeypatch.setattr(protocol, "decode_bytearray", protocol.decode_bytearray)
    return protocol.decode_bytearray


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: f"{len(p)} bytes")
def test_same_bytes_as_py4j_s_own_decoder(payload, restore_py4j):
    encoded = protocol.encode_bytearray(payload)
    bundled = restore_py4j(encoded)
    assert py4j_content.decode_bytearray(encoded) == bundled == payload
    assert type(py4j_content.decode_bytearray(encoded)) is type(bundled)


def test_a_byte_array_answer_from_the_jvm_goes_through_the_replacement(restore_py4j):
    answer = protocol.SUCCESS + protocol.BYTES_TYPE + protocol.encode_bytearray(b"order 42")
    py4j_content.decode_content_in_one_call()
    assert protocol.decode_bytearray is py4j_content.decode_bytearray
    assert protocol.get_return_value(answer, gateway_client=None) == b"order 42"
