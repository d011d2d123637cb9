"""Starting, watching and stopping the stack's background services, and long steps with progress."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .paths import STATE


class StackError(RuntimeError):
    """A failure the user can act on; printed as one clear message, no traceback."""


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def pid_file(service: str) -> Path:
    return STATE / f"{service}.pid"


def log_file(service: str) -> Path:
    return STATE / "logs" / f"{service}.log"


def running_pid(service: str) -> int | None:
    """The service's pid while it runs; a killed process left as a zombie does not count."""
    try:
        pid = int(pid_file(service).read_text())
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except (FileNotFoundError, ValueError, IndexError, ProcessLookupError, PermissionError):
        return None
    return None if state in "ZX" else pid


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def check_ports_free(service: str, ports: dict[str, int]) -> None:
    for variable, port in ports.items():
        if port_open(port):
            raise StackError(
                f"{service}: port {port} is already in use by another program; "
                f"stop it or choose another port with {variable} in .env"
            )


def not_running(members: list, where) -> list:
    """The members (a node or server: `.service`, `.ports()`) to start: the running ones are reported
    and reused; what a killed one left of its process group is stopped; the others' ports must be free."""
    for member in members:
        if running_pid(member.service):
            say(f"{member.service}: already running on {where(member)}")
    to_start = [member for member in members if not running_pid(member.service)]
    for member in to_start:
        if pid_file(member.service).exists():
            stop(member.service)  # e.g. the Python processes of a NiFi JVM killed alone
        check_ports_free(member.service, member.ports())
    return to_start


def spawn(service: str, command: list[str], env: dict[str, str], cwd: Path | None = None) -> int:
    """Starts a service in its own session (so `stop` ends its children too), logging to logs/."""
    log_file(service).parent.mkdir(parents=True, exist_ok=True)
    with open(log_file(service), "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **env}, cwd=cwd, start_new_session=True,
        )
    pid_file(service).write_text(str(process.pid))
    return process.pid


def stop(service: str, grace_seconds: float = 60) -> None:
    """SIGTERM to the service's process group, SIGKILL only if it outlives the grace period.

    The group outlives its leader when the JVM was killed alone: its Python processes,
    reparented to init, keep the group id and are stopped here too."""
    try:
        pid = int(pid_file(service).read_text())
    except (FileNotFoundError, ValueError):
        say(f"{service}: not running")
        return
    if not _group_alive(pid):
        say(f"{service}: not running")
        pid_file(service).unlink(missing_ok=True)
        return
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and _group_alive(pid):
        time.sleep(0.2)
    if _group_alive(pid):
        os.killpg(pid, signal.SIGKILL)
    pid_file(service).unlink(missing_ok=True)
    say(f"{service}: stopped")


def group_processes(pgid: int) -> list[tuple[int, list[str]]]:
    """(pid, /proc/<pid>/stat fields after the command name) of every live (non-zombie) process in the group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append((int(stat.parent.name), fields))
    return found


def _group_alive(pgid: int) -> bool:
    """Whether any live process is left in the group: the JVM or its Python children."""
    return bool(group_processes(pgid))


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log yet)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(service: str, healthy, timeout: float, log: Path | None = None, progress_every: float = 0) -> None:
    """Polls `healthy()` until it answers true; fails with the log's tail if the service dies or hangs."""
    log = log or log_file(service)
    started = time.monotonic()
    next_progress = started + progress_every
    while time.monotonic() - started < timeout:
        if healthy():
            return
        if running_pid(service) is None:
            raise StackError(f"{service} exited while starting; its log ends with:\n{tail(log)}")
        if progress_every and time.monotonic() >= next_progress:
            say(f"{service}: still starting ({time.monotonic() - started:.0f}s)")
            next_progress += progress_every
        time.sleep(1)
    raise StackError(f"{service} did not become healthy within {timeout:.0f}s; its log ends with:\n{tail(log)}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def run_step(description: str, command: list[str], env: dict[str, str] | None = None,
             shows=lambda line: True) -> tuple[int, str]:
    """Runs a long download or build, echoing the lines `shows` picks as progress; returns (exit code, output)."""
    say(description)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, **(env or {})})
    lines = []
    for line in process.stdout:
        lines.append(line)
        if shows(line):
            print(f"[stack]   {line.rstrip()}", flush=True)
    code = process.wait()
    say(f"  took {time.monotonic() - started:.0f}s")
    return code, "".join(lines)
