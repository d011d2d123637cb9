"""The stack's S3 store behind one small interface: MinIO (the default) or SeaweedFS.

Everything but the stack reaches the store by its S3 endpoint and the identities in .env, and
asks what it can do (ecommerce_pipeline.store_capabilities), never which one it is. The stack
alone knows how to build, run and stop each, and how each keeps identities: MinIO through its
admin API, SeaweedFS in its identities file. Both serve S3 on MINIO_API_PORT (the stack's S3
port), so S3_ENDPOINT_URL, the flow's parameters and the tools stay the same whichever runs.

Which store `up` starts: the one named (`--store NAME`, or NAME as a service), else S3_STORE in
the environment or .env, else the one this state directory ran last, else MinIO. `up` remembers
it in the state directory; `status`, `logs`, `down` and `restart` act on the store remembered
(and `down` on any store of this state still running). Each store keeps its own data.
"""

from dataclasses import dataclass
from typing import Callable

from ecommerce_pipeline.store_capabilities import Capabilities

from .bucket import capabilities, ensure_bucket
from .layout import seaweedfs_server
from .health import ServiceHealth
from .minio import minio_health, minio_logs, minio_up
from .paths import STATE
from .processes import StackError, running_pid, say
from .seaweedfs import remove_stale_sockets, seaweedfs_health, seaweedfs_logs, seaweedfs_up

DEFAULT_STORE = "minio"
STORE_VARIABLE = "S3_STORE"


@dataclass(frozen=True)
class ObjectStore:
    """One kind of S3 store the stack can run on this machine."""

    name: str
    title: str  # as people write it: MinIO, SeaweedFS
    data: str  # where it keeps the bucket, for messages
    # pid-file names of its processes, in the order `down` stops them (glob patterns)
    process_patterns: tuple[str, ...]
    start: Callable[[dict[str, str], int], str]  # build if needed, start or reuse, identities; returns the endpoint
    health: Callable[[dict[str, str], int], list[ServiceHealth]]  # each server: running, answering
    log_tail: Callable[[dict[str, str], int, int], str]
    after_stop: Callable[[dict[str, str]], None] = lambda env: None
    max_servers: int | None = None  # None: any number of servers (MinIO's distributed mode)

    def processes(self) -> list[str]:
        """Its processes that have a pid file in the state directory (running or not)."""
        found = []
        for pattern in self.process_patterns:
            found += sorted(path.stem for path in STATE.glob(f"{pattern}.pid"))
        return found

    def running(self) -> bool:
        return any(running_pid(process) for process in self.processes())

    def up(self, env: dict[str, str], servers: int = 1) -> Capabilities:
        """Started and healthy, with the bucket, the three least-privilege identities, and probed as the flow."""
        if self.max_servers is not None and servers > self.max_servers:
            raise StackError(f"{self.name} runs as {self.max_servers} server here; --minio-servers is MinIO's")
        endpoint = self.start(env, servers)
        ensure_bucket(env, endpoint, self.name)
        found = capabilities(env, endpoint, self.name)
        say(f"{self.name}: healthy at {endpoint} ({found.behaviour}: the ingest ledger can rely on it)")
        return found


def _seaweedfs_after_stop(env: dict[str, str]) -> None:
    removed = remove_stale_sockets(seaweedfs_server(env))
    if removed:
        say(f"seaweedfs: removed {len(removed)} sockets it left ({', '.join(str(p) for p in removed)})")


STORES = {
    "minio": ObjectStore("minio", "MinIO", ".stack/minio-data/", ("minio", "minio-*"), minio_up, minio_health,
                         minio_logs),
    "seaweedfs": ObjectStore("seaweedfs", "SeaweedFS", ".stack/seaweedfs/", ("seaweedfs",),
                             lambda env, servers: seaweedfs_up(env),
                             lambda env, servers: seaweedfs_health(env),
                             lambda env, servers, lines: seaweedfs_logs(env, lines),
                             after_stop=_seaweedfs_after_stop, max_servers=1),
}


def choose_store(named: str | None, env: dict[str, str], remembered: str | None) -> ObjectStore:
    """The store `up` starts: named on the command line, else S3_STORE, else the one last run here, else MinIO."""
    name = named or env.get(STORE_VARIABLE, "").strip().lower() or remembered or DEFAULT_STORE
    if name not in STORES:
        raise StackError(f"{STORE_VARIABLE}={name!r} is not a store the stack runs (choose from {', '.join(STORES)})")
    return STORES[name]


def running_store() -> ObjectStore:
    """The store of this stack that runs (one at a time), else the default."""
    return next((store for store in STORES.values() if store.running()), STORES[DEFAULT_STORE])
