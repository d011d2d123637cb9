"""FlowFile content from NiFi in one C call instead of one Python object per byte.

NiFi 2.3.0 bundles py4j 0.10.9.9, whose `decode_bytearray` turns the base64 text the JVM
sends for a byte[] into `bytes([int for each byte])` (py4j issue #570; fixed upstream by
py4j pull request #593, in no py4j release yet). Every `flowfile.getContentsAsBytes()`
goes through it: about 16 MB/s, the largest single cost of the flow's Python processors
(benchmarks/py4j_transfer.py, docs/benchmarks.md). The replacement returns the same
`bytes` for the same text; py4j looks the function up by name on every call, so setting
it once in the processor's Python process is enough.
"""

from base64 import standard_b64decode

from py4j import protocol


def decode_bytearray(encoded: str) -> bytes:
    return standard_b64decode(encoded.encode("ascii"))


def decode_content_in_one_call() -> None:
    protocol.decode_bytearray = decode_bytearray
