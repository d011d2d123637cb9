"""Approach e of run_benchmarks.py: the deployed NiFi flow, "file dropped into the watched folder -> last object in MinIO".

Needs the native stack and the flow: `nifi/stack up && python3 deploy_flow.py`. Each run
links the cached input under a unique name (`bench-<rows>-<id>.csv`, so its object keys are
its own), drops it with lake_watch.drop_into_inbox, waits with lake_watch.wait_until_landed
until every input row is in the lake, and then deletes the run's objects. While it runs, a
sampler adds up the resident memory of NiFi's process group (the JVM and its Python
processes) every 0.5 s; /proc/stat before and after gives each core's busy share. NiFi's
processor status before and after gives the per-processor profile.
"""

import datetime as dt
import io
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "nifi"), str(REPO / "processors")]

from ecommerce_pipeline.lake_watch import LakeWatch, drop_into_inbox, records_in, wait_until_landed  # noqa: E402
from ecommerce_pipeline.ledger import content_sha256, ledger_key  # noqa: E402
from ecommerce_pipeline.settings import S3Settings, load_settings  # noqa: E402
from provisioning.paths import STATE  # noqa: E402
from provisioning.processes import group_processes, running_pid  # noqa: E402

PYTHON_TYPES = {path.stem for path in (REPO / "processors" / "ecommerce_processors").glob("[A-Z]*.py")}
CHUNK_ROWS_PARAMETER = "Chunk Rows"
SAMPLE_SECONDS = 0.5
WINDOW_SECONDS = 300  # NiFi's processor status sums the last 5 minutes (301 one-second bins)
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def say(message: str) -> None:
    print(f"  [e] {message}", flush=True)


# --- the lake, read cheaply while polling -------------------------------------------------


# --- memory and CPU of the stack's processes ----------------------------------------------


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_ticks(pgid: int | None) -> dict[int, int]:
    """utime + stime of each process in the group, in clock ticks."""
    if pgid is None:
        return {}
    return {pid: int(fields[11]) + int(fields[12]) for pid, fields in group_processes(pgid)}


def _per_core_stat() -> dict[str, tuple[int, int, int]]:
    """(busy, steal, total) jiffies of each core from /proc/stat. Busy = user, nice, system, irq,
    softirq: work done on this machine. Steal is time the hypervisor gave the virtual CPU to
    someone else: neither our work nor idle capacity."""
    cores = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            user, nice, system, idle, iowait, irq, softirq, steal = (int(value) for value in values[:8])
            cores[name] = (user + nice + system + irq + softirq, steal, user + nice + system + idle + iowait + irq + softirq + steal)
    return cores


def _extension(pid: int) -> str:
    """The Python processor type a NiFi Python process runs (its venv is .../extensions/<Type>/<version>/)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return "?"
    return command.split("/extensions/")[1].split("/")[0] if "/extensions/" in command else "framework"


class Sampler:
    """Calls `sample()` on a thread every `seconds` from entering a `with` block to leaving it."""

    seconds = SAMPLE_SECONDS

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._started = time.monotonic()
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
    NiFi's Python processes, MinIO and this harness."""

    def __init__(self, nifi_pgid: int, minio_pgid: int | None):
        super().__init__()
        self.nifi_pgid, self.minio_pgid = nifi_pgid, minio_pgid
        self.samples: list[tuple[int, int, int]] = []  # (total KiB, JVM KiB, Python processes)

    def __enter__(self):
        self._cores = _per_core_stat()
        self._nifi = _cpu_ticks(self.nifi_pgid)
        self._minio = _cpu_ticks(self.minio_pgid)
        self._own = os.times()
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        seconds = time.monotonic() - self._started
        cores = _per_core_stat()
        nifi, minio, own = _cpu_ticks(self.nifi_pgid), _cpu_ticks(self.minio_pgid), os.times()

        def used(before: dict[int, int], after: dict[int, int], pids) -> float:
            return sum(after[pid] - before.get(pid, 0) for pid in pids if pid in after) / TICKS

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
                ([_extension(pid), (nifi[pid] - self._nifi.get(pid, 0)) / TICKS] for pid in nifi if pid != self.nifi_pgid),
                key=lambda item: -item[1]),
            "cpu_seconds": {
                "nifi_jvm": used(self._nifi, nifi, [self.nifi_pgid]),
                "nifi_python": used(self._nifi, nifi, [pid for pid in nifi if pid != self.nifi_pgid]),
                "minio": used(self._minio, minio, minio),
                "harness": (own.user + own.system) - (self._own.user + self._own.system),
            },
        }
        return False

    def sample(self) -> None:
        total = jvm = python = 0
        for pid, _ in group_processes(self.nifi_pgid):
            rss = _rss_kib(pid)
            total += rss
            if pid == self.nifi_pgid:
                jvm = rss
            else:
                python += 1
        self.samples.append((total, jvm, python))


# --- NiFi -------------------------------------------------------------------------------


class FlowUnderTest:
    """The deployed flow: its process group, status, the Chunk Rows parameter, concurrent tasks."""

    def __init__(self):
        import nipyapi
        from deployment.connection import connect
        from deployment.flow_group import find_group, flow_definition, group_name

        self.nipyapi = nipyapi
        self.settings = load_settings(REPO / ".env")
        connect(self.settings)
        definition = flow_definition()[1]
        name = group_name(definition)
        contents = definition["flowContents"]
        # processors nothing flows into (GetFile, the landing-bucket poller): they run on their own schedule
        self.sources = {p["name"] for p in contents["processors"]} - {c["destination"]["name"] for c in contents["connections"]}
        group = find_group(name)
        if group is None:
            raise RuntimeError(f"the flow {name!r} is not deployed: run `nifi/stack up && python3 deploy_flow.py`")
        self.group_id = group.id
        self.nifi_pgid = running_pid("nifi")
        if self.nifi_pgid is None:
            raise RuntimeError("no NiFi process in .stack/nifi.pid: start it with `nifi/stack up`")
        self.minio_pgid = running_pid("minio")
        self.s3 = S3Settings.from_settings(self.settings)
        self.inbox = Path(self.settings.get("INBOX_DIR") or REPO / "data" / "inbox").resolve()
        self._restore: list = []

    # status

    def _aggregate(self):
        api = self.nipyapi.nifi.FlowApi()
        return api.get_process_group_status(self.group_id).process_group_status.aggregate_snapshot

    def snapshot(self) -> dict[str, dict]:
        """Each processor's status: NiFi's sums over the last 5 minutes (there are no lifetime counters)."""
        out = {}
        for entity in self._aggregate().processor_status_snapshots or []:
            status = entity.processor_status_snapshot
            out[status.name] = {
                "type": status.type, "run_status": status.run_status, "tasks": status.task_count or 0,
                "nanos": status.tasks_duration_nanos or 0, "bytes_read": status.bytes_read or 0,
                "bytes_written": status.bytes_written or 0, "flowfiles_in": status.flow_files_in or 0,
                "flowfiles_out": status.flow_files_out or 0,
            }
        return out

    def wait_idle(self, timeout: float = 300) -> None:
        """Nothing queued, no thread active, every processor running; else the run would measure leftovers."""
        started = time.monotonic()
        while True:
            aggregate = self._aggregate()
            states = {e.processor_status_snapshot.name: e.processor_status_snapshot.run_status
                      for e in aggregate.processor_status_snapshots or []}
            stopped = sorted(name for name, state in states.items() if state != "Running")
            if not aggregate.flow_files_queued and not aggregate.active_thread_count and not stopped:
                return
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the flow is not idle after {timeout:.0f}s: {aggregate.flow_files_queued} FlowFiles "
                                   f"queued, {aggregate.active_thread_count} threads active, not running: {stopped}")
            time.sleep(2)

    def wait_quiet_window(self) -> None:
        """Waits until NiFi's 5-minute status window holds no task of the flow but its sources' own
        polling (the inbox, the landing bucket), so that the next run's before/after difference is that run alone."""
        started, next_report = time.monotonic(), time.monotonic() + 30
        while True:
            busy = {name: s["tasks"] for name, s in self.snapshot().items() if name not in self.sources and s["tasks"]}
            if not busy:
                return
            if time.monotonic() - started > WINDOW_SECONDS + 30:
                say(f"status window still holds tasks of {sorted(busy)}; profiling anyway")
                return
            if time.monotonic() >= next_report:
                say(f"waiting for NiFi's 5-minute status window to empty before the profiled run "
                    f"[{time.monotonic() - started:.0f}s]")
                next_report += 30
            time.sleep(5)

    def versions(self) -> dict:
        about = self.nipyapi.nifi.SystemDiagnosticsApi().get_system_diagnostics().system_diagnostics.aggregate_snapshot
        info = about.version_info
        python = None
        properties = STATE / "nifi" / "conf" / "nifi.properties"
        if properties.exists():
            for line in properties.read_text().splitlines():
                if line.startswith("nifi.python.command="):
                    import subprocess

                    command = line.split("=", 1)[1].strip()
                    python = subprocess.run([command, "--version"], capture_output=True, text=True).stdout.split()[-1]
        minio = None
        if self.minio_pgid:
            exe = os.readlink(f"/proc/{self.minio_pgid}/exe")
            minio = f"MinIO {Path(exe).parent.name}"  # its build cache is keyed by the module version
        return {"nifi": info.ni_fi_version, "java": f"{info.java_vendor} {info.java_version}", "nifi_python": python,
                "minio": minio, "max_heap": about.max_heap}

    # configuration

    def chunk_rows(self) -> int:
        context = self._context()
        return int(next(e.parameter.value for e in context.component.parameters if e.parameter.name == CHUNK_ROWS_PARAMETER))

    def _context(self):
        from deployment.flow_settings import PARAMETER_CONTEXT

        return self.nipyapi.parameters.get_parameter_context(PARAMETER_CONTEXT, identifier_type="name", greedy=False)

    def set_chunk_rows(self, rows: int) -> None:
        """Changes only the Chunk Rows parameter (NiFi restarts SplitRecord); restored by restore()."""
        previous = self.chunk_rows()
        if previous == rows:
            return
        self._put_chunk_rows(rows)
        self._restore.append(lambda: self._put_chunk_rows(previous))

    def _put_chunk_rows(self, rows: int) -> None:
        context = self._context()
        description = next(e.parameter.description for e in context.component.parameters
                           if e.parameter.name == CHUNK_ROWS_PARAMETER)
        context.component.parameters = [self.nipyapi.parameters.prepare_parameter(CHUNK_ROWS_PARAMETER, str(rows), description)]
        say(f"setting the parameter {CHUNK_ROWS_PARAMETER} to {rows:,}")
        self.nipyapi.parameters.update_parameter_context(context)

    def set_concurrent_tasks(self, name: str, tasks: int) -> None:
        """Sets a processor's concurrent tasks (stopping and restarting it); restored by restore()."""
        processor = self._processor(name)
        previous = processor.component.config.concurrently_schedulable_task_count
        if previous == tasks:
            return
        self._put_concurrent_tasks(name, tasks)
        self._restore.append(lambda: self._put_concurrent_tasks(name, previous))

    def _processor(self, name: str):
        matches = [p for p in self.nipyapi.canvas.list_all_processors(self.group_id) if p.component.name == name]
        if len(matches) != 1:
            raise RuntimeError(f"{len(matches)} processors named {name!r} in the flow")
        return matches[0]

    def _put_concurrent_tasks(self, name: str, tasks: int) -> None:
        say(f"setting the concurrent tasks of {name!r} to {tasks}")
        canvas = self.nipyapi.canvas
        canvas.schedule_processor(self._processor(name), False)
        canvas.update_processor(self._processor(name), self.nipyapi.nifi.ProcessorConfigDTO(concurrently_schedulable_task_count=tasks))
        canvas.schedule_processor(self._processor(name), True)

    def restore(self) -> None:
        while self._restore:
            self._restore.pop()()


# --- one run ------------------------------------------------------------------------------


def run_flow(flow: FlowUnderTest, path: Path, records: int, profile: bool = False) -> dict:
    """Drops a uniquely named copy of `path` and waits until all its rows are in the lake; then deletes its objects."""
    rows = records
    stem = f"bench-{rows}-{uuid.uuid4().hex[:10]}"
    timeout = 300 + records / 2000
    flow.wait_idle()
    if profile:
        flow.wait_quiet_window()
    lake = LakeWatch(flow.s3)
    workdir = path.parent / f".{stem}"
    workdir.mkdir()
    source = workdir / f"{stem}.csv"
    try:
        os.link(path, source)  # the same bytes under the run's own name; drop_into_inbox copies it into the inbox
    except OSError:
        import shutil

        shutil.copyfile(path, source)
    dropped: dict[str, float] = {}
    taken = threading.Event()

    def drop() -> None:
        target = drop_into_inbox(source, flow.inbox)
        dropped["epoch"], dropped["monotonic"] = time.time(), time.monotonic()
        threading.Thread(target=_watch_taken, args=(target, dropped, taken), daemon=True).start()

    before = flow.snapshot()
    failure, objects = None, []
    try:
        with ResourceSampler(flow.nifi_pgid, flow.minio_pgid) as sampler:
            try:
                _, objects = wait_until_landed(lake, source, records, timeout, progress=lambda line: say(line),
                                               on_start=drop)
            except TimeoutError as error:
                failure = str(error)
            detected = time.monotonic()
            taken.set()
        time.sleep(2)  # the last Upload's session commits after its put: let its task reach the status
        after = flow.snapshot()
        listing = _listing(lake, stem)
        if failure:
            objects = lake.landed(stem)
        run = _summarise(records, objects, listing, dropped, detected, sampler.result, before, after, flow.sources)
        run["stem"] = stem
        if failure:
            run["failure"] = failure
        else:
            run["tokens_open_with_plain_fernet"] = _tokens_open(flow, objects)
    finally:
        left = flow.inbox / source.name
        if left.exists():  # a run that timed out before GetFile took the file
            left.unlink()
        source.unlink(missing_ok=True)
        workdir.rmdir()
        _delete_objects(flow.s3, stem)
        forget_content(flow.s3, path)
    return run


def _watch_taken(target: Path, dropped: dict[str, float], stop: threading.Event) -> None:
    """When GetFile took the file (it deletes it from the inbox): after its Minimum File Age and polling."""
    while not stop.is_set():
        if not target.exists():
            dropped["taken"] = time.monotonic() - dropped["monotonic"]
            return
        stop.wait(0.1)


def _listing(lake: LakeWatch, stem: str) -> dict[str, dt.datetime]:
    """Key -> LastModified (MinIO's clock, this machine's) of the run's objects."""
    client = lake.client
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=lake.bucket):
        for item in page.get("Contents", []):
            if item["Key"].rsplit("/", 1)[-1].startswith(f"{stem}-"):
                found[item["Key"]] = item["LastModified"]
    return found


def _delete_objects(s3: S3Settings, stem: str) -> None:
    client = s3.client()
    keys = [{"Key": key} for key in _listing(LakeWatch(s3), stem)]
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=s3.bucket, Delete={"Objects": keys[start:start + 1000]})


def forget_content(s3: S3Settings, path: Path) -> None:
    """Removes the ledger's record of `path`'s content: every run drops the same bytes, as new content."""
    with path.open("rb") as stream:
        s3.client().delete_object(Bucket=s3.bucket, Key=ledger_key(content_sha256(stream)))


def _tokens_open(flow: FlowUnderTest, objects) -> bool:
    """The first 50 tokens of every encrypted column of one customer_info object open with plain Fernet."""
    import pyarrow.parquet as pq
    from cryptography.fernet import Fernet

    from ecommerce_pipeline.policy import load_policy

    candidates = sorted((o for o in objects if o.prefix == "customer_info"), key=lambda o: o.size)
    if not candidates:
        return False
    body = flow.s3.client().get_object(Bucket=flow.s3.bucket, Key=candidates[0].key)["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    fernet = Fernet(flow.settings["FERNET_KEYS"].split(",")[0].strip())
    for column in load_policy().encrypted_columns("customer_info"):
        for token in table.column(column).to_pylist()[:50]:
            if token is not None:
                fernet.decrypt(token.encode() if isinstance(token, str) else token)
    return True


def _summarise(records, objects, listing, dropped, detected, resources, before, after, sources) -> dict:
    rows = {}
    for landed in objects:
        rows[landed.prefix] = rows.get(landed.prefix, 0) + (landed.rows or 0)
    stored = rows.get("order_info", 0) + rows.get("_quarantine", 0)
    last, first = max(listing.values(), default=None), min(listing.values(), default=None)
    seconds = (last.timestamp() - dropped["epoch"]) if last and "epoch" in dropped else float("nan")
    return {
        "seconds": seconds,  # dropped (visible in the inbox) -> LastModified of the last object
        "detected_seconds": detected - dropped.get("monotonic", detected),  # -> the harness saw every row
        "taken_seconds": dropped.get("taken"),  # -> GetFile took it (Minimum File Age, polling)
        "first_object_seconds": (first.timestamp() - dropped["epoch"]) if first and "epoch" in dropped else None,
        "max_rss_bytes": resources["peak_rss_bytes"],
        "resources": resources,
        "records": records,
        "rows_by_prefix": rows,
        "rows_stored": stored,
        "intact_percent": 100 * min(stored, records) / records if records else 0.0,
        "segments_agree": all(rows.get(s, 0) == rows.get("order_info", 0) for s in ("customer_info", "payment_and_delivery_info")),
        "objects": len(listing),
        "bytes_in_lake": sum(o.size for o in objects),
        "profile": profile_difference(before, after),
        "window_clean": window_clean(before, sources),
    }


def window_clean(before: dict[str, dict], sources: set[str]) -> bool:
    return not any(s["tasks"] for name, s in before.items() if name not in sources)


def profile_difference(before: dict[str, dict], after: dict[str, dict]) -> dict[str, dict]:
    out = {}
    for name, now in after.items():
        was = before.get(name, {})
        out[name] = {"type": now["type"], **{key: now[key] - was.get(key, 0) for key in
                                              ("tasks", "nanos", "bytes_read", "bytes_written", "flowfiles_in", "flowfiles_out")}}
    return out


# --- driving it from run_benchmarks.py ----------------------------------------------------


class FlowApproach:
    """Connects once, applies the variant (Chunk Rows, concurrent tasks), warms the flow, restores on close."""

    def __init__(self, chunk_rows: int | None, concurrent_tasks: dict[str, int], warm_up_input: Path | None,
                 build: str | None = None):
        self.flow = FlowUnderTest()
        self.deployed_chunk_rows = self.flow.chunk_rows()
        self.chunk_rows = chunk_rows or self.deployed_chunk_rows
        self.concurrent_tasks = concurrent_tasks
        self.records: dict[Path, int] = {}
        self.variant = variant_key(self.chunk_rows, self.deployed_chunk_rows, concurrent_tasks, build)
        try:
            self.versions = self.flow.versions()
            self.flow.set_chunk_rows(self.chunk_rows)
            for name, tasks in concurrent_tasks.items():
                self.flow.set_concurrent_tasks(name, tasks)
            if warm_up_input is not None:
                say(f"warm-up run (not counted) on {warm_up_input.name}")
                warm = self.run(warm_up_input)
                say(f"warm-up: {warm['seconds']:.2f} s to the last object, {warm['intact_percent']:.1f} % of rows stored")
        except BaseException:
            self.close()
            raise

    def run(self, path: Path, profile: bool = False) -> dict:
        if path not in self.records:
            self.records[path] = records_in(path)
        run = run_flow(self.flow, path, self.records[path], profile)
        run["chunk_rows"] = self.chunk_rows
        run["concurrent_tasks"] = self.concurrent_tasks
        if "failure" in run:
            raise RuntimeError(f"{run['failure']} ({run['rows_stored']:,} of {run['records']:,} rows stored)")
        return run

    def close(self) -> None:
        self.flow.restore()


def variant_key(chunk_rows: int, deployed: int, concurrent_tasks: dict[str, int], build: str | None = None) -> str:
    """'e' for the flow as deployed; 'e[Chunk Rows=100000]', 'e[processors at 5861c31]' etc. for a variant beside it."""
    changes = [build] if build else []
    changes += [f"Chunk Rows={chunk_rows}"] if chunk_rows != deployed else []
    changes += [f"{name} tasks={tasks}" for name, tasks in sorted(concurrent_tasks.items())]
    return f"e[{', '.join(changes)}]" if changes else "e"


def median_resources(runs: list[dict]) -> dict:
    cores = sorted(runs[0]["resources"]["core_busy_percent"])
    return {
        "core_busy_percent": {core: statistics.median(r["resources"]["core_busy_percent"][core] for r in runs) for core in cores},
        "core_steal_percent": ({core: statistics.median(r["resources"]["core_steal_percent"][core] for r in runs) for core in cores}
                               if all("core_steal_percent" in r["resources"] for r in runs) else None),
        "cpu_seconds": {kind: statistics.median(r["resources"]["cpu_seconds"][kind] for r in runs)
                        for kind in runs[0]["resources"]["cpu_seconds"]},
        "peak_rss_max_bytes": max(r["max_rss_bytes"] for r in runs),
        "start_rss_bytes": statistics.median(r["resources"]["start_rss_bytes"] for r in runs),
        "detected_seconds": statistics.median(r["detected_seconds"] for r in runs),
        "taken_seconds": _median_or_none([r.get("taken_seconds") for r in runs]),
        "first_object_seconds": _median_or_none([r.get("first_object_seconds") for r in runs]),
    }


def _median_or_none(values: list) -> float | None:
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def render_profile(profile: dict[str, dict], wall_seconds: float) -> list[str]:
    """The per-processor table, sorted by processing time."""
    total = sum(p["nanos"] for p in profile.values()) or 1
    python = sum(p["nanos"] for p in profile.values() if _short_type(p["type"]) in PYTHON_TYPES)
    out = ["| processor | type | tasks | processing s | % of total | ms per task | read MB | written MB |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, p in sorted(profile.items(), key=lambda item: -item[1]["nanos"]):
        if p["tasks"] <= 0 and p["nanos"] <= 0:  # idle, or a poller whose steady rate cancels out
            continue
        kind = _short_type(p["type"]) + (" (Python)" if _short_type(p["type"]) in PYTHON_TYPES else "")
        tasks = f"{p['tasks']:,}" if p["tasks"] >= 0 else "—"  # a poller whose rate changed: no meaningful count
        per_task = f"{p['nanos'] / 1e6 / p['tasks']:,.1f}" if p["tasks"] > 0 else "—"
        out.append(f"| {name} | {kind} | {tasks} | {p['nanos'] / 1e9:,.2f} | {100 * p['nanos'] / total:.1f} % | "
                   f"{per_task} | {p['bytes_read'] / 1e6:,.1f} | {p['bytes_written'] / 1e6:,.1f} |")
    out.append(f"| **all processors** | | {sum(max(p['tasks'], 0) for p in profile.values()):,} | {total / 1e9:,.2f} | 100 % | | | |")
    out += ["", f"Python processors: {python / 1e9:,.2f} s of {total / 1e9:,.2f} s processing time "
                f"({100 * python / total:.0f} %). Processing time over the run's {wall_seconds:,.2f} s wall time: "
                f"{total / 1e9 / wall_seconds:,.2f} tasks busy on average."]
    return out


def _short_type(kind: str) -> str:
    return (kind or "").rsplit(".", 1)[-1]
