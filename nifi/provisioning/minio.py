"""MinIO, built once with `go install` from the Go module proxy and run from the cache."""

import re
import shutil
import subprocess
from pathlib import Path

from .paths import CACHE, STATE
from .processes import StackError, check_ports_free, http_ok, run_step, running_pid, say, spawn, wait_until

# The community edition's module version the Go module proxy serves: the repository's final
# (archived) commit; the proxy refuses the RELEASE.2025-10-15T17-29-55Z pseudo-version.
MINIO_MODULE = "github.com/minio/minio"
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
MIN_GO = (1, 24)


def go_version() -> tuple[int, int]:
    go = shutil.which("go")
    if not go:
        raise StackError(f"MinIO is built with Go >= {MIN_GO[0]}.{MIN_GO[1]}, and `go` is not on PATH")
    found = re.search(r"go(\d+)\.(\d+)", subprocess.run([go, "version"], capture_output=True, text=True).stdout)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def minio_binary() -> Path:
    binary = CACHE / "minio" / MINIO_VERSION / "minio"
    if binary.exists():
        return binary
    if go_version() < MIN_GO:
        raise StackError(f"MinIO needs Go >= {MIN_GO[0]}.{MIN_GO[1]}; found {'.'.join(map(str, go_version()))}")
    code, output = run_step(
        f"building MinIO {MINIO_VERSION} with `go install` (first time only, a few minutes)",
        ["go", "install", f"{MINIO_MODULE}@{MINIO_VERSION}"],
        {"GOBIN": str(binary.parent), "CGO_ENABLED": "0"},
    )
    if code != 0 or not binary.exists():
        raise StackError(f"`go install {MINIO_MODULE}@{MINIO_VERSION}` failed:\n{output[-3000:]}")
    return binary


def health_url(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['MINIO_API_PORT']}/minio/health/live"


def minio_up(env: dict[str, str]) -> None:
    api_port, console_port = int(env["MINIO_API_PORT"]), int(env["MINIO_CONSOLE_PORT"])
    if running_pid("minio"):
        say(f"minio: already running on :{api_port}")
    else:
        check_ports_free("minio", {"MINIO_API_PORT": api_port, "MINIO_CONSOLE_PORT": console_port})
        binary = minio_binary()
        data = STATE / "minio-data"
        data.mkdir(parents=True, exist_ok=True)
        say(f"minio: starting on :{api_port} (console :{console_port})")
        spawn("minio", [str(binary), "server", str(data), "--address", f"127.0.0.1:{api_port}",
                        "--console-address", f"127.0.0.1:{console_port}", "--quiet"],
              {"MINIO_ROOT_USER": env["MINIO_ROOT_USER"], "MINIO_ROOT_PASSWORD": env["MINIO_ROOT_PASSWORD"],
               "MINIO_BROWSER_REDIRECT": "off"})
    wait_until("minio", lambda: http_ok(health_url(env)), timeout=60)
    ensure_bucket(env, f"http://127.0.0.1:{env['MINIO_API_PORT']}")
    say(f"minio: healthy ({health_url(env)})")


def ensure_bucket(env: dict[str, str], endpoint_url: str) -> None:
    """The bucket the flow writes to; the S3 API needs signed requests, so boto3 makes it."""
    from ecommerce_pipeline.settings import S3Settings

    s3 = S3Settings.from_settings({**env, "S3_ENDPOINT_URL": endpoint_url})
    client = s3.client()
    existing = {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}
    if s3.bucket not in existing:
        client.create_bucket(Bucket=s3.bucket)
        say(f"minio: created bucket {s3.bucket}")


def minio_status(env: dict[str, str]) -> str:
    healthy = http_ok(health_url(env))
    return f"minio: {'running' if running_pid('minio') else 'stopped'}{', healthy' if healthy else ''}"
