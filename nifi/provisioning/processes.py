"""Starting, watching and stopping the stack's background services, and long steps with progress."""

import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Callable

import psutil

from ecommerce_pipeline import waiting
from ecommerce_pipeline.exit_codes import CommandFailed

from .paths import STATE

SERVICE_VARIABLE = "ECOMMERCE_PIPELINE_SERVICE"
LEFTOVER_GRACE_SECONDS = 10
PROGRESS_EVERY_SECONDS = 15


class StackError(CommandFailed):
    """A failure the user can act on; printed as one clear message, no traceback (exit 1)."""


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def pid_file(service: str) -> Path:
    return STATE / f"{service}.pid"


def log_file(service: str) -> Path:
    return STATE / "logs" / f"{service}.log"


def running_pid(service: str) -> int | None:
    """The service's pid while it runs; a zombie, or another stack's process that reused the pid, does not count.

    A process without any marker still counts: the stack started it before markers existed.
    """
    try:
        process = psutil.Process(int(pid_file(service).read_text()))
        marker = process.environ().get(SERVICE_VARIABLE, service_marker(service))
    except (OSError, ValueError, psutil.Error):
        return None
    return process.pid if _alive(process) and marker == service_marker(service) else None


def service_marker(service: str) -> str:
    """The value of SERVICE_VARIABLE in the environment of every process a service of this stack started."""
    return f"{STATE.resolve() / service}"


def service_processes(service: str) -> list[psutil.Process]:
    """Every live process of the service, found by the marker its environment inherits from spawn.

    This finds what a crashed parent left behind (NiFi's Python processes outlive a killed JVM),
    and nothing of another stack: each stack's marker names its own state directory.
    """
    marker, found = service_marker(service), []
    for process in psutil.process_iter():
        try:
            if process.environ().get(SERVICE_VARIABLE) == marker and _alive(process):
                found.append(process)
        except psutil.Error:  # gone meanwhile, or another user's
            continue
    return found


def end_leftovers(service: str) -> None:
    """Ends the processes of the service that outlived their parent (the live service's own are kept)."""
    pid = running_pid(service)
    leftovers = [p for p in service_processes(service) if pid is None or _pgid(p) != pid]
    if leftovers:
        say(f"{service}: ending {len(leftovers)} processes a crashed run left behind (pids "
            f"{', '.join(str(p.pid) for p in leftovers)})")
        _terminate(leftovers, LEFTOVER_GRACE_SECONDS)


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
        end_leftovers(member.service)  # e.g. the Python processes of a NiFi JVM killed alone
        check_ports_free(member.service, member.ports())
    return to_start


def spawn(service: str, command: list[str], env: dict[str, str], cwd: Path | None = None) -> int:
    """Starts a service in its own session (so `stop` ends its children too), logging to logs/.

    Its environment carries the service's marker, which its children inherit: end_leftovers
    finds them by it even after the service itself died.
    """
    log_file(service).parent.mkdir(parents=True, exist_ok=True)
    with open(log_file(service), "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **env, SERVICE_VARIABLE: service_marker(service)}, cwd=cwd, start_new_session=True,
        )
    pid_file(service).write_text(str(process.pid))
    return process.pid


def stop(service: str, grace_seconds: float = 60) -> None:
    """SIGTERM to the service, then to anything of its process group it left behind; SIGKILL to what outlives the grace period.

    The service alone first: NiFi stops its processors before it ends its Python processes, and a Python
    process signalled with it would fail the FlowFiles it holds, which the flow then quarantines whole.
    """
    pid = running_pid(service)
    processes = _stoppable(service, pid)
    if not processes:
        say(f"{service}: not running")
        pid_file(service).unlink(missing_ok=True)
        return
    _terminate([p for p in processes if p.pid == pid] or processes, grace_seconds)
    _terminate(_stoppable(service, pid), 0)  # whatever started during the grace period
    pid_file(service).unlink(missing_ok=True)
    say(f"{service}: stopped")


def _stoppable(service: str, pid: int | None) -> list[psutil.Process]:
    return list({p.pid: p for p in service_processes(service) + (group_processes(pid) if pid else [])}.values())


def group_processes(pgid: int) -> list[psutil.Process]:
    """Every live (non-zombie) process in the process group: a service and its children."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and _alive(process):
                found.append(process)
        except (OSError, psutil.Error):
            continue
    return found


def _pgid(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except OSError:
        return None


def _terminate(processes: list[psutil.Process], grace_seconds: float) -> None:
    """SIGTERM to each process (NiFi shuts down in order on it), SIGKILL to those still alive after the grace period."""
    for signal_process in (psutil.Process.terminate, psutil.Process.kill):
        for process in processes:
            try:
                signal_process(process)
            except psutil.NoSuchProcess:
                pass
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and any(map(_alive, processes)):
            time.sleep(0.2)
        processes = [p for p in processes if _alive(p)]
        grace_seconds = 5


def _alive(process: psutil.Process) -> bool:
    """Still running: a process that exited but is not reaped yet (a zombie) does not count."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log yet)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(service: str, healthy, timeout: float, log: Path | None = None, progress_every: float = 0) -> None:
    """Polls `healthy()` until it answers true; fails with the log's tail if the service dies or hangs."""
    log = log or log_file(service)

    def up() -> bool:
        if healthy():
            return True
        if running_pid(service) is None:
            raise StackError(f"{service} exited while starting; its log ends with:\n{tail(log)}")
        return False

    waiting.wait_until(up, f"{service} to become healthy", timeout, progress_every=progress_every,
                       report=say if progress_every else None,
                       error=lambda message: StackError(f"{message}; its log ends with:\n{tail(log)}"))


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class StepTally:
    """What a long step's output says it has done so far: items of each kind, and the bytes they weigh.

    `counts(line)` names what a line reports, as (kind, bytes), e.g. ("files downloaded", 5400), or None.
    """

    def __init__(self, counts: Callable[[str], tuple[str, int] | None]):
        self.counts, self.items, self.size = counts, Counter(), 0

    def add(self, line: str) -> None:
        counted = self.counts(line)
        if counted:
            self.items[counted[0]] += 1
            self.size += counted[1]

    def summary(self) -> str:
        """E.g. `812 files downloaded (94.2 MB), 3 modules built`; empty while nothing was counted."""
        parts = [f"{count:,} {kind}" for kind, count in self.items.items()]
        if parts and self.size:
            parts[0] += f" ({self.size / 1e6:,.1f} MB)"
        return ", ".join(parts)


def progress_line(elapsed_seconds: float, summary: str) -> str:
    minutes, seconds = divmod(int(elapsed_seconds), 60)
    return f"  ... {minutes}m{seconds:02d}s" + (f": {summary}" if summary else "")


def run_step(description: str, command: list[str], env: dict[str, str] | None = None,
             shows: Callable[[str], bool] = lambda line: True,
             counts: Callable[[str], tuple[str, int] | None] = lambda line: None,
             cwd: Path | None = None) -> tuple[int, str]:
    """Runs a long download or build and returns (exit code, output).

    Echoes the lines `shows` picks, and every PROGRESS_EVERY_SECONDS the elapsed time with what
    `counts` found so far, so a quiet download or compilation never looks like a hang.
    """
    say(description)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, **(env or {})}, cwd=cwd)
    lines, tally = [], StepTally(counts)

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            tally.add(line)
            if shows(line):
                print(f"[stack]   {line.rstrip()}", flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while True:
        try:
            code = process.wait(timeout=PROGRESS_EVERY_SECONDS)
            break
        except subprocess.TimeoutExpired:
            say(progress_line(time.monotonic() - started, tally.summary()))
    reader.join()
    say(f"  took {time.monotonic() - started:.0f}s" + (f": {tally.summary()}" if tally.summary() else ""))
    return code, "".join(lines)
