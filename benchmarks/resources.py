"""What a run costs: wall time and peak RSS of one process, and the memory and CPU of NiFi's processes.

`measure` runs one command (approaches a-d); `ResourceSampler` samples NiFi's process group
(the JVM and its Python processes) every 0.5 s while the flow runs (approach e and the
back-pressure drop), and adds up the CPU each core, NiFi, MinIO and this harness used.
"""

import dataclasses
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil

from nifi.provisioning.processes import group_processes

from .inputs import REPO

SAMPLE_SECONDS = 0.5


@dataclasses.dataclass
class Measured:
    seconds: float
    max_rss_bytes: int
    exit_code: int
    stderr: str


def measure(argv: list[str], stdin: Path | None = None, stdout: Path | None = None,
            env: dict[str, str] | None = None) -> Measured:
    """Run one process; wall time and its own peak RSS.

    The RSS comes from /usr/bin/time, not from our own wait4: Linux starts a child's
    ru_maxrss at the RSS of the process that forked it, which here holds pandas and the
    input's order ids, so small children would all report this script's size.
    """
    with (
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
        open(stdin or os.devnull, "rb") as fin,
        open(stdout or os.devnull, "wb") as fout,
    ):
        start = time.perf_counter()
        code = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *argv], stdin=fin, stdout=fout, stderr=err, cwd=REPO,
                              env=env).returncode
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        max_rss_kib = int(rss.read().strip().splitlines()[-1])
    return Measured(seconds, max_rss_kib * 1024, code, stderr)


def _rss_kib(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss // 1024
    except psutil.Error:
        return 0


def _cpu_seconds(pgid: int | None) -> dict[int, float]:
    """User + system CPU seconds of each process in the group."""
    used = {}
    for process in group_processes(pgid) if pgid is not None else []:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        used[process.pid] = times.user + times.system
    return used


def _per_core_times() -> dict[str, tuple[float, float, float]]:
    """(busy, steal, total) seconds of each core. Busy = user, nice, system, irq, softirq: work
    done on this machine. Steal is time the hypervisor gave the virtual CPU to someone else:
    neither our work nor idle capacity."""
    cores = {}
    for number, t in enumerate(psutil.cpu_times(percpu=True)):
        busy = t.user + t.nice + t.system + t.irq + t.softirq
        cores[f"cpu{number}"] = (busy, t.steal, busy + t.idle + t.iowait + t.steal)
    return cores


def _extension(pid: int) -> str:
    """The Python processor type a NiFi Python process runs (its venv is .../extensions/<Type>/<version>/)."""
    try:
        command = psutil.Process(pid).cmdline()[0]
    except (psutil.Error, IndexError):
        return "?"
    return command.split("/extensions/")[1].split("/")[0] if "/extensions/" in command else "framework"


class Sampler:
    """Calls `sample()` on a thread every `seconds` from entering a `with` block to leaving it."""

    seconds = SAMPLE_SECONDS

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.seconds)


class ResourceSampler(Sampler):
    """Peak RSS of NiFi's process group (JVM + Python processes), sampled every 0.5 s, and the
    CPU used between start and stop: each core's busy %, and the CPU seconds of the NiFi JVM,
    NiFi's Python processes, the S3 store (MinIO or SeaweedFS) and this harness."""

    def __init__(self, nifi_pgid: int, store_pgid: int | None):
        super().__init__()
        self.nifi_pgid, self.store_pgid = nifi_pgid, store_pgid
        self.samples: list[tuple[int, int, int]] = []  # (total KiB, JVM KiB, Python processes)

    def __enter__(self):
        self._cores = _per_core_times()
        self._nifi = _cpu_seconds(self.nifi_pgid)
        self._store = _cpu_seconds(self.store_pgid)
        self._own = os.times()
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        seconds = time.monotonic() - self.started
        cores = _per_core_times()
        nifi, store, own = _cpu_seconds(self.nifi_pgid), _cpu_seconds(self.store_pgid), os.times()

        def used(before: dict[int, float], after: dict[int, float], pids) -> float:
            return sum(after[pid] - before.get(pid, 0) for pid in pids if pid in after)

        self.result = {
            "sampled_seconds": seconds,
            "samples": len(self.samples),
            "peak_rss_bytes": max((s[0] for s in self.samples), default=0) * 1024,
            "peak_jvm_rss_bytes": max((s[1] for s in self.samples), default=0) * 1024,
            "start_rss_bytes": (self.samples[0][0] if self.samples else 0) * 1024,
            "python_processes": max((s[2] for s in self.samples), default=0),
            "core_busy_percent": {
                name: 100 * (cores[name][0] - self._cores[name][0]) / max(cores[name][2] - self._cores[name][2], 1)
                for name in sorted(cores, key=lambda n: int(n[3:]))
            },
            "core_steal_percent": {
                name: 100 * (cores[name][1] - self._cores[name][1]) / max(cores[name][2] - self._cores[name][2], 1)
                for name in sorted(cores, key=lambda n: int(n[3:]))
            },
            "python_cpu_seconds": sorted(
                ([_extension(pid), nifi[pid] - self._nifi.get(pid, 0)] for pid in nifi if pid != self.nifi_pgid),
                key=lambda item: -item[1]),
            "cpu_seconds": {
                "nifi_jvm": used(self._nifi, nifi, [self.nifi_pgid]),
                "nifi_python": used(self._nifi, nifi, [pid for pid in nifi if pid != self.nifi_pgid]),
                "store": used(self._store, store, store),
                "harness": (own.user + own.system) - (self._own.user + self._own.system),
            },
        }
        return False

    def sample(self) -> None:
        total = jvm = python = 0
        for process in group_processes(self.nifi_pgid):
            rss = _rss_kib(process)
            total += rss
            if process.pid == self.nifi_pgid:
                jvm = rss
            else:
                python += 1
        self.samples.append((total, jvm, python))
