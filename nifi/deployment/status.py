"""What `deploy_flow.py status` reports: each processor's counters, queues, bulletins, and what makes the flow unhealthy.

The flow is unhealthy (exit 1) when any of these holds, each named in the report:
- a processor is not running (stopped, invalid, disabled);
- a processor raised an ERROR bulletin within NiFi's bulletin window (the last 5 minutes:
  NiFi keeps no older ones), e.g. SplitRecord failing a file, a Python processor's exception;
- a queue is at its back-pressure threshold (FlowFiles or bytes), so its source is held back;
  a connection whose threshold is a single FlowFile is a gate, full by design (the inbox
  listing waits there until the fetch has taken each file) and is left out;
- FlowFiles wait penalised in a queue: a processor failed them and they loop back to be
  retried (an S3 outage, a ledger that does not answer), so nothing moves them on;
- in a cluster, a node is not CONNECTED.
Warnings (a rejected export's WARN bulletin) are listed but do not make the flow unhealthy:
the flow stores such a file in quarantine, as designed.
"""

import json
import time
from dataclasses import asdict, dataclass, field

import nipyapi
from nipyapi.nifi import FlowApi, FlowFileQueuesApi, ProcessGroupsApi

from .cluster import node_report, retry_transient

LISTING_TIMEOUT_SECONDS = 30
GATE_THRESHOLD = 1  # a back-pressure object threshold of 1 makes a connection a one-at-a-time gate


@dataclass(frozen=True)
class ProcessorStatus:
    name: str
    run_status: str  # Running, Stopped, Invalid, Disabled, Validating
    flow_files_in: int
    flow_files_out: int
    bytes_read: int
    bytes_written: int
    active_threads: int
    queued: int  # FlowFiles waiting in the queues into it


@dataclass(frozen=True)
class QueueStatus:
    name: str  # "source -> destination [relationships]"
    flow_files: int
    bytes: int
    percent_of_count_threshold: int
    percent_of_size_threshold: int
    count_threshold: int
    penalized: int = 0  # FlowFiles waiting out a penalty (failed, to be retried), among the first 100 listed

    @property
    def at_back_pressure(self) -> bool:
        if self.count_threshold <= GATE_THRESHOLD:
            return False
        return max(self.percent_of_count_threshold, self.percent_of_size_threshold) >= 100


@dataclass(frozen=True)
class Bulletin:
    timestamp: str
    level: str  # INFO, WARN, ERROR
    source: str
    message: str
    node: str = ""


@dataclass
class GroupStatus:
    processors: list[ProcessorStatus]
    queues: list[QueueStatus]
    bulletins: list[Bulletin]
    queued_flow_files: int = 0
    queued_size: str = ""
    nodes: list[str] = field(default_factory=list)  # node_report's lines; each has " connected " when connected


def problems(status: GroupStatus) -> list[str]:
    """Why the flow is unhealthy, one line per finding; empty when it is healthy."""
    found = [f"processor {p.name!r} is {p.run_status.lower()}, not running"
             for p in status.processors if p.run_status != "Running"]
    errors: dict[str, list[Bulletin]] = {}
    for bulletin in status.bulletins:
        if bulletin.level == "ERROR":
            errors.setdefault(bulletin.source, []).append(bulletin)
    found += [f"processor {source!r} raised {len(items)} ERROR bulletin(s) in the last 5 minutes, the latest: "
              f"{_one_line(items[-1].message)[:200]}" for source, items in errors.items()]
    found += [f"queue {q.name} is at back pressure ({q.flow_files} FlowFiles, {_size(q.bytes)}; "
              f"{max(q.percent_of_count_threshold, q.percent_of_size_threshold)} % of its threshold)"
              for q in status.queues if q.at_back_pressure]
    found += [f"queue {q.name} holds {q.penalized} penalised FlowFile(s): failed and looping back to be retried"
              for q in status.queues if q.penalized]
    found += [f"not connected: {line}" for line in status.nodes if " connected " not in line]
    return found


def render(status: GroupStatus, found: list[str], as_json: bool) -> str:
    if as_json:
        return json.dumps({"healthy": not found, "problems": found,
                           "processors": [asdict(p) for p in status.processors],
                           "queues": [{**asdict(q), "at_back_pressure": q.at_back_pressure} for q in status.queues],
                           "bulletins": [asdict(b) for b in status.bulletins],
                           "queued_flow_files": status.queued_flow_files, "nodes": status.nodes}, indent=2)
    lines = [f"{'processor':<34} {'state':<9} {'in':>7} {'out':>7} {'read':>9} {'written':>9} {'threads':>7} {'queued':>7}"]
    lines += [f"{p.name:<34} {p.run_status:<9} {p.flow_files_in:>7} {p.flow_files_out:>7} {_size(p.bytes_read):>9} "
              f"{_size(p.bytes_written):>9} {p.active_threads:>7} {p.queued:>7}" for p in status.processors]
    lines.append(f"queued in the group: {status.queued_flow_files} FlowFiles ({status.queued_size})")
    lines += status.nodes
    lines += [f"bulletin {b.timestamp} {b.level} {b.source}{f' on {b.node}' if b.node else ''}: {_one_line(b.message)}"
              for b in status.bulletins] or ["no bulletins"]
    lines += [f"unhealthy: {problem}" for problem in found] or ["healthy: every processor running, no ERROR bulletin, "
                                                                "no queue at back pressure, nothing penalised"]
    return "\n".join(lines)


def group_status(group_id: str) -> GroupStatus:
    """The group as NiFi reports it now: processor and connection snapshots, penalised FlowFiles, bulletins, nodes."""
    snapshot = retry_transient(lambda: FlowApi().get_process_group_status(group_id), "reading the group's status") \
        .process_group_status.aggregate_snapshot
    connections = {c.id: c.component for c in retry_transient(
        lambda: ProcessGroupsApi().get_connections(group_id).connections, "listing the connections")}
    queues, queued_into = [], {}
    for entity in snapshot.connection_status_snapshots or []:
        status = entity.connection_status_snapshot
        queued_into[status.destination_name] = queued_into.get(status.destination_name, 0) + status.flow_files_queued
        component = connections.get(status.id)
        relationships = ",".join(sorted(component.selected_relationships or [])) if component else ""
        queues.append(QueueStatus(
            f"{status.source_name} -> {status.destination_name}" + (f" [{relationships}]" if relationships else ""),
            status.flow_files_queued, status.bytes_queued, status.percent_use_count or 0,
            status.percent_use_bytes or 0, int(component.back_pressure_object_threshold or 0) if component else 0,
            penalized_flow_files(status.id) if status.flow_files_queued else 0))
    processors = [ProcessorStatus(s.name, s.run_status, s.flow_files_in, s.flow_files_out, s.bytes_read,
                                  s.bytes_written, s.active_thread_count, queued_into.get(s.name, 0))
                  for s in sorted((e.processor_status_snapshot for e in snapshot.processor_status_snapshots or []),
                                  key=lambda s: s.name)]
    bulletins = [Bulletin(str(b.timestamp), b.level, b.source_name, b.message or "", b.node_address or "")
                 for b in nipyapi.bulletins.get_bulletin_board(pg_id=group_id) or []]
    return GroupStatus(processors, sorted(queues, key=lambda q: q.name), bulletins, snapshot.flow_files_queued,
                       snapshot.queued_size, node_report(group_id))


def penalized_flow_files(connection_id: str) -> int:
    """Penalised FlowFiles among the first 100 of a queue (NiFi lists at most 100), from a listing request."""
    api = FlowFileQueuesApi()
    request = api.create_flow_file_listing(connection_id).listing_request
    try:
        deadline = time.monotonic() + LISTING_TIMEOUT_SECONDS
        while not request.finished and time.monotonic() < deadline:
            time.sleep(0.2)
            request = api.get_listing_request(connection_id, request.id).listing_request
        return sum(1 for flow_file in request.flow_file_summaries or [] if flow_file.penalized)
    finally:
        api.delete_listing_request(connection_id, request.id)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024:
            return f"{count:.0f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"
