"""MinIO, built once with `go install` from the Go module proxy and run from the cache."""

from pathlib import Path

from .go_build import go_progress, require_go
from .health import ServiceHealth
from .layout import minio_servers
from .minio_access import ensure_access
from .paths import CACHE
from .processes import (
    StackError, http_ok, log_file, not_running, run_step, running_pid, say, spawn, tail, wait_until,
)

# The community edition's module version the Go module proxy serves: the repository's final
# (archived) commit; the proxy refuses the RELEASE.2025-10-15T17-29-55Z pseudo-version.
MINIO_MODULE = "github.com/minio/minio"
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
MIN_GO = (1, 24)


def minio_binary() -> Path:
    binary = CACHE / "minio" / MINIO_VERSION / "minio"
    if binary.exists():
        return binary
    require_go(MIN_GO, "MinIO")
    code, output = run_step(
        f"building MinIO {MINIO_VERSION} with `go install` (first time only: a few minutes)",
        ["go", "install", "-v", f"{MINIO_MODULE}@{MINIO_VERSION}"],
        {"GOBIN": str(binary.parent), "CGO_ENABLED": "0"},
        shows=lambda line: go_progress(line) is None,
        counts=go_progress,
    )
    if code != 0 or not binary.exists():
        raise StackError(f"`go install {MINIO_MODULE}@{MINIO_VERSION}` failed:\n{output[-3000:]}")
    return binary


def health_url(port: int, check: str = "live") -> str:
    return f"http://127.0.0.1:{port}/minio/health/{check}"


def minio_up(env: dict[str, str], count: int = 1) -> str:
    """One server, or `count` servers in MinIO's distributed mode (a drive each, erasure-coded:
    with 4 drives any one server can die and reads and writes go on), with the flow's, the analyst's
    and the maintainer's users; returns the S3 endpoint."""
    servers = minio_servers(env, count)
    to_start = not_running(servers, lambda server: f":{server.api_port}")
    binary = minio_binary() if to_start else None
    drives = [f"http://127.0.0.1:{server.api_port}{server.drive}" for server in servers] if count > 1 else []
    for server in servers:
        server.drive.mkdir(parents=True, exist_ok=True)
        server.drive.chmod(0o700)  # the bucket's objects, plaintext exports under landing/ among them
    for server in to_start:
        say(f"{server.service}: starting on :{server.api_port} (console :{server.console_port})")
        spawn(server.service, [str(binary), "server", *(drives or [str(server.drive)]),
                               "--address", f"127.0.0.1:{server.api_port}",
                               "--console-address", f"127.0.0.1:{server.console_port}", "--quiet"],
              {"MINIO_ROOT_USER": env["S3_ADMIN_ACCESS_KEY"], "MINIO_ROOT_PASSWORD": env["S3_ADMIN_SECRET_KEY"],
               "MINIO_BROWSER_REDIRECT": "off",
               # Inside a container (/.dockerenv) MinIO waits forever for a loopback endpoint to "resolve
               # to a valid IP"; this names the server's own endpoint so it knows which drive is local.
               "_MINIO_SERVER_LOCAL": f"127.0.0.1:{server.api_port}",
               # Distributed MinIO refuses drives on the root disk; on one machine all four are there
               # (a stand-in for four hosts' disks), so no drive counts as the root disk.
               "MINIO_ROOTDRIVE_THRESHOLD_SIZE": "1B"})
    # `cluster` answers 200 once the erasure set has write quorum; `live` is all one server has.
    check = "cluster" if count > 1 else "live"
    for server in servers:
        wait_until(server.service, lambda: http_ok(health_url(server.api_port, check)), timeout=120)
    endpoint = f"http://127.0.0.1:{servers[0].api_port}"
    ensure_access(env, endpoint)
    say(f"minio: answering ({health_url(servers[0].api_port, check)}"
        f"{f', {count} servers, erasure-coded' if count > 1 else ''})")
    return endpoint


def minio_health(env: dict[str, str], count: int = 1) -> list[ServiceHealth]:
    """Each server: running, and healthy when it answers its health check (distributed: the erasure set's quorum)."""
    check = "cluster" if count > 1 else "live"
    found = []
    for server in minio_servers(env, count):
        running, answers = running_pid(server.service) is not None, http_ok(health_url(server.api_port, check))
        detail = "healthy" if answers else ("not answering its health check" if running else "")
        found.append(ServiceHealth(server.service, running, running and answers, detail))
    return found


def minio_logs(env: dict[str, str], count: int, lines: int) -> str:
    return "\n".join(f"==> {server.service} <==\n{tail(log_file(server.service), lines)}" if count > 1
                     else tail(log_file(server.service), lines) for server in minio_servers(env, count))
