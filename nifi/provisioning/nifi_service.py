"""NiFi itself, one node or a cluster: started the way NiFi's bootstrap would start it, watched, stopped.

The bootstrap (nifi.sh, RunNiFi) is not published, so the JVM is launched directly with the
main class, classpath and system properties the bootstrap passes; `stop` sends SIGTERM,
which NiFi handles as an orderly shutdown, and its Python children exit with it. A JVM
killed alone leaves its Python children running: `up` ends them before starting NiFi.
A cluster (`--nodes N`, N > 1) is N such JVMs on loopback, each with its own directory,
ports and certificate, coordinated through the stack's three-server ZooKeeper quorum.
"""

import socket
import sys
import time
from pathlib import Path

from .health import ServiceHealth
from .java import find_java, java_major
from .layout import NiFiNode, nifi_nodes
from .metrics_access import ensure_metrics_reader
from .nifi_api import NiFiApi, NiFiApiError, grant
from .nifi_assembly import NIFI_VERSION, assemble_nifi
from .nifi_conf import HttpsListener, render_conf
from .paths import NIFI_CA_CERT
from .processes import StackError, not_running, running_pid, say, spawn, tail, wait_until
from .processors_nar import build_processors_nar, install_processors_nar, is_installed, python_version
from .tls import ensure_tls, node_identity
from .zookeeper import zookeeper_up

SINGLE_NODE_HEAP = ("1g", "2g")
CLUSTER_NODE_HEAP = ("512m", "1g")  # N nodes share one machine's memory on loopback
START_TIMEOUT_SECONDS = 300
CLUSTER_FORM_TIMEOUT_SECONDS = 300

# What the initial admin needs beyond the global policies NiFi grants it on an empty flow:
# building, running and watching flows in the root process group, parameters, provenance.
ROOT_GROUP_POLICIES = (
    ("read", "/process-groups/{root}"), ("write", "/process-groups/{root}"),
    ("read", "/data/process-groups/{root}"), ("write", "/data/process-groups/{root}"),
    ("write", "/operation/process-groups/{root}"),
    ("read", "/provenance-data/process-groups/{root}"),
)
NODE_DATA_POLICIES = (
    ("read", "/data/process-groups/{root}"), ("write", "/data/process-groups/{root}"),
    ("read", "/provenance-data/process-groups/{root}"),
)
GLOBAL_POLICIES = (
    ("read", "/parameter-contexts"), ("write", "/parameter-contexts"),
    ("read", "/provenance"), ("read", "/system"), ("read", "/counters"), ("write", "/counters"),
)


def nifi_up(env: dict[str, str], count: int = 1) -> None:
    """Starts the nodes that are not running (a running one is reused) and waits for all of them;
    a cluster also until every node is CONNECTED."""
    nodes = nifi_nodes(env, count)
    nar = build_processors_nar(python_version(sys.executable))
    to_start = not_running(nodes, lambda node: f"https://localhost:{node.https_port}/nifi")
    if any(not is_installed(nar, node.extensions) for node in nodes if node not in to_start):
        say("nifi: the processors changed since NiFi started: `nifi/stack restart nifi` loads them")
    java_home = find_java()
    say(f"nifi: Java {java_major(java_home)} at {java_home}")
    home = assemble_nifi(java_home)
    if count > 1:
        zookeeper_up(env, home, java_home)
    started = time.monotonic()
    for node in to_start:
        _start_node(env, java_home, home, nar, node, nodes, HttpsListener.loopback(node, nodes))
    apis = [_wait_for_login(env, node) for node in nodes]
    if to_start:
        say(f"nifi: {len(nodes)} node(s) answered an authenticated call after {time.monotonic() - started:.0f}s")
    if count > 1:
        _wait_for_cluster(apis[0], nodes)
        say(f"nifi: cluster of {count} formed {time.monotonic() - started:.0f}s after the start")
    grant_admin_policies(apis[0], nodes)
    ensure_metrics_reader(apis[0])
    say(f"nifi: healthy (NiFi {apis[0].get('/flow/about')['about']['version']}; CA certificate {NIFI_CA_CERT})")


def start_nifi(env: dict[str, str], java_home: Path, home: Path, nar: Path, listener: HttpsListener,
               dns_names: tuple[str, ...] = ()) -> NiFiApi:
    """One NiFi on `listener` (the image's entrypoint): started the way `nifi_up` starts a node,
    then logged in and the admin's policies granted."""
    say(f"nifi: Java {java_major(java_home)} at {java_home}")
    node = NiFiNode(1, 1, listener.port, 0, 0)
    started = time.monotonic()
    _start_node(env, java_home, home, nar, node, [node], listener, dns_names)
    api = _wait_for_login(env, node)
    say(f"nifi: answered an authenticated call after {time.monotonic() - started:.0f}s")
    grant_admin_policies(api, [node])
    ensure_metrics_reader(api)
    return api


def _start_node(env: dict[str, str], java_home: Path, home: Path, nar: Path, node: NiFiNode,
                cluster: list[NiFiNode], listener: HttpsListener, dns_names: tuple[str, ...] = ()) -> None:
    """TLS and conf rendered, the processors NAR installed, the JVM started: natively and in the image alike."""
    tls = ensure_tls(node.tls, NIFI_CA_CERT, java_home, node.name, dns_names)
    node.logs.mkdir(parents=True, exist_ok=True)
    render_conf(home, env, tls, node, cluster, listener)
    install_processors_nar(nar, node.extensions)
    say(f"{node.service}: starting NiFi {NIFI_VERSION} on https://localhost:{listener.port}/nifi"
        " (first boot unpacks NARs)")
    spawn(node.service, launch_command(java_home, home, node), {}, cwd=node.state)


def launch_command(java_home: Path, home: Path, node: NiFiNode) -> list[str]:
    heap_initial, heap_max = CLUSTER_NODE_HEAP if node.clustered else SINGLE_NODE_HEAP
    return [
        str(java_home / "bin" / "java"),
        "--class-path", f"{home / 'lib'}/*:{node.conf}",
        f"-Xms{heap_initial}", f"-Xmx{heap_max}",
        f"-Dnifi.properties.file.path={node.conf / 'nifi.properties'}",
        f"-Dlogback.configurationFile={node.conf / 'logback.xml'}",
        f"-Dorg.apache.nifi.bootstrap.config.log.dir={node.logs}",
        f"-Dorg.apache.nifi.management.server.address=127.0.0.1:{_free_port()}",
        "-Djava.awt.headless=true",
        "-Duser.timezone=UTC",  # QueryRecord hands DATE values on as midnight in the JVM's zone
        "-Djavax.security.auth.useSubjectCredsOnly=true",
        "-Dsun.net.http.allowRestrictedHeaders=true",
        "-Djava.protocol.handler.pkgs=sun.net.www.protocol",
        "-Dcurator-log-only-first-connection-issue-as-error-level=true",
        "--enable-native-access=ALL-UNNAMED",
        "org.apache.nifi.NiFi",
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_login(env: dict[str, str], node: NiFiNode) -> NiFiApi:
    """Waits until the node accepts the .env credentials (each node signs its own tokens);
    a refused password fails at once."""
    api: list[NiFiApi] = []

    def logged_in() -> bool:
        try:
            api.append(_login(env, node))
            return True
        except NiFiApiError as error:
            if error.status in (400, 401, 403) and "credentials" in str(error).lower():
                raise StackError(f"{node.service}: refused the NIFI_USERNAME/NIFI_PASSWORD from .env ({error})") from None
            return False
        except OSError:
            return False

    wait_until(node.service, logged_in, START_TIMEOUT_SECONDS, log=node.app_log, progress_every=15)
    return api[-1]


def _login(env: dict[str, str], node: NiFiNode) -> NiFiApi:
    return NiFiApi(node.https_port, NIFI_CA_CERT).login(env["NIFI_USERNAME"], env["NIFI_PASSWORD"])


def cluster_nodes(api: NiFiApi) -> list[dict]:
    """The coordinator's view: each node's address, apiPort, status (CONNECTED, ...) and roles."""
    return api.get("/controller/cluster")["cluster"]["nodes"]


def _wait_for_cluster(api: NiFiApi, nodes: list[NiFiNode]) -> None:
    def formed() -> bool:
        try:
            connected = {n["apiPort"] for n in cluster_nodes(api) if n["status"] == "CONNECTED"}
        except (NiFiApiError, OSError):  # 503 while no coordinator is elected
            return False
        return connected >= {node.https_port for node in nodes}

    wait_until(nodes[0].service, formed, CLUSTER_FORM_TIMEOUT_SECONDS, log=nodes[0].app_log, progress_every=15)


def grant_admin_policies(api: NiFiApi, nodes: list[NiFiNode]) -> None:
    """Adds the admin to the policies it needs; each policy is created or extended once.

    In a cluster the nodes too: a request one node replicates to another carries the node in its
    proxy chain, and NiFi shows FlowFile data (attributes, content, provenance details) only when
    every identity in the chain may see it."""
    user = api.get("/flow/current-user")["identity"]
    user_ids = {u["component"]["identity"]: u["id"] for u in api.get("/tenants/users")["users"]}
    root = api.get("/flow/process-groups/root")["processGroupFlow"]["id"]
    wanted = [(a, r.format(root=root)) for a, r in ROOT_GROUP_POLICIES] + list(GLOBAL_POLICIES)
    for action, resource in wanted:
        grant(api, action, resource, user_ids[user])
    for node in (n for n in nodes if n.clustered):
        for action, resource in NODE_DATA_POLICIES:
            grant(api, action, resource.format(root=root), user_ids[node_identity(node.name)])


def nifi_health(env: dict[str, str], count: int = 1) -> list[ServiceHealth]:
    """Each node: running, and healthy when it answers an authenticated call (in a cluster: and is CONNECTED),
    with its connection state and roles."""
    nodes = nifi_nodes(env, count)
    apis = {}
    for node in nodes:
        if running_pid(node.service):
            try:
                apis[node] = _login(env, node)
            except (NiFiApiError, OSError):
                pass
    members = {}
    for api in apis.values():
        try:
            members = {n["apiPort"]: n for n in cluster_nodes(api)} if count > 1 else {}
            break
        except (NiFiApiError, OSError):
            continue
    found = []
    for node in nodes:
        url = f"https://localhost:{node.https_port}/nifi"
        running = running_pid(node.service) is not None
        if not running:
            found.append(ServiceHealth(node.service, False, False, "", url))
        elif node not in apis:
            found.append(ServiceHealth(node.service, True, False, "not answering logins yet", url))
        elif count > 1:
            member = members.get(node.https_port, {})
            roles = ", ".join(r.lower() for r in member.get("roles", []))
            status = member.get("status", "not in the cluster")
            found.append(ServiceHealth(node.service, True, status == "CONNECTED",
                                       f"{status.lower()}{' (' + roles + ')' if roles else ''}", url))
        else:
            found.append(ServiceHealth(node.service, True, True, "healthy", url))
    return found


def nifi_logs(env: dict[str, str], count: int, lines: int) -> str:
    return "\n".join(f"==> {node.app_log} <==\n{tail(node.app_log, lines)}" if count > 1 else tail(node.app_log, lines)
                     for node in nifi_nodes(env, count))
