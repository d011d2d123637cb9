"""What moving FlowFile content between NiFi and a Python processor costs, per megabyte, in the Python process.

    python -m benchmarks.py4j_transfer [--megabytes 10] [--nifi-home ~/.cache/ecommerce-pipeline/nifi-2.3.0-*]

NiFi 2.3.0's Python processors get content with `flowfile.getContentsAsBytes()`: the JVM sends
the byte[] base64-encoded over py4j's text protocol and the bundled py4j decodes it with
`bytes([b for b in standard_b64decode(...)])`, one Python object per byte (py4j issue #570,
fixed upstream by py4j pull request #593, not in the py4j NiFi 2.3.0 ships). Returning content
(FlowFileTransformResult contents) goes the other way through `encode_bytearray`, one C call.
This times both with the py4j NiFi bundles, and the decode as upstream now writes it.
"""

import argparse
import glob
import importlib
import importlib.util
import os
import sys
import time
from base64 import standard_b64decode
from pathlib import Path

CACHE = Path(os.environ.get("ECOMMERCE_PIPELINE_CACHE", Path.home() / ".cache" / "ecommerce-pipeline"))


def best_of(function, argument, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function(argument)
        times.append(time.perf_counter() - started)
    return min(times)


def bundled_py4j_protocol(home: Path):
    """py4j.protocol as the NiFi at `home` bundles it (python/framework/py4j), not the installed py4j."""
    package = home / "python" / "framework" / "py4j"
    spec = importlib.util.spec_from_file_location("py4j", package / "__init__.py", submodule_search_locations=[str(package)])
    py4j = importlib.util.module_from_spec(spec)
    sys.modules["py4j"] = py4j  # its modules import each other as py4j.*
    spec.loader.exec_module(py4j)
    return importlib.import_module("py4j.protocol")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=10)
    parser.add_argument("--nifi-home", help="the assembled NiFi (default: the newest nifi-2.3.0-* in the stack's cache)")
    args = parser.parse_args()
    home = args.nifi_home or max(glob.glob(str(CACHE / "nifi-2.3.0-*")), default=None)
    if not home:
        sys.exit("no assembled NiFi found: run `nifi/stack up` once, or pass --nifi-home")
    protocol = bundled_py4j_protocol(Path(home))
    decode_bytearray, encode_bytearray = protocol.decode_bytearray, protocol.encode_bytearray

    def upstream_decode(encoded: str) -> bytes:  # py4j#593
        return bytes(standard_b64decode(encoded.encode("ascii")))

    payload = os.urandom(int(args.megabytes * 1e6))
    encoded = encode_bytearray(payload)
    assert decode_bytearray(encoded) == upstream_decode(encoded) == payload
    megabytes = len(payload) / 1e6
    rows = [
        ("JVM → Python: py4j decode_bytearray as NiFi 2.3.0 bundles it", best_of(decode_bytearray, encoded)),
        ("JVM → Python: decode_bytearray as py4j#593 writes it", best_of(upstream_decode, encoded)),
        ("Python → JVM: py4j encode_bytearray", best_of(encode_bytearray, payload)),
    ]
    print(f"py4j from {home}; {megabytes:g} MB of content, best of 3; Python {sys.version.split()[0]}\n")
    print("| direction | s per MB | MB/s |\n|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds / megabytes:.4f} | {megabytes / seconds:,.0f} |")
    print(f"\nbundled decode / upstream decode: {rows[0][1] / rows[1][1]:,.0f}×")


if __name__ == "__main__":
    main()
