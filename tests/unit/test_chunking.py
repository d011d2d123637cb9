"""Chunks of whole records: quoted multi-line fields are never cut, every record is kept once."""

import io

import pytest

from ecommerce_pipeline.chunking import iter_record_chunks

HEADER = b"id,address\n"


def records(n):
    return [f'{i},"line one, ""quoted""\nline two"\n'.encode() if i % 2 else f"{i},plain\n".encode() for i in range(n)]


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 7, 100])
def test_every_record_lands_in_exactly_one_chunk_whole(chunk_rows):
    body = records(10)
    chunks = list(iter_record_chunks(io.BytesIO(HEADER + b"".join(body)), chunk_rows))
    assert all(chunk.startswith(HEADER) for chunk in chunks)
    assert b"".join(chunk[len(HEADER):] for chunk in chunks) == b"".join(body)
    assert len(chunks) == -(-10 // chunk_rows)


def test_crlf_and_quoted_header_are_kept():
    header = b'"id","multi\r\nline"\r\n'
    chunks = list(iter_record_chunks(io.BytesIO(header + b"1,a\r\n2,b\r\n"), 1))
    assert chunks == [header + b"1,a\r\n", header + b"2,b\r\n"]


def test_header_only_yields_the_header_for_the_caller_to_reject():
    assert list(iter_record_chunks(io.BytesIO(HEADER), 5)) == [HEADER]


def test_unclosed_quote_keeps_the_rest_in_the_last_chunk():
    chunks = list(iter_record_chunks(io.BytesIO(HEADER + b'1,ok\n2,"never closed\n3,x\n'), 1))
    assert chunks == [HEADER + b"1,ok\n", HEADER + b'2,"never closed\n3,x\n']
