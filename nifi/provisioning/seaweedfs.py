"""SeaweedFS, the stack's second S3 store: built once from the Go module proxy, run as one `weed server`.

`go install …/weed@version` refuses the module (its go.mod has `replace` directives), so the
build is a wrapper module in the cache that requires SeaweedFS at the pinned version and
repeats its one active replace. One process runs the master, a volume server, the filer and
the S3 gateway, all on 127.0.0.1 with every port set: the S3 API on MINIO_API_PORT (the
stack's S3 port, whichever store), the master, volume and filer on SEAWEEDFS_PORT, +1, +2 and
their gRPC twins on those plus 10000, the S3 gateway's gRPC on SEAWEEDFS_PORT + 10003. What
`weed server` turns on by default and the stack does not use is off: telemetry, the Iceberg and
Lance endpoints, the embedded IAM API. Data, metadata and the identities file live in
.stack/seaweedfs/, owner-only; its logs go to the stack's log (not to files in /tmp).

Only the S3 port takes requests from others, each signed by an identity. The master, volume
server and filer would otherwise answer anyone on this machine over HTTP and gRPC (the filer
lists, reads and writes every object without asking who): their ports speak mutual TLS with a
CA and certificate of this stack's own (.stack/seaweedfs/tls/, owner-only), set in the
security.toml `weed` reads from its working directory.
"""

import os
import signal
import ssl
import stat
import urllib.error
import urllib.request
from pathlib import Path

from botocore.exceptions import ClientError

from ecommerce_pipeline.settings import S3Settings

from .access_policies import LANDING_PREFIX
from .go_build import go_progress, require_go
from .health import ServiceHealth
from .layout import SeaweedfsServer, seaweedfs_server
from .paths import CACHE
from .processes import (
    StackError, http_ok, log_file, not_running, run_step, running_pid, say, spawn, tail, wait_until,
)
from .seaweedfs_access import write_identities
from .tls import MutualTls, ensure_mutual_tls

SEAWEEDFS_MODULE = "github.com/seaweedfs/seaweedfs"
# The Go module proxy serves SeaweedFS as pseudo-versions only; this is its @latest of 2026-11-09.
SEAWEEDFS_VERSION = "v0.0.0-20261109003541-7506e5f91cd6"
MIN_GO = (1, 26, 6)
# The module's one active replace (tyler-smith/go-bip39 was deleted from GitHub); without it the build fails.
REPLACES = ("github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0",)
# With -volume.max=0 the volume server counts its slots as free disk / volume size, reserving a whole slot
# for each volume, and by default a bucket's first write grows 7 volumes at once (master.volume_growth.copy_1):
# with 1 GiB volumes on a disk with 8 GiB free, the second bucket's writes failed with "No writable volumes
# and no free volumes left" (an S3 InternalError). One volume at a time, as `weed mini` grows them, lets
# every bucket the stack and its tests make share the slots; the master grows the next when one fills.
VOLUME_SIZE_MB = 1024
GROWTH = {"WEED_MASTER_VOLUME_GROWTH_COPY_1": "1"}
START_TIMEOUT_SECONDS = 120
# A master that leads again over existing volumes assigns no writes for 3 heartbeat pulses of 5 s (fixed in
# SeaweedFS: its warm-up, while the volume servers report what they hold).
WARM_UP_TIMEOUT_SECONDS = 60
NO_SUCH_VOLUME = 4294967295  # the largest volume id: one the master never hands out this soon
RELOAD_SECONDS = 30


def seaweedfs_binary() -> Path:
    """`weed` from the cache, built on first use (≈ 6 min and 2.7 GB of memory on 2 cores)."""
    home = CACHE / "seaweedfs" / SEAWEEDFS_VERSION
    binary = home / "weed"
    if binary.exists():
        return binary
    require_go(MIN_GO, f"SeaweedFS {SEAWEEDFS_VERSION}")
    module = home / "module"
    module.mkdir(parents=True, exist_ok=True)
    (module / "go.mod").write_text(
        f"module ecommerce-pipeline/seaweedfs-build\n\ngo {'.'.join(map(str, MIN_GO))}\n\n"
        f"require {SEAWEEDFS_MODULE} {SEAWEEDFS_VERSION}\n\n" + "".join(f"replace {r}\n" for r in REPLACES))
    env = {"CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    code, output = run_step(
        f"building SeaweedFS {SEAWEEDFS_VERSION} with Go (first time only: ≈ 6 min on 2 cores, 2.7 GB of memory)",
        ["go", "build", "-v", "-ldflags=-s -w", "-o", str(binary.with_suffix(".partial")), f"{SEAWEEDFS_MODULE}/weed"],
        env, shows=lambda line: go_progress(line) is None and "retracted" not in line and "switch to" not in line
        and not line.startswith("\tgo get"), counts=go_progress, cwd=module)
    if code != 0 or not binary.with_suffix(".partial").exists():
        raise StackError(f"building {SEAWEEDFS_MODULE}/weed@{SEAWEEDFS_VERSION} failed:\n{output[-3000:]}")
    binary.with_suffix(".partial").replace(binary)
    return binary


def seaweedfs_up(env: dict[str, str]) -> str:
    """Starts SeaweedFS (a running one is reused, its identities re-read) and waits until its S3 API stores
    objects; returns the S3 endpoint."""
    server = seaweedfs_server(env)
    for directory in (server.state, server.volumes, server.metadata):
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)  # the bucket's objects, plaintext exports under landing/ among them
    changed = write_identities(env, server.identities)
    tls = write_security(server)
    to_start = not_running([server], lambda s: f":{s.s3_port} (S3), :{s.master_port} (master)")
    if to_start:
        binary = seaweedfs_binary()
        remove_stale_sockets(server)
        say(f"seaweedfs: starting, S3 on :{server.s3_port}, master :{server.master_port}, volume "
            f":{server.volume_port}, filer :{server.filer_port} (gRPC on each + 10000)")
        spawn(server.service, [str(binary), "-logtostderr=true", "server", *server_arguments(server)], GROWTH,
              cwd=server.state)
    wait_until(server.service, lambda: http_ok(health_url(server)), START_TIMEOUT_SECONDS, progress_every=15)
    if to_start and not master_assigns(server, tls):
        say("seaweedfs: its master warms up before it assigns writes (15 s after a restart with data)")
        wait_until(server.service, lambda: master_assigns(server, tls), WARM_UP_TIMEOUT_SECONDS, progress_every=5)
    if changed and not to_start:
        os.kill(running_pid(server.service), signal.SIGHUP)  # the gateway re-reads -s3.config on SIGHUP
        wait_until(server.service, lambda: _flow_signs_in(env, server), RELOAD_SECONDS)
        say("seaweedfs: the identities in .env changed: the S3 gateway re-read them")
    return server.endpoint_url


def _flow_signs_in(env: dict[str, str], server: SeaweedfsServer) -> bool:
    """The flow's identity, as .env has it now, is accepted (it may list landing/)."""
    flow = S3Settings.from_settings({**env, "S3_ENDPOINT_URL": server.endpoint_url}, "flow")
    try:
        flow.client().list_objects_v2(Bucket=flow.bucket, Prefix=LANDING_PREFIX, MaxKeys=1)
    except ClientError as error:
        return error.response.get("Error", {}).get("Code") == "NoSuchBucket"  # signed in; the bucket comes next
    return True


def master_assigns(server: SeaweedfsServer, tls: MutualTls) -> bool:
    """Whether the master assigns writes yet: while it warms up it answers a lookup of a volume it does not
    know with 503 (Retry-After), afterwards with 404. Asks without writing anything."""
    context = ssl.create_default_context(cafile=tls.ca_cert)
    context.load_cert_chain(tls.cert, tls.key)
    url = f"https://127.0.0.1:{server.master_port}/dir/lookup?volumeId={NO_SUCH_VOLUME}"
    try:
        with urllib.request.urlopen(url, context=context, timeout=2):
            return True
    except urllib.error.HTTPError as error:
        return error.code != 503
    except (urllib.error.URLError, OSError):
        return False


def write_security(server: SeaweedfsServer) -> MutualTls:
    """security.toml in the server's working directory: mutual TLS on every gRPC and internal HTTP port."""
    tls = ensure_mutual_tls(server.state / "tls", "localhost")
    pair = f'cert = "{tls.cert}"\nkey = "{tls.key}"\n'
    sections = [f'[grpc]\nca = "{tls.ca_cert}"\n']
    sections += [f"[grpc.{part}]\n{pair}" for part in ("master", "volume", "filer", "s3", "client")]
    sections += [f'[https.client]\nenabled = true\n{pair}ca = "{tls.ca_cert}"\n']
    sections += [f'[https.{part}]\n{pair}ca = "{tls.ca_cert}"\n' for part in ("master", "volume", "filer")]
    text = "# Written by nifi/stack on every start (nifi/provisioning/seaweedfs.py): edits are lost.\n\n" + \
        "\n".join(sections)
    security = server.state / "security.toml"
    security.touch(mode=0o600)
    security.write_text(text)
    return tls


def server_arguments(server: SeaweedfsServer) -> list[str]:
    return [
        f"-dir={server.volumes}", f"-master.dir={server.metadata}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={server.master_port}", f"-master.port.grpc={server.grpc(server.master_port)}",
        "-master.telemetry=false", f"-master.volumeSizeLimitMB={VOLUME_SIZE_MB}", "-master.defaultReplication=000",
        # one master: on a restart it waits one election timeout (10 s by default) before it leads again
        "-master.electionTimeout=1s",
        f"-volume.port={server.volume_port}", f"-volume.port.grpc={server.grpc(server.volume_port)}", "-volume.max=0",
        "-volume.preStopSeconds=1",  # a cluster's grace for clients to learn of the stop: 10 s by default
        "-filer", f"-filer.port={server.filer_port}", f"-filer.port.grpc={server.grpc(server.filer_port)}",
        f"-filer.localSocket={server.state / 'filer.sock'}",
        "-s3", f"-s3.port={server.s3_port}", f"-s3.port.grpc={server.s3_grpc_port}", "-s3.port.iceberg=0",
        "-s3.port.lance=0", f"-s3.config={server.identities}", "-s3.iam=false",
        f"-s3.localSocket={server.state / 's3.sock'}",
    ]


def health_url(server: SeaweedfsServer) -> str:
    """The S3 gateway's health check: 200 once it serves requests."""
    return f"http://127.0.0.1:{server.s3_port}/healthz"


def grpc_sockets(server: SeaweedfsServer) -> list[Path]:
    """The gRPC unix sockets `weed server` always makes in /tmp (no flag moves them), removed on a clean exit."""
    return [Path(f"/tmp/seaweedfs-{name}-grpc-{port}.sock") for name, port in server.grpc_ports().items()]


def remove_stale_sockets(server: SeaweedfsServer) -> list[Path]:
    """Removes the sockets a killed `weed` left (only while none of this stack's runs): in /tmp and in the state."""
    if running_pid(server.service):
        return []
    removed = []
    for path in grpc_sockets(server) + [server.state / "filer.sock", server.state / "s3.sock"]:
        try:
            if stat.S_ISSOCK(path.lstat().st_mode) and path.lstat().st_uid == os.getuid():
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue
    return removed


def seaweedfs_health(env: dict[str, str]) -> list[ServiceHealth]:
    """The one server: running, and healthy when its S3 gateway answers its health check."""
    server = seaweedfs_server(env)
    running = running_pid(server.service) is not None
    answers = running and http_ok(health_url(server))
    detail = "healthy" if answers else ("not answering its health check" if running else "")
    return [ServiceHealth(server.service, running, answers, detail)]


def seaweedfs_logs(env: dict[str, str], lines: int) -> str:
    return tail(log_file(seaweedfs_server(env).service), lines)
