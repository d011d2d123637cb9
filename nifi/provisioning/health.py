"""What `nifi/stack status` reports: one entry per service, node and server, and whether all of them answer.

A service counts as healthy only when it answers the way its clients need: MinIO its health
check (in distributed mode the erasure set's quorum), a ZooKeeper server as leader or
follower, a NiFi node an authenticated call (in a cluster: CONNECTED). Running is not
enough: a JVM that does not answer yet, or a node out of the cluster, is not healthy.
"""

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ServiceHealth:
    service: str  # e.g. minio, minio-2, zookeeper-1, nifi, nifi-node-3
    running: bool  # its process lives
    healthy: bool  # it answers as its clients need
    detail: str = ""  # e.g. "healthy", "leader", "connected (primary node)", "not answering logins yet"
    url: str = ""

    def line(self) -> str:
        state = "running" if self.running else "stopped"
        return (f"{self.service}: {state}{', ' + self.detail if self.detail else ''}"
                f"{f' ({self.url})' if self.url else ''}")


def all_healthy(services: list[ServiceHealth]) -> bool:
    return bool(services) and all(service.healthy for service in services)


def render(services: list[ServiceHealth], topology: dict[str, int], as_json: bool) -> str:
    """Lines for people, or one JSON document for scripts: {"healthy", "topology", "services": [...]}."""
    if as_json:
        return json.dumps({"healthy": all_healthy(services), "topology": topology,
                           "services": [asdict(service) for service in services]}, indent=2)
    unhealthy = [service.service for service in services if not service.healthy]
    summary = (f"not healthy: {', '.join(unhealthy)}" if unhealthy
               else f"healthy: all {len(services)} services answer")
    return "\n".join([*(service.line() for service in services), summary])
