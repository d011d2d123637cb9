"""The cluster's ZooKeeper quorum: three standalone servers beside the NiFi nodes.

Standalone rather than embedded in NiFi nodes: a quorum of three exists whatever the node
count (two nodes still need three servers), and killing a NiFi node does not also take down
a ZooKeeper server. The servers run the ZooKeeper that NiFi itself ships (its framework NAR
bundles the server NiFi can embed, 3.9.x), so nothing else is downloaded and client and
server versions match.
"""

import socket
import string
import zipfile
from pathlib import Path

from .health import ServiceHealth
from .layout import NODE_ADDRESS, ZooKeeperServer, zookeeper_servers
from .paths import CACHE, REPO
from .processes import StackError, not_running, running_pid, say, spawn, wait_until

TEMPLATES = REPO / "nifi" / "zookeeper"
MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
HEAP = "128m"
START_TIMEOUT_SECONDS = 120
BUNDLED = "/bundled-dependencies/"  # under META-INF/ in NiFi's own NARs


class ZooKeeperTemplate(string.Template):
    delimiter = "@"


def zookeeper_classpath(home: Path) -> str:
    """The framework NAR's bundled jars (ZooKeeper and what it needs), unpacked once into the cache,
    with NiFi's lib/ for logging."""
    nars = sorted((home / "lib").glob("nifi-framework-nar-*.nar"))
    if not nars:
        raise StackError(f"no nifi-framework-nar in {home / 'lib'}: the NiFi home is incomplete")
    target = CACHE / f"zookeeper-from-{nars[0].stem}"
    marker = target / ".unpacked"
    if not marker.exists():
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(nars[0]) as nar:
            for entry in nar.namelist():
                if BUNDLED in entry and entry.endswith(".jar"):
                    (target / Path(entry).name).write_bytes(nar.read(entry))
        if not list(target.glob("zookeeper-[0-9]*.jar")):
            raise StackError(f"{nars[0].name} bundles no ZooKeeper server jar")
        marker.write_text(nars[0].name)
    return f"{target}/*:{home / 'lib'}/*"


def zookeeper_up(env: dict[str, str], home: Path, java_home: Path) -> None:
    """Starts the servers that are not running and waits until each leads or follows."""
    servers = zookeeper_servers(env)
    to_start = not_running(servers, lambda server: f"{NODE_ADDRESS}:{server.client_port}")
    classpath = zookeeper_classpath(home) if to_start else ""
    for server in to_start:
        config = _render(server, servers)
        say(f"{server.service}: starting on {NODE_ADDRESS}:{server.client_port}")
        spawn(server.service, [
            str(java_home / "bin" / "java"), f"-Xms{HEAP}", f"-Xmx{HEAP}", "--class-path", classpath,
            f"-Dlogback.configurationFile={TEMPLATES / 'logback.xml'}", MAIN_CLASS, str(config),
        ], {}, cwd=server.state)
    for server in servers:
        wait_until(server.service, lambda: server_mode(server) in ("leader", "follower"), START_TIMEOUT_SECONDS)
    say(f"zookeeper: quorum of {len(servers)} serving ({', '.join(f'{s.service} {server_mode(s)}' for s in servers)})")


def _render(server: ZooKeeperServer, servers: list[ZooKeeperServer]) -> Path:
    data = server.state / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "myid").write_text(f"{server.index}\n")
    config = server.state / "zoo.cfg"
    config.write_text(ZooKeeperTemplate((TEMPLATES / "zoo.cfg").read_text()).substitute(
        data_dir=str(data), client_port=server.client_port, address=NODE_ADDRESS,
        servers="\n".join(f"server.{peer.index}={NODE_ADDRESS}:{peer.peer_port}:{peer.election_port}"
                          for peer in servers)))
    return config


def server_mode(server: ZooKeeperServer) -> str:
    """`leader`, `follower`, or why not: from ZooKeeper's `srvr` four-letter command."""
    try:
        with socket.create_connection((NODE_ADDRESS, server.client_port), timeout=2) as sock:
            sock.sendall(b"srvr")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError:
        return "not answering"
    for line in answer.decode(errors="replace").splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return "not serving (no quorum)"


def zookeeper_health(env: dict[str, str]) -> list[ServiceHealth]:
    """Each server: running, and healthy while it leads or follows (a quorum serves)."""
    found = []
    for server in zookeeper_servers(env):
        running = running_pid(server.service) is not None
        mode = server_mode(server) if running else ""
        found.append(ServiceHealth(server.service, running, mode in ("leader", "follower"), mode))
    return found
