"""Where each NiFi node, ZooKeeper server, MinIO server and SeaweedFS of the stack lives: its directory and ports.

One node (the default) keeps the single-node layout in .stack/nifi. A cluster's node i gets
.stack/cluster/node-i and the ports in .env plus i-1 (HTTPS, cluster protocol, load
balancing); ZooKeeper server j and MinIO server j likewise. Every port is named after its
.env variable, so an error can say which one to change.
"""

from dataclasses import dataclass
from pathlib import Path

from .paths import NIFI_STATE, STATE

CLUSTER_STATE = STATE / "cluster"
ZOOKEEPER_SERVERS = 3  # a quorum that survives losing any one server
NODE_ADDRESS = "localhost"
# MinIO server j listens on MINIO_API_PORT + STEP*(j-1), its console on MINIO_CONSOLE_PORT + STEP*(j-1).
MINIO_PORT_STEP = 10
# SeaweedFS serves gRPC beside each HTTP port, on that port plus this (its own default).
SEAWEEDFS_GRPC_OFFSET = 10000


@dataclass(frozen=True)
class NiFiNode:
    index: int  # 1-based
    count: int  # nodes in the cluster; 1 = no cluster
    https_port: int
    protocol_port: int
    load_balance_port: int

    @property
    def clustered(self) -> bool:
        return self.count > 1

    @property
    def name(self) -> str:
        """The certificate's CN: `localhost` for the single node (as before), `node-i` in a cluster."""
        return f"node-{self.index}" if self.clustered else "localhost"

    @property
    def service(self) -> str:
        return f"nifi-node-{self.index}" if self.clustered else "nifi"

    @property
    def state(self) -> Path:
        return CLUSTER_STATE / self.name if self.clustered else NIFI_STATE

    @property
    def conf(self) -> Path:
        return self.state / "conf"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def extensions(self) -> Path:
        """nifi.nar.library.autoload.directory: where the processors NAR is installed before a start."""
        return self.state / "extensions"

    @property
    def tls(self) -> Path:
        return self.state / "tls"

    @property
    def app_log(self) -> Path:
        return self.logs / "nifi-app.log"

    def ports(self) -> dict[str, int]:
        offset = f" + {self.index - 1}" if self.index > 1 else ""
        ports = {f"NIFI_HTTPS_PORT{offset}": self.https_port}
        if self.clustered:
            ports |= {f"NIFI_CLUSTER_PROTOCOL_PORT{offset}": self.protocol_port,
                      f"NIFI_LOAD_BALANCE_PORT{offset}": self.load_balance_port}
        return ports


@dataclass(frozen=True)
class ZooKeeperServer:
    index: int  # 1-based: its myid
    client_port: int
    peer_port: int
    election_port: int

    @property
    def service(self) -> str:
        return f"zookeeper-{self.index}"

    @property
    def state(self) -> Path:
        return CLUSTER_STATE / self.service

    def ports(self) -> dict[str, int]:
        offset = f" + {self.index - 1}" if self.index > 1 else ""
        return {f"ZOOKEEPER_CLIENT_PORT{offset}": self.client_port, f"ZOOKEEPER_PEER_PORT{offset}": self.peer_port,
                f"ZOOKEEPER_ELECTION_PORT{offset}": self.election_port}


@dataclass(frozen=True)
class MinioServer:
    index: int  # 1-based
    count: int
    api_port: int
    console_port: int

    @property
    def service(self) -> str:
        return f"minio-{self.index}" if self.count > 1 else "minio"

    @property
    def drive(self) -> Path:
        return STATE / (f"minio-{self.index}-data" if self.count > 1 else "minio-data")

    def ports(self) -> dict[str, int]:
        offset = f" + {MINIO_PORT_STEP * (self.index - 1)}" if self.index > 1 else ""
        return {f"MINIO_API_PORT{offset}": self.api_port, f"MINIO_CONSOLE_PORT{offset}": self.console_port}


def nifi_nodes(env: dict[str, str], count: int) -> list[NiFiNode]:
    return [NiFiNode(i, count, int(env["NIFI_HTTPS_PORT"]) + i - 1, int(env["NIFI_CLUSTER_PROTOCOL_PORT"]) + i - 1,
                     int(env["NIFI_LOAD_BALANCE_PORT"]) + i - 1) for i in range(1, count + 1)]


def zookeeper_servers(env: dict[str, str]) -> list[ZooKeeperServer]:
    return [ZooKeeperServer(j, int(env["ZOOKEEPER_CLIENT_PORT"]) + j - 1, int(env["ZOOKEEPER_PEER_PORT"]) + j - 1,
                            int(env["ZOOKEEPER_ELECTION_PORT"]) + j - 1) for j in range(1, ZOOKEEPER_SERVERS + 1)]


def zookeeper_connect_string(env: dict[str, str]) -> str:
    return ",".join(f"{NODE_ADDRESS}:{server.client_port}" for server in zookeeper_servers(env))


def minio_servers(env: dict[str, str], count: int) -> list[MinioServer]:
    return [MinioServer(j, count, int(env["MINIO_API_PORT"]) + MINIO_PORT_STEP * (j - 1),
                        int(env["MINIO_CONSOLE_PORT"]) + MINIO_PORT_STEP * (j - 1)) for j in range(1, count + 1)]


@dataclass(frozen=True)
class SeaweedfsServer:
    """One `weed server`: S3 on the stack's S3 port (MINIO_API_PORT), master, volume and filer on
    SEAWEEDFS_PORT, +1, +2, the gRPC twins of the four on those plus SEAWEEDFS_GRPC_OFFSET."""
    s3_port: int
    master_port: int

    service = "seaweedfs"

    @property
    def volume_port(self) -> int:
        return self.master_port + 1

    @property
    def filer_port(self) -> int:
        return self.master_port + 2

    @property
    def s3_grpc_port(self) -> int:
        return self.grpc(self.master_port + 3)

    @staticmethod
    def grpc(port: int) -> int:
        return port + SEAWEEDFS_GRPC_OFFSET

    def grpc_ports(self) -> dict[str, int]:
        return {"master": self.grpc(self.master_port), "volume": self.grpc(self.volume_port),
                "filer": self.grpc(self.filer_port), "s3": self.s3_grpc_port}

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def state(self) -> Path:
        return STATE / "seaweedfs"

    @property
    def volumes(self) -> Path:
        return self.state / "volumes"

    @property
    def metadata(self) -> Path:
        """The master's and the filer's metadata (the filer's LevelDB: object names, versions, metadata)."""
        return self.state / "metadata"

    @property
    def identities(self) -> Path:
        return self.state / "s3-identities.json"

    def ports(self) -> dict[str, int]:
        http = {"MINIO_API_PORT": self.s3_port, "SEAWEEDFS_PORT": self.master_port,
                "SEAWEEDFS_PORT + 1": self.volume_port, "SEAWEEDFS_PORT + 2": self.filer_port}
        offset = SEAWEEDFS_GRPC_OFFSET
        return http | {f"SEAWEEDFS_PORT + {offset + step}": self.grpc(self.master_port + step) for step in range(4)}


def seaweedfs_server(env: dict[str, str]) -> SeaweedfsServer:
    return SeaweedfsServer(int(env["MINIO_API_PORT"]), int(env["SEAWEEDFS_PORT"]))
