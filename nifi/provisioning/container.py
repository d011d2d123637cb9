"""The project's NiFi image (nifi/docker/nifi.Dockerfile): its entrypoint, `nifi/stack up nifi` with container paths.

    python3 -m provisioning.container nifi     TLS and conf rendered, NiFi started as uid 1000, run until stopped
    python3 -m provisioning.container health   exit 0 once NiFi is up, the admin's policies granted, and it
                                               answers an authenticated call (the compose healthcheck)
    python3 -m provisioning.container bucket   create S3_BUCKET at S3_ENDPOINT_URL (the compose init job)

docker-compose.yml gives the container the .env settings NiFi needs (NIFI_USERNAME, NIFI_PASSWORD,
NIFI_SENSITIVE_PROPS_KEY) and NIFI_PUBLISHED_PORT, the host port HTTPS is published on, which goes
into nifi.web.proxy.host beside the service name `nifi` (also in the certificate) that other
containers use. The container starts as root only to hand the bind mounts Docker created as root
(the inbox, the CA export directory) to uid 1000, then drops to that user for good.
"""

import os
import shutil
import signal
import sys
import time
from pathlib import Path

from ecommerce_pipeline.exit_codes import CommandFailed, exit_status
from ecommerce_pipeline.settings import s3_bucket, with_legacy_names

from .java import find_java
from .layout import NiFiNode
from .nifi_api import NiFiApi, NiFiApiError
from .nifi_conf import HttpsListener
from .nifi_service import start_nifi
from .paths import METRICS_CLIENT_CERT, METRICS_CLIENT_KEY, NIFI_CA_CERT, STATE
from .processes import running_pid, say, stop

NIFI_UID = 1000
SERVICE = NiFiNode(1, 1, 0, 0, 0).service  # the single node's, as start_nifi runs it
CONTAINER_PORT = 8443
SERVICE_NAME = "nifi"
INBOX = Path("/data/inbox")
CA_EXPORT = Path("/export")  # bind-mounted from the host: ca.pem for curl, deploy_flow.py, browsers
IMAGE_EXTENSIONS = Path("/opt/ecommerce-pipeline/extensions")  # the processors NAR, built for the image's Python
READY = STATE / "nifi.ready"


def run_nifi(env: dict[str, str]) -> int:
    if os.getuid() == 0:
        for mount in (INBOX, CA_EXPORT):
            _hand_to_nifi_user(mount)
        _become_nifi_user()
    READY.unlink(missing_ok=True)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    published = int(env.get("NIFI_PUBLISHED_PORT") or CONTAINER_PORT)
    proxy_hosts = (f"localhost:{published}", f"127.0.0.1:{published}",
                   f"{SERVICE_NAME}:{CONTAINER_PORT}", f"localhost:{CONTAINER_PORT}")
    start_nifi(env, find_java(), Path(env["NIFI_HOME"]), next(IMAGE_EXTENSIONS.glob("*.nar")),
               HttpsListener("0.0.0.0", CONTAINER_PORT, proxy_hosts), (SERVICE_NAME,))
    for exported, mode in ((NIFI_CA_CERT, 0o644), (METRICS_CLIENT_CERT, 0o644), (METRICS_CLIENT_KEY, 0o600)):
        shutil.copyfile(exported, CA_EXPORT / exported.name)
        (CA_EXPORT / exported.name).chmod(mode)
    READY.touch()
    say(f"nifi: ready; published on https://localhost:{published}/nifi, CA certificate exported as ca.pem, "
        f"the metrics scraper's certificate as {METRICS_CLIENT_CERT.name} (key {METRICS_CLIENT_KEY.name})")
    while running_pid(SERVICE):
        time.sleep(1)
    say("nifi: the JVM exited on its own; see nifi-app.log in the nifi-state volume")
    return 1


def _hand_to_nifi_user(mount: Path) -> None:
    """A root-owned bind mount (Docker makes missing ones as root) becomes uid 1000's; others are left alone."""
    owner = mount.stat().st_uid
    if owner == 0:
        os.chown(mount, NIFI_UID, NIFI_UID)
        say(f"nifi: {mount} belonged to root; handed to uid {NIFI_UID}, which NiFi runs as")
    elif owner != NIFI_UID:
        say(f"nifi: {mount} belongs to uid {owner}; NiFi (uid {NIFI_UID}) needs write access to it")


def _become_nifi_user() -> None:
    os.setgroups([])
    os.setgid(NIFI_UID)
    os.setuid(NIFI_UID)
    os.environ["HOME"] = str(STATE)


def _stop_on_signal(signum, _frame) -> None:
    say(f"nifi: {signal.Signals(signum).name}: stopping NiFi")
    stop(SERVICE)
    sys.exit(0)


def healthy(env: dict[str, str]) -> bool:
    if not READY.exists():
        return False
    try:
        api = NiFiApi(CONTAINER_PORT, NIFI_CA_CERT).login(env["NIFI_USERNAME"], env["NIFI_PASSWORD"])
        return bool(api.get("/flow/about")["about"]["version"])
    except (NiFiApiError, OSError):
        return False


def create_bucket(env: dict[str, str]) -> None:
    """The bucket, and the flow's and the analysts' users with their policies (the root credentials stay here)."""
    from .bucket import ensure_bucket
    from .minio_access import ensure_access

    ensure_bucket(env, env["S3_ENDPOINT_URL"], "minio")
    ensure_access(env, env["S3_ENDPOINT_URL"])
    say(f"minio: bucket {s3_bucket(env)} is there")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "nifi"
    env = with_legacy_names(dict(os.environ))
    try:
        if command == "nifi":
            return run_nifi(env)
        if command == "health":
            if os.getuid() == 0:  # docker runs the healthcheck as root, without the capability to read uid 1000's files
                _become_nifi_user()
            return 0 if healthy(env) else 1
        if command == "bucket":
            create_bucket(env)
            return 0
    except CommandFailed as error:
        print(f"[stack] error: {error}", file=sys.stderr)
        return exit_status(error)
    print(f"usage: python3 -m provisioning.container [nifi|health|bucket], not {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
