"""NiFi itself: started the way NiFi's bootstrap would start it, watched, and stopped.

The bootstrap (nifi.sh, RunNiFi) is not published, so the JVM is launched directly with the
main class, classpath and system properties the bootstrap passes; `stop` sends SIGTERM,
which NiFi handles as an orderly shutdown, and its Python children exit with it.
"""

import socket
import sys
import time
from pathlib import Path

from .java import find_java, java_major
from .nifi_api import NiFiApi, NiFiApiError
from .nifi_assembly import NIFI_VERSION, assemble_nifi
from .nifi_conf import HttpsListener, render_conf
from .paths import NIFI_CA_CERT, NIFI_CONF, NIFI_STATE, NIFI_TLS
from .processes import StackError, check_ports_free, running_pid, say, spawn, tail, wait_until
from .processors_nar import build_processors_nar, install_processors_nar, is_installed, python_version
from .tls import ensure_tls

SERVICE = "nifi"
LOGS = NIFI_STATE / "logs"
EXTENSIONS = NIFI_STATE / "extensions"  # nifi.nar.library.autoload.directory
HEAP_INITIAL, HEAP_MAX = "1g", "2g"
START_TIMEOUT_SECONDS = 300

# What the initial admin needs beyond the global policies NiFi grants it on an empty flow:
# building, running and watching flows in the root process group, parameters, provenance.
ROOT_GROUP_POLICIES = (
    ("read", "/process-groups/{root}"), ("write", "/process-groups/{root}"),
    ("read", "/data/process-groups/{root}"), ("write", "/data/process-groups/{root}"),
    ("write", "/operation/process-groups/{root}"),
    ("read", "/provenance-data/process-groups/{root}"),
)
GLOBAL_POLICIES = (
    ("read", "/parameter-contexts"), ("write", "/parameter-contexts"),
    ("read", "/provenance"), ("read", "/system"), ("read", "/counters"), ("write", "/counters"),
)


def app_log() -> Path:
    return LOGS / "nifi-app.log"


def nifi_up(env: dict[str, str]) -> None:
    port = int(env["NIFI_HTTPS_PORT"])
    nar = build_processors_nar(python_version(sys.executable))
    if running_pid(SERVICE):
        say(f"nifi: already running on https://localhost:{port}/nifi")
        if not is_installed(nar, EXTENSIONS):
            say("nifi: the processors changed since NiFi started: `nifi/stack restart nifi` loads them")
        api = _wait_for_login(env, port)
        grant_admin_policies(api)
    else:
        check_ports_free("nifi", {"NIFI_HTTPS_PORT": port})
        java_home = find_java()
        home = assemble_nifi(java_home)
        api = start_nifi(env, java_home, home, nar, HttpsListener.loopback(port))
    say(f"nifi: healthy (NiFi {api.get('/flow/about')['about']['version']}; CA certificate {NIFI_CA_CERT})")


def start_nifi(env: dict[str, str], java_home: Path, home: Path, nar: Path, listener: HttpsListener,
               dns_names: tuple[str, ...] = ()) -> NiFiApi:
    """TLS and conf rendered, the processors installed, the JVM started, the admin's policies granted:
    natively and in the image alike."""
    say(f"nifi: Java {java_major(java_home)} at {java_home}")
    tls = ensure_tls(NIFI_TLS, NIFI_CA_CERT, java_home, dns_names)
    LOGS.mkdir(parents=True, exist_ok=True)
    render_conf(home, env, tls, LOGS, listener)
    install_processors_nar(nar, EXTENSIONS)
    say(f"nifi: starting NiFi {NIFI_VERSION} on https://localhost:{listener.port}/nifi (first boot unpacks NARs)")
    started = time.monotonic()
    spawn(SERVICE, launch_command(java_home, home), {}, cwd=NIFI_STATE)
    api = _wait_for_login(env, listener.port)
    say(f"nifi: answered an authenticated call after {time.monotonic() - started:.0f}s")
    grant_admin_policies(api)
    return api


def launch_command(java_home: Path, home: Path) -> list[str]:
    return [
        str(java_home / "bin" / "java"),
        "--class-path", f"{home / 'lib'}/*:{NIFI_CONF}",
        f"-Xms{HEAP_INITIAL}", f"-Xmx{HEAP_MAX}",
        f"-Dnifi.properties.file.path={NIFI_CONF / 'nifi.properties'}",
        f"-Dlogback.configurationFile={NIFI_CONF / 'logback.xml'}",
        f"-Dorg.apache.nifi.bootstrap.config.log.dir={LOGS}",
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


def _wait_for_login(env: dict[str, str], port: int) -> NiFiApi:
    """Waits until NiFi accepts the .env credentials; a refused password fails at once."""
    api: list[NiFiApi] = []

    def logged_in() -> bool:
        try:
            api.append(NiFiApi(port, NIFI_CA_CERT).login(env["NIFI_USERNAME"], env["NIFI_PASSWORD"]))
            return True
        except NiFiApiError as error:
            if error.status in (400, 401, 403) and "credentials" in str(error).lower():
                raise StackError(f"nifi: refused the NIFI_USERNAME/NIFI_PASSWORD from .env ({error})") from None
            return False
        except OSError:
            return False

    wait_until(SERVICE, logged_in, START_TIMEOUT_SECONDS, log=app_log(), progress_every=15)
    return api[-1]


def grant_admin_policies(api: NiFiApi) -> None:
    """Adds the admin to the policies it needs; each policy is created or extended once."""
    user = api.get("/flow/current-user")["identity"]
    user_id = next(u["id"] for u in api.get("/tenants/users")["users"] if u["component"]["identity"] == user)
    root = api.get("/flow/process-groups/root")["processGroupFlow"]["id"]
    wanted = [(a, r.format(root=root)) for a, r in ROOT_GROUP_POLICIES] + list(GLOBAL_POLICIES)
    for action, resource in wanted:
        _grant(api, action, resource, user_id)


def _grant(api: NiFiApi, action: str, resource: str, user_id: str) -> None:
    try:
        policy = api.get(f"/policies/{action}{resource}")
    except NiFiApiError as error:
        if error.status != 404:
            raise
        policy = None
    if policy and policy["component"]["resource"] == resource:
        users = policy["component"].get("users", [])
        if any(u["id"] == user_id for u in users):
            return
        api.put(f"/policies/{policy['id']}", {
            "revision": policy["revision"],
            "component": {"id": policy["id"], "users": users + [{"id": user_id}]},
        })
        return
    api.post("/policies", {
        "revision": {"version": 0},
        "component": {"action": action, "resource": resource, "users": [{"id": user_id}]},
    })


def nifi_status(env: dict[str, str]) -> str:
    if not running_pid(SERVICE):
        return "nifi: stopped"
    try:
        NiFiApi(env["NIFI_HTTPS_PORT"], NIFI_CA_CERT).login(env["NIFI_USERNAME"], env["NIFI_PASSWORD"])
    except (NiFiApiError, OSError):
        return "nifi: running, not answering logins yet"
    return f"nifi: running, healthy (https://localhost:{env['NIFI_HTTPS_PORT']}/nifi)"


def nifi_logs(lines: int) -> str:
    return tail(app_log(), lines)
