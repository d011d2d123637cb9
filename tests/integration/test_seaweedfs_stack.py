"""`nifi/stack up --store seaweedfs` on its own state, .env and ports: remembered, owner-only, stopped whole.

SeaweedFS keeps gRPC unix sockets in /tmp (no flag moves them): a clean stop removes them, and
after a kill -9 `down` removes what is left, so nothing of the stack outlives it. Its internal
ports (master, volume, filer) take only peers with the stack's client certificate.
"""

import os
import signal
import ssl
import stat
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import botocore.exceptions
import psutil
import pytest
from dotenv import set_key

from ecommerce_pipeline.settings import S3Settings, load_settings
from lake import remove_bucket
from nifi.provisioning.layout import seaweedfs_server
from nifi.provisioning.processes import SERVICE_VARIABLE
from nifi.provisioning.seaweedfs import VOLUME_SIZE_MB, master_assigns
from nifi.provisioning.tls import ensure_mutual_tls

pytestmark = [pytest.mark.integration, pytest.mark.seaweedfs]


def state(stack) -> Path:
    return Path(stack.env["ECOMMERCE_PIPELINE_STATE"])


def sockets_of(stack) -> list[Path]:
    base = int(stack.env["SEAWEEDFS_PORT"]) + 10000
    return [path for name, port in (("master", base), ("volume", base + 1), ("filer", base + 2), ("s3", base + 3))
            if (path := Path(f"/tmp/seaweedfs-{name}-grpc-{port}.sock")).exists()]


def processes_of(stack) -> list[psutil.Process]:
    marker = str(state(stack).resolve() / "seaweedfs")
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(SERVICE_VARIABLE) == marker:
                found.append(process)
        except psutil.Error:
            continue
    return found


def identity(stack, account) -> S3Settings:
    settings = {**load_settings(stack.env_file), **stack.env}
    return S3Settings.from_settings(
        {**settings, "S3_ENDPOINT_URL": f"http://127.0.0.1:{stack.env['MINIO_API_PORT']}"}, account)


def weed_shell(stack, cwd: Path) -> str:
    """`fs.ls /buckets` in SeaweedFS's own shell, started in `cwd` (where `weed` looks for security.toml)."""
    binary = psutil.Process(int((state(stack) / "seaweedfs.pid").read_text())).exe()
    master, filer = int(stack.env["SEAWEEDFS_PORT"]), int(stack.env["SEAWEEDFS_PORT"]) + 2
    try:
        return subprocess.run([binary, "shell", f"-master=127.0.0.1:{master}", f"-filer=127.0.0.1:{filer}"],
                              input="fs.ls /buckets\n", capture_output=True, text=True, cwd=cwd, timeout=10).stdout
    except subprocess.TimeoutExpired as timed_out:  # it keeps retrying a server that refuses it
        return timed_out.stdout.decode() if timed_out.stdout else ""


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_seaweedfs_is_remembered_keeps_its_data_private_and_stops_whole(private_stack, tmp_path):
    stack = private_stack
    up = ok(stack("up", "--store", "seaweedfs", "seaweedfs"))
    assert "seaweedfs: healthy" in up.stdout and "refused a second PutObject with If-None-Match" in up.stdout
    status = stack("status")  # only the store is up: NiFi, part of every topology, is not
    assert status.returncode == 69 and "seaweedfs: running, healthy" in status.stdout
    assert status.stdout.rstrip().endswith("not healthy: nifi"), status.stdout
    data = state(stack) / "seaweedfs"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for secret in ("s3-identities.json", "security.toml", "tls/localhost-key.pem", "tls/ca-key.pem"):
        assert stat.S_IMODE((data / secret).stat().st_mode) == 0o600, secret
    assert len(sockets_of(stack)) == 4, "weed server listens on its four gRPC sockets"

    filer = int(stack.env["SEAWEEDFS_PORT"]) + 2  # it would list, read and write every object without asking who
    for scheme, context in (("http", None), ("https", ssl._create_unverified_context())):
        with pytest.raises((urllib.error.URLError, OSError)):
            urllib.request.urlopen(f"{scheme}://127.0.0.1:{filer}/buckets/?limit=10", context=context, timeout=5)
    bucket = identity(stack, "admin").bucket
    assert bucket not in weed_shell(stack, tmp_path), "gRPC without the stack's client certificate is refused"
    assert bucket in weed_shell(stack, data), "with it (the stack's security.toml) the same shell lists the bucket"

    again = ok(stack("up", "seaweedfs"))  # no --store: the store this state ran last
    assert "seaweedfs: already running" in again.stdout
    refused = stack("up", "minio")
    assert refused.returncode == 1 and "seaweedfs is running in this stack" in refused.stderr
    assert "Traceback" not in refused.stderr

    flow = identity(stack, "flow")
    flow.client().put_object(Bucket=flow.bucket, Key="order_info/ingest_date=2026-01-01/kept.parquet", Body=b"rows")
    set_key(stack.env_file, "S3_FLOW_SECRET_KEY", "a-rotated-flow-secret-of-some-length")
    rotate = ok(stack("up", "seaweedfs"))  # the identities file changes; the running gateway re-reads it
    assert "the S3 gateway re-read them" in rotate.stdout
    with pytest.raises(botocore.exceptions.ClientError):
        flow.client().put_object(Bucket=flow.bucket, Key="order_info/ingest_date=2026-01-01/old.parquet", Body=b"x")
    rotated = identity(stack, "flow")
    rotated.client().put_object(Bucket=rotated.bucket, Key="order_info/ingest_date=2026-01-01/new.parquet", Body=b"x")

    started = time.monotonic()
    down = ok(stack("down"))
    print(f"\nSeaweedFS stopped by `nifi/stack down` in {time.monotonic() - started:.1f}s")
    assert "seaweedfs: stopped" in down.stdout
    assert processes_of(stack) == [] and sockets_of(stack) == []
    stopped = stack("status")  # the store remembered, though stopped
    assert stopped.returncode == 69 and "seaweedfs: stopped" in stopped.stdout

    restarted = ok(stack("up", "seaweedfs"))  # the data is still there after a restart
    assert "warms up before it assigns writes" in restarted.stdout
    tls = ensure_mutual_tls(data / "tls", "localhost")  # the stack's own, made by the first `up`
    assert master_assigns(seaweedfs_server(stack.env), tls), "`up` returns once the store takes writes again"
    admin = identity(stack, "admin").client()
    assert admin.get_object(Bucket=flow.bucket, Key="order_info/ingest_date=2026-01-01/kept.parquet")["Body"].read() == b"rows"


def test_down_removes_the_sockets_a_killed_seaweedfs_left(private_stack):
    stack = private_stack
    ok(stack("up", "--store", "seaweedfs", "seaweedfs"))
    pid = int((state(stack) / "seaweedfs.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    psutil.wait_procs(processes_of(stack), timeout=10)
    assert len(sockets_of(stack)) == 4, "a killed weed leaves its sockets in /tmp"
    down = ok(stack("down"))
    assert "sockets it left" in down.stdout
    assert sockets_of(stack) == [] and processes_of(stack) == []


def test_every_bucket_takes_writes_while_the_disk_has_room_for_one_volume_each(private_stack):
    """A bucket is a SeaweedFS collection, and its first write grows volumes into slots counted from the free
    disk (one per VOLUME_SIZE_MB). Grown 7 at a time (SeaweedFS's default), the slots ran out after free/7
    buckets and every later write was an InternalError; one at a time, they last for all of them."""
    stack = private_stack
    ok(stack("up", "--store", "seaweedfs", "seaweedfs"))
    disk = os.statvfs(state(stack) / "seaweedfs" / "volumes")
    slots = disk.f_bavail * disk.f_frsize // (VOLUME_SIZE_MB << 20)
    count = slots // 7 + 2  # more than 7-volume growth leaves room for, beside the stack's own bucket
    print(f"\n{slots} volume slots free: writing to {count} new buckets")
    admin = identity(stack, "admin").client()
    made = []
    try:
        for _ in range(count):
            bucket = f"slots-{uuid.uuid4().hex[:12]}"
            admin.create_bucket(Bucket=bucket)
            made.append(bucket)
            admin.put_object(Bucket=bucket, Key="one.bin", Body=bucket.encode())
        for bucket in made:
            assert admin.get_object(Bucket=bucket, Key="one.bin")["Body"].read() == bucket.encode()
    finally:
        for bucket in made:
            remove_bucket(admin, bucket)
