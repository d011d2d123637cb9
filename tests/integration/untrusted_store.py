"""A real S3 store that ignores If-None-Match, for the tests of the ledger's refusal: versitygw 1.0.14.

Garage, the store users name for ignoring conditional puts, is on no registry here; versitygw
(Versity's S3 gateway over a POSIX directory, Apache-2.0) builds with `go install`, and its
releases up to 1.0.14 (May 2025) accept `PutObject` with `If-None-Match: *` on an existing key
and overwrite it (1.8.0 honours the header). Built once into the stack's cache, with progress.
"""

import subprocess
from contextlib import contextmanager
from pathlib import Path

from ecommerce_pipeline.settings import S3Settings
from ecommerce_pipeline.waiting import wait_until
from nifi.provisioning.go_build import go_progress, require_go
from nifi.provisioning.paths import CACHE
from nifi.provisioning.processes import StackError, port_open, run_step

MODULE = "github.com/versity/versitygw/cmd/versitygw"
VERSION = "v1.0.14"  # the last release before versitygw honoured If-None-Match
MIN_GO = (1, 23)


def versitygw_binary() -> Path:
    binary = CACHE / "versitygw" / VERSION / "versitygw"
    if binary.exists():
        return binary
    require_go(MIN_GO, f"versitygw {VERSION}")
    code, output = run_step(f"building versitygw {VERSION} with `go install` (first time only: ≈ 3 min)",
                            ["go", "install", "-v", "-ldflags=-s -w", f"{MODULE}@{VERSION}"],
                            {"GOBIN": str(binary.parent), "CGO_ENABLED": "0"},
                            shows=lambda line: go_progress(line) is None, counts=go_progress)
    if code != 0 or not binary.exists():
        raise StackError(f"`go install {MODULE}@{VERSION}` failed:\n{output[-3000:]}")
    return binary


@contextmanager
def running_versitygw(directory: Path, port: int, bucket: str = "untrusted-lake"):
    """versitygw on `port` over `directory`, with one bucket; yields its root identity, stops it after."""
    directory.mkdir(parents=True, exist_ok=True)
    s3 = S3Settings(f"http://127.0.0.1:{port}", "versity-root", "versity-root-secret-for-tests", bucket)
    log = (directory.parent / "versitygw.log").open("wb")
    process = subprocess.Popen([str(versitygw_binary()), "--port", f"127.0.0.1:{port}", "--access", s3.access_key,
                                "--secret", s3.secret_key, "posix", str(directory)],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port) or process.poll() is not None, f"versitygw on :{port}", 30, every=0.2,
                   report=None)
        if process.poll() is not None:
            raise StackError(f"versitygw exited with {process.returncode}; see {log.name}")
        s3.client().create_bucket(Bucket=bucket)
        yield s3
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
