"""Deploying into a NiFi cluster: waiting for every node, riding out the 5xx of nodes still loading,
sizing concurrent tasks to the nodes, and the per-node part of the status report.

A single node answers 404 to the cluster endpoint; every function here then treats it as a
cluster of one, so the same deploy serves both.
"""

import time

import nipyapi
from nipyapi.nifi import ControllerApi, FlowApi, SystemDiagnosticsApi
from nipyapi.nifi.rest import ApiException

from ecommerce_pipeline.waiting import wait_until

from .connection import DeployError

CLUSTER_WAIT_SECONDS = 600
TRANSIENT_WAIT_SECONDS = 120
CONCURRENT_TASKS_SETTING = "NIFI_CONCURRENT_TASKS"


def say(message: str) -> None:
    print(f"[deploy] {message}", flush=True)


def cluster_members() -> list | None:
    """The nodes (address, api_port, status, roles) as the coordinator sees them; None for a single node."""
    try:
        return ControllerApi().get_cluster().cluster.nodes
    except ApiException as error:
        if error.status in (404, 409):  # "Only a node connected to a cluster can process the request."
            return None
        raise


def retry_transient(call, what: str):
    """`call()`, retried while NiFi answers 5xx: a cluster merging the answers of nodes that have
    and have not yet loaded a Python processor fails with HTTP 500 (an NPE in the merger) for seconds."""
    deadline = time.monotonic() + TRANSIENT_WAIT_SECONDS
    while True:
        try:
            return call()
        except ApiException as error:
            if error.status < 500 or time.monotonic() > deadline:
                raise DeployError(f"{what}: HTTP {error.status} {' '.join(str(error.body).split())[:300]}") from None
            time.sleep(2)


def group_processors(group_id: str) -> list:
    """The group's processors, as every node has them (retried through a cluster's transient 5xx)."""
    return retry_transient(lambda: nipyapi.nifi.ProcessGroupsApi().get_processors(group_id).processors,
                           "listing the processors")


def wait_for_every_node() -> int:
    """Waits until every node of the cluster is CONNECTED; returns the node count (1 without a cluster)."""
    waiting: list[str] = []

    def node_count() -> int | None:
        members = retry_transient(cluster_members, "reading the cluster")
        if members is None:
            return 1
        waiting[:] = [f"{m.address}:{m.api_port} {m.status.lower()}" for m in members if m.status != "CONNECTED"]
        return None if waiting else len(members)

    return wait_until(node_count, "every node to connect", CLUSTER_WAIT_SECONDS, every=2, report=say,
                      pending=lambda: ", ".join(waiting), error=DeployError)


def node_cores() -> int:
    """Cores of the smallest node: concurrency is sized so that node is not oversubscribed."""
    diagnostics = retry_transient(lambda: SystemDiagnosticsApi().get_system_diagnostics(nodewise=True),
                                  "reading system diagnostics").system_diagnostics
    snapshots = [node.snapshot for node in diagnostics.node_snapshots or []] or [diagnostics.aggregate_snapshot]
    return min(snapshot.available_processors for snapshot in snapshots)


def concurrent_tasks(cores: int, setting: str | None) -> tuple[int, int]:
    """(tasks of each Java processor, tasks of each Python processor) on a node.

    Java processors get one task per core (NIFI_CONCURRENT_TASKS overrides). Python processors get
    half as many, at least one: each task of a Python processor is its own Python process (a few
    hundred MB, holding a chunk) and the JVM needs the other cores to feed them.
    """
    if setting:
        if not setting.isdigit() or int(setting) < 1:
            raise DeployError(f"{CONCURRENT_TASKS_SETTING} must be a whole number of tasks >= 1, not {setting!r}")
        java = int(setting)
    else:
        java = max(1, cores)
    return java, max(1, java // 2)


def size_concurrency(group_id: str, tasks: tuple[int, int]) -> None:
    """Sets each processor's concurrent tasks; sources that run on the primary node only keep one
    (a listing must run once). Running processors are stopped first (NiFi refuses the change)."""
    java, python = tasks
    changes = []
    for processor in group_processors(group_id):
        component = processor.component
        if component.config.execution_node == "PRIMARY":
            wanted = 1
        else:
            wanted = python if component.bundle.artifact == "python-extensions" else java
        if component.config.concurrently_schedulable_task_count != wanted:
            changes.append((processor, wanted))
    if not changes:
        return
    if any(processor.component.state == "RUNNING" for processor, _ in changes):
        nipyapi.canvas.schedule_process_group(group_id, False)
    for processor, wanted in changes:
        current = nipyapi.canvas.get_processor(processor.id, "id")
        nipyapi.canvas.update_processor(
            current, nipyapi.nifi.ProcessorConfigDTO(concurrently_schedulable_task_count=wanted))
    say(f"concurrent tasks: {java} per Java processor, {python} per Python processor, 1 per primary-node source")


def node_report(group_id: str) -> list[str]:
    """One line per node: connection state, roles, FlowFiles queued and processed there."""
    members = retry_transient(cluster_members, "reading the cluster")
    if members is None:
        return []
    status = retry_transient(lambda: FlowApi().get_process_group_status(group_id, nodewise=True),
                             "reading the group's status per node").process_group_status
    by_node = {(n.address, n.api_port): n.status_snapshot for n in status.node_snapshots or []}
    lines = []
    for member in sorted(members, key=lambda m: m.api_port):
        snapshot = by_node.get((member.address, member.api_port))
        roles = ", ".join(role.lower() for role in member.roles or []) or "-"
        counts = (f"queued {snapshot.flow_files_queued}, in {snapshot.flow_files_in}, out {snapshot.flow_files_out}"
                  if snapshot else "no status")
        lines.append(f"node {member.address}:{member.api_port} {member.status.lower():<12} {roles:<36} {counts}")
    return lines
