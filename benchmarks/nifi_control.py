"""The deployed flow under measurement, through NiFi's REST API (nipyapi): status, waits, and the
settings a variant changes (the Chunk Rows parameter, a processor's concurrent tasks), restored after.

Needs the native stack and the flow: `nifi/stack up && python3 deploy_flow.py`.
"""

import subprocess
import sys
from pathlib import Path

import nipyapi
import psutil

from ecommerce_pipeline.settings import S3Settings, env_file, load_settings
from ecommerce_pipeline.waiting import wait_until
from nifi.deployment.connection import connect
from nifi.deployment.flow_group import find_group, flow_definition, group_name
from nifi.deployment.flow_settings import PARAMETER_CONTEXT
from nifi.provisioning.paths import STATE
from nifi.provisioning.processes import running_pid
from nifi.provisioning.stores import STORES, running_store

from .inputs import REPO

CHUNK_ROWS_PARAMETER = "Chunk Rows"
WINDOW_SECONDS = 300  # NiFi's processor status sums the last 5 minutes (301 one-second bins)


def say(message: str) -> None:
    print(f"  [e] {message}", flush=True)


class FlowUnderTest:
    """The deployed flow: its process group, status, the Chunk Rows parameter, concurrent tasks."""

    def __init__(self):
        self.settings = load_settings(env_file(REPO))
        connect(self.settings)
        definition = flow_definition()[1]
        name = group_name(definition)
        contents = definition["flowContents"]
        # processors nothing flows into (ListFile, the landing-bucket source): they run on their own schedule
        self.sources = {p["name"] for p in contents["processors"]} - {c["destination"]["name"] for c in contents["connections"]}
        group = find_group(name)
        if group is None:
            raise RuntimeError(f"the flow {name!r} is not deployed: run `nifi/stack up && python3 deploy_flow.py`")
        self.group_id = group.id
        self.nifi_pgid = running_pid("nifi")
        if self.nifi_pgid is None:
            raise RuntimeError("no NiFi process in .stack/nifi.pid: start it with `nifi/stack up`")
        self.store = running_store()
        self.s3 = S3Settings.from_settings(self.settings)
        self.inbox = Path(self.settings.get("INBOX_DIR") or REPO / "data" / "inbox").resolve()
        self._restore: list = []

    # status

    def aggregate_status(self):
        """NiFi's aggregate status snapshot of the flow's process group."""
        api = nipyapi.nifi.FlowApi()
        return api.get_process_group_status(self.group_id).process_group_status.aggregate_snapshot

    def snapshot(self) -> dict[str, dict]:
        """Each processor's status: NiFi's sums over the last 5 minutes (there are no lifetime counters)."""
        out = {}
        for entity in self.aggregate_status().processor_status_snapshots or []:
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
        busy: list[str] = []

        def idle() -> bool:
            aggregate = self.aggregate_status()
            states = {e.processor_status_snapshot.name: e.processor_status_snapshot.run_status
                      for e in aggregate.processor_status_snapshots or []}
            stopped = sorted(name for name, state in states.items() if state != "Running")
            busy[:] = [f"{aggregate.flow_files_queued} FlowFiles queued, {aggregate.active_thread_count} threads "
                       f"active, not running: {stopped}"]
            return not aggregate.flow_files_queued and not aggregate.active_thread_count and not stopped

        wait_until(idle, "the flow to be idle", timeout, every=2, report=say, pending=lambda: busy[0],
                   error=RuntimeError)

    def wait_quiet_window(self) -> None:
        """Waits until NiFi's 5-minute status window holds no task of the flow but its sources' own
        polling (the inbox, the landing bucket), so that the next run's before/after difference is that run alone."""
        busy: list[str] = []

        def quiet() -> bool:
            busy[:] = sorted(name for name, s in self.snapshot().items() if name not in self.sources and s["tasks"])
            return not busy

        try:
            wait_until(quiet, "NiFi's 5-minute status window to empty before the profiled run", WINDOW_SECONDS + 30,
                       every=5, progress_every=30, report=say, pending=lambda: ", ".join(busy))
        except TimeoutError:
            say(f"status window still holds tasks of {busy}; profiling anyway")

    def versions(self) -> dict:
        about = nipyapi.nifi.SystemDiagnosticsApi().get_system_diagnostics().system_diagnostics.aggregate_snapshot
        info = about.version_info
        python = None
        properties = STATE / "nifi" / "conf" / "nifi.properties"
        if properties.exists():
            for line in properties.read_text().splitlines():
                if line.startswith("nifi.python.command="):
                    command = line.split("=", 1)[1].strip()
                    python = subprocess.run([command, "--version"], capture_output=True, text=True).stdout.split()[-1]
        return {"nifi": info.ni_fi_version, "java": f"{info.java_vendor} {info.java_version}", "nifi_python": python,
                "stores": {self.store.name: self.store_version()}, "max_heap": about.max_heap}

    # the S3 store

    @property
    def store_pgid(self) -> int | None:
        """The store's (first) server process: its process group is what the CPU figures count as the store."""
        return next(filter(None, map(running_pid, self.store.processes())), None)

    def store_version(self) -> str | None:
        """E.g. `SeaweedFS v0.0.0-2026…`: the stack's build cache is keyed by the module version."""
        pid = self.store_pgid
        return f"{self.store.title} {Path(psutil.Process(pid).exe()).parent.name}" if pid else None

    def use_store(self, name: str) -> bool:
        """The stack runs the store `name` (the other one stopped, NiFi kept); True if it had to switch.
        Both serve the same S3 port with the same identities, so the deployed flow writes to it unchanged."""
        if self.store.name == name and self.store.running():
            return False
        say(f"switching the stack's S3 store from {self.store.name} to {name} (NiFi keeps running)")
        for command in (["down", self.store.name], ["up", name]):
            result = subprocess.run([sys.executable, str(REPO / "nifi" / "stack"), *command], capture_output=True,
                                    text=True)
            if result.returncode != 0:
                raise RuntimeError(f"nifi/stack {' '.join(command)} failed: {result.stderr.strip()[-2000:]}")
        self.store = STORES[name]
        return True

    # configuration

    def chunk_rows(self) -> int:
        context = self._context()
        return int(next(e.parameter.value for e in context.component.parameters if e.parameter.name == CHUNK_ROWS_PARAMETER))

    def _context(self):
        return nipyapi.parameters.get_parameter_context(PARAMETER_CONTEXT, identifier_type="name", greedy=False)

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
        context.component.parameters = [nipyapi.parameters.prepare_parameter(CHUNK_ROWS_PARAMETER, str(rows), description)]
        say(f"setting the parameter {CHUNK_ROWS_PARAMETER} to {rows:,}")
        nipyapi.parameters.update_parameter_context(context)

    def set_concurrent_tasks(self, name: str, tasks: int) -> None:
        """Sets a processor's concurrent tasks (stopping and restarting it); restored by restore()."""
        processor = self._processor(name)
        previous = processor.component.config.concurrently_schedulable_task_count
        if previous == tasks:
            return
        self._put_concurrent_tasks(name, tasks)
        self._restore.append(lambda: self._put_concurrent_tasks(name, previous))

    def _processor(self, name: str):
        matches = [p for p in nipyapi.canvas.list_all_processors(self.group_id) if p.component.name == name]
        if len(matches) != 1:
            raise RuntimeError(f"{len(matches)} processors named {name!r} in the flow")
        return matches[0]

    def _put_concurrent_tasks(self, name: str, tasks: int) -> None:
        say(f"setting the concurrent tasks of {name!r} to {tasks}")
        canvas = nipyapi.canvas
        canvas.schedule_processor(self._processor(name), False)
        canvas.update_processor(self._processor(name), nipyapi.nifi.ProcessorConfigDTO(concurrently_schedulable_task_count=tasks))
        canvas.schedule_processor(self._processor(name), True)

    def restore(self) -> None:
        while self._restore:
            self._restore.pop()()
