"""What `deploy_flow.py status` prints: each processor's counters, queues and bulletins."""

import nipyapi

from .cluster import node_report


def group_report(group_id: str) -> tuple[str, bool]:
    """A table of the group's processors and queues, and whether every processor is running.

    Bulletins are listed but do not make the group unhealthy: a rejected input file raises
    one (SplitRecord reports it as an error) while the flow stores it in quarantine.
    """
    snapshot = nipyapi.nifi.FlowApi().get_process_group_status(group_id).process_group_status.aggregate_snapshot
    lines = [f"{'processor':<34} {'state':<9} {'in':>7} {'out':>7} {'read':>9} {'written':>9} {'threads':>7} {'queued':>7}"]
    queued_into = {}
    for connection in snapshot.connection_status_snapshots or []:
        status = connection.connection_status_snapshot
        queued_into[status.destination_name] = queued_into.get(status.destination_name, 0) + status.flow_files_queued
    healthy = True
    for entity in sorted(snapshot.processor_status_snapshots or [], key=lambda e: e.processor_status_snapshot.name):
        status = entity.processor_status_snapshot
        healthy &= status.run_status == "Running"
        lines.append(
            f"{status.name:<34} {status.run_status:<9} {status.flow_files_in:>7} {status.flow_files_out:>7} "
            f"{_size(status.bytes_read):>9} {_size(status.bytes_written):>9} {status.active_thread_count:>7} "
            f"{queued_into.get(status.name, 0):>7}"
        )
    lines.append(f"queued in the group: {snapshot.flow_files_queued} FlowFiles ({snapshot.queued_size})")
    nodes = node_report(group_id)
    healthy &= all(" connected " in line for line in nodes)
    lines += nodes
    bulletins = nipyapi.bulletins.get_bulletin_board(pg_id=group_id) or []
    for item in bulletins:
        lines.append(f"bulletin {item.timestamp} {item.level} {item.source_name}: {' '.join(item.message.split())}")
    if not bulletins:
        lines.append("no bulletins")
    return "\n".join(lines), healthy


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024:
            return f"{count:.0f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"
