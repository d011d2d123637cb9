"""One node against a cluster: rows/s of the deployed flow and resident memory per node.

    nifi/stack up [--nodes N] && python3 deploy_flow.py && python3 -m benchmarks.cluster_scaling ROWS

Drops one sample export of ROWS rows into the inbox the way `ecommerce-pipeline drop` does,
waits until every row is in the lake (lake_watch.wait_until_landed) and prints the time from
the drop and, per NiFi node, the peak resident memory of its process group (the JVM and its
Python processes) sampled every 0.5 s. The run's objects are deleted afterwards. Whatever
stack is running is measured: the node count comes from `nifi/stack up`'s record.
"""

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from ecommerce_pipeline.lake_watch import LakeWatch, drop_into_inbox, drop_time, wait_until_landed
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import S3Settings
from nifi.provisioning.env_file import read_env
from nifi.provisioning.layout import nifi_nodes
from nifi.provisioning.paths import STATE
from nifi.provisioning.processes import group_processes, running_pid

from .inputs import REPO
from .lake_reading import forget_content

SAMPLE_SECONDS = 0.5


def group_rss_mib(pgid: int) -> float:
    """Resident memory of a process group: the JVM and its Python processes."""
    total = 0
    for process in group_processes(pgid):
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    env = read_env()
    topology = STATE / "topology.json"
    count = json.loads(topology.read_text())["nodes"] if topology.exists() else 1
    services = [node.service for node in nifi_nodes(env, count)]
    pids = {service: running_pid(service) for service in services}
    if not all(pids.values()):
        print(f"not every NiFi node runs: {pids}; start them with nifi/stack up", file=sys.stderr)
        return 1
    s3 = S3Settings.from_settings({**env, "S3_ENDPOINT_URL": f"http://127.0.0.1:{env['MINIO_API_PORT']}"})
    peak = dict.fromkeys(services, 0.0)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            for service, pid in pids.items():
                peak[service] = max(peak[service], group_rss_mib(pid))

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"scaling-{count}n-{args.rows}-{int(time.time())}.csv"
        write_sample_csv(source, rows=args.rows, seed=7, bad_row_fraction=0.01)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        dropped_at = drop_time()
        drop_into_inbox(source, REPO / "data" / "inbox")
        _, landed = wait_until_landed(LakeWatch(s3), source, args.rows, dropped_at, args.timeout, progress=print)
        seconds = time.monotonic() - started
        done.set()
        client = s3.client()
        for item in landed:
            client.delete_object(Bucket=s3.bucket, Key=item.key)
        forget_content(s3, source)
    print(f"{count} node(s): {args.rows} rows in {seconds:.1f}s from the drop = {args.rows / seconds:,.0f} rows/s; "
          + "; ".join(f"{service} peak RSS {mib:,.0f} MiB" for service, mib in peak.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
