"""Approaches a-d, each measured in a process of its own so its peak RSS is its own.

  a  the original demo: one `python` per encrypted column, chained, then pandas -> Parquet
  b  `ecommerce_pipeline.ingest.ingest_file` into the real MinIO (a fresh bucket per run)
  c  DuckDB CSV -> Parquet, no cleaning, no encryption: the conversion ceiling
  d  the policy's 8 columns encrypted: per-value `Fernet.encrypt` (d1), the old numpy batch (d2),
     the compiled batch Fernet (d3); and d3's tokens decrypted by it (d4)

b, c and d run approach_worker in a process of its own, which times its own section and
writes the result as JSON.
"""

import csv
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from nifi.provisioning.stores import running_store

from . import approach_worker
from .approach_worker import s3_settings
from .inputs import REPO
from .original_demo import flow as demo_flow
from .resources import measure

APPROACHES = {
    "a": "original demo (9 chained processes)",
    "b": "ingest_file → MinIO, 1 process",
    "b2": "ingest_file → MinIO, 2 worker processes",
    "c": "DuckDB CSV → Parquet",
    "d1": "Fernet.encrypt per value",
    "d2": "numpy batch encryptor per column (before the compiled Fernet)",
    "d3": "compiled batch Fernet per column",
    "d4": "compiled batch Fernet decryption per column",
    "e": "NiFi flow: drop → last object in MinIO",
}
ORDER_ID_COLUMN = "Order ID"
DEMO_FIELDS = 18  # the export's 17 columns plus the demo's gift_won


def input_order_ids(path: Path) -> set[str]:
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        position = next(reader).index(ORDER_ID_COLUMN)
        return {row[position] for row in reader}


def intact_rows(output_csv: Path, order_ids: set[str]) -> int:
    """Output lines with the demo's 18 fields and an input order id in the Order ID field.

    Lines are split as the demo splits them; each input order id counts once.
    """
    seen = set()
    with open(output_csv, encoding="utf-8") as stream:
        position = next(stream).rstrip("\n").split(",").index(ORDER_ID_COLUMN)
        for line in stream:
            fields = line.rstrip("\n").split(",")
            if len(fields) == DEMO_FIELDS and fields[position] in order_ids:
                seen.add(fields[position])
    return len(seen)


def run_demo(path: Path, order_ids: set[str] | None) -> dict:
    """Approach a: the demo's stages one after the other, as NiFi passed content along."""
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as workdir:
        stages = demo_flow.stages(path, Path(workdir))
        seconds, rss, failure, stages_run = 0.0, 0, None, 0
        for name, argv, source, target in stages:
            result = measure(argv, source, target)
            seconds += result.seconds
            rss = max(rss, result.max_rss_bytes)
            stages_run += 1
            if result.exit_code:
                failure = f"{name} exited {result.exit_code}: {last_line(result.stderr)}"
                break
        run = {"seconds": seconds, "max_rss_bytes": rss, "failure": failure, "stages_run": stages_run}
        last_csv = stages[-2][3]
        if order_ids is not None and last_csv.exists():
            run["intact_rows"] = intact_rows(last_csv, order_ids)
        parquet = demo_flow.parquet_path(Path(workdir))
        if parquet.exists():
            run["parquet_rows"] = pq.ParquetFile(parquet).metadata.num_rows
    return run


def run_worker(kind: str, path: Path, **options: str) -> dict:
    """Approaches b, c, d: approach_worker in a process of its own; the worker times its own section."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        argv = [sys.executable, "-m", approach_worker.__name__, kind, str(path), out.name]
        argv += [f"--{name}={value}" for name, value in options.items()]
        result = measure(argv)
        if result.exit_code:
            raise RuntimeError(f"worker {kind} failed on {path.name}:\n{result.stderr}")
        run = json.loads(Path(out.name).read_text())
    run["process_seconds"] = result.seconds
    run["max_rss_bytes"] = result.max_rss_bytes
    return run


def run_ingest(path: Path, workers: int) -> dict:
    """Approach b into a bucket of its own, which is emptied and deleted afterwards.

    `nifi/stack up <store>` first (the store the stack runs, MinIO by default): it reuses a running
    store and restarts one that another session's tests stopped.
    """
    subprocess.run([sys.executable, str(REPO / "nifi" / "stack"), "up", running_store().name], check=True,
                   capture_output=True)
    client = s3_settings().client()
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    try:
        run = run_worker("ingest", path, bucket=bucket, workers=str(workers))
        listed = [item for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket) for item in page.get("Contents", [])]
        run["objects_in_bucket"] = len(listed)
        run["bytes_in_bucket"] = sum(item["Size"] for item in listed)
    finally:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
        client.delete_bucket(Bucket=bucket)
    return run


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"
