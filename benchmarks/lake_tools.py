"""The lake tools on an ingested lake: `query` against DuckDB on local copies, decrypt() in SQL, rotation, erasure.

    python3 -m benchmarks.lake_tools [--sizes 250000,1000000] [--runs 3] [--chunk-rows 50000]

For each size it starts a private MinIO (`nifi/stack up minio` with its own state, `.env`,
ports and Fernet key, under benchmarks/results/lake-tools/, removed afterwards), ingests the cached seed-like
input (benchmarks/inputs.py) with `ingest` (the flow's core, in 50,000-row chunks as the
flow stores them) and measures, interleaving the compared variants run by run:

  query     a join of the three segments with a GROUP BY, run by the tool's engine in this
            process (DuckDB over pyarrow datasets reading S3 as the analyst), beside the same
            SQL in DuckDB over local copies of the same Parquet files (read_parquet with hive
            partitioning); plus the whole command (`ecommerce-pipeline query`, a new process).
  decrypt   `SELECT decrypt(email_address) FROM customer_info` beside the same query without
            decrypt(): the difference is the decryption, reported as values per second.
  rotation  `ecommerce-pipeline rotate-lake` (a new process): wall time and its peak RSS.
  erasure   `ecommerce-pipeline erase` of the customer with the most orders: time, peak RSS.

Peak RSS for the sizes side by side shows whether memory stays flat in the lake's size.
Results: a markdown table on stdout and benchmarks/results/lake-tools.json.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.ingest import ingest_file
from ecommerce_pipeline.lake.keys import key_texts, ring
from ecommerce_pipeline.lake.layout import tables
from ecommerce_pipeline.lake.query import LakeQuery
from ecommerce_pipeline.lake.store import lake_settings
from ecommerce_pipeline.settings import S3Settings, load_settings

from .inputs import REPO, RESULTS, input_for
from .resources import measure

WORK = RESULTS / "lake-tools"
STACK = REPO / "nifi" / "stack"
JOIN = """
SELECT c.vip_status, p.delivery_status, count(*) AS orders, round(sum(o.total_purchase_value), 2) AS revenue
FROM order_info o
JOIN payment_and_delivery_info p USING (order_id, customer_id)
JOIN (SELECT customer_id, any_value(vip_status) AS vip_status FROM customer_info GROUP BY customer_id) c
  USING (customer_id)
GROUP BY ALL ORDER BY ALL
"""
DECRYPT = "SELECT decrypt(email_address) AS email FROM customer_info"
TOKENS = "SELECT email_address AS email FROM customer_info"


def say(message: str) -> None:
    print(f"[lake-tools] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateLake:
    """A MinIO of its own (nifi/stack with a private state and .env), filled by `ingest`."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith(("S3_", "FERNET", "NEW_FERNET"))},
                    "ECOMMERCE_PIPELINE_STATE": str(directory / "state"),
                    "ECOMMERCE_PIPELINE_ENV_FILE": str(directory / ".env"),
                    "MINIO_API_PORT": str(free_port()), "MINIO_CONSOLE_PORT": str(free_port())}
        self.env["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{self.env['MINIO_API_PORT']}"

    def stack(self, *args: str) -> None:
        result = subprocess.run([sys.executable, str(STACK), *args], capture_output=True, text=True, env=self.env)
        if result.returncode != 0:
            raise SystemExit(f"nifi/stack {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    @property
    def settings(self) -> dict[str, str]:
        return {**load_settings(self.directory / ".env"), **self.env}

    def s3(self, account: str) -> S3Settings:
        return S3Settings.from_settings(self.settings, account)

    def fill(self, source: Path, chunk_rows: int) -> float:
        started = time.perf_counter()
        report = ingest_file(source, self.s3("flow"), self.settings["FERNET_KEYS"], chunk_rows=chunk_rows)
        seconds = time.perf_counter() - started
        say(f"ingested {report.rows_in} rows into {len(report.objects)} objects in {seconds:.0f}s")
        return seconds

    def copy_locally(self, target: Path) -> int:
        """Every Parquet object of the tables, as files under `target` (same layout as the keys)."""
        shutil.rmtree(target, ignore_errors=True)
        admin = self.s3("admin")
        client = admin.client()
        size = 0
        for prefix in tables().values():
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=admin.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    if item["Key"].endswith(".parquet"):
                        path = target / item["Key"]
                        path.parent.mkdir(parents=True, exist_ok=True)
                        client.download_file(admin.bucket, item["Key"], str(path))
                        size += item["Size"]
        return size

    def cli(self, *args: str, **variables: str) -> dict:
        measured = measure([sys.executable, "-m", "ecommerce_pipeline.cli", *args], env={**self.env, **variables})
        if measured.exit_code != 0:
            raise SystemExit(f"ecommerce-pipeline {args[0]} failed: {measured.stderr[-2000:]}")
        return {"seconds": measured.seconds, "max_rss_bytes": measured.max_rss_bytes}


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def local_sql(copy: Path, sql: str) -> str:
    """`sql` with each table read from the local copy (same DuckDB, same query)."""
    views = "".join(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{copy}/{prefix}**/*.parquet', "
        "hive_partitioning = true, union_by_name = true);\n"
        for name, prefix in tables().items() if (copy / prefix).is_dir())
    return views + sql


def measure_size(rows: int, runs: int, chunk_rows: int) -> dict:
    lake = PrivateLake(WORK / f"lake-{rows}")
    copy = WORK / f"copy-{rows}"
    lake.stack("up", "minio")
    try:
        admin = lake.s3("admin")
        client = admin.client()
        for page in client.get_paginator("list_object_versions").paginate(Bucket=admin.bucket):  # a fresh lake
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", [])]
            if doomed:
                client.delete_objects(Bucket=admin.bucket, Delete={"Objects": doomed})
        result = {"rows": rows, "ingest_seconds": lake.fill(input_for(rows), chunk_rows)}
        result["lake_bytes"] = lake.copy_locally(copy)
        keys = ring(key_texts(lake.settings, "FERNET_KEYS"), "FERNET_KEYS")

        tool, local, command, decrypting, tokens = [], [], [], [], []
        with LakeQuery(lake_settings(lake.settings, "analyst"), keys) as query:
            emails = query.execute("SELECT count(email_address) FROM customer_info").read_all().column(0)[0].as_py()
            for run in range(runs):
                tool.append(timed(lambda: query.execute(JOIN).read_all()))
                connection = duckdb.connect()
                local.append(timed(lambda: connection.sql(local_sql(copy, JOIN)).to_arrow_table()))
                connection.close()
                command.append(lake.cli("query", JOIN)["seconds"])
                decrypting.append(timed(lambda: query.execute(DECRYPT).read_all()))
                tokens.append(timed(lambda: query.execute(TOKENS).read_all()))
                say(f"{rows} rows, run {run + 1}: query {tool[-1]:.2f}s, local DuckDB {local[-1]:.2f}s, command "
                    f"{command[-1]:.2f}s, decrypt {decrypting[-1]:.2f}s vs tokens {tokens[-1]:.2f}s")
        decrypt_seconds = statistics.median(decrypting) - statistics.median(tokens)
        result.update({
            "query_seconds": statistics.median(tool), "local_duckdb_seconds": statistics.median(local),
            "query_command_seconds": statistics.median(command),
            "decrypt_values": emails, "decrypt_query_seconds": statistics.median(decrypting),
            "tokens_query_seconds": statistics.median(tokens),
            "decrypt_values_per_second": emails / decrypt_seconds if decrypt_seconds > 0 else None,
        })

        customer = duckdb_customer(copy)
        result["erasure"] = lake.cli("erase", customer, "--reference", "benchmark")
        old = lake.settings["FERNET_KEYS"]
        new = generate_key()
        result["rotation"] = lake.cli("rotate-lake", NEW_FERNET_KEYS=f"{new},{old}", FERNET_KEYS=f"{new},{old}")
        for job in ("erasure", "rotation"):
            say(f"{job}: {result[job]['seconds']:.1f}s, peak RSS {result[job]['max_rss_bytes'] / 2**20:.0f} MiB")
        return result
    finally:
        lake.stack("down")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.rmtree(lake.directory, ignore_errors=True)  # the lake's MinIO data: a gigabyte at 1M rows


def duckdb_customer(copy: Path) -> str:
    """The customer with the most orders in the local copy."""
    connection = duckdb.connect()
    try:
        return connection.sql(f"SELECT customer_id FROM read_parquet('{copy}/order_info/**/*.parquet') "
                              "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchall()[0][0]
    finally:
        connection.close()


def render(results: list[dict]) -> str:
    mib = 2 ** 20
    lines = ["| rows | lake (MiB) | query (s) | local DuckDB (s) | ratio | command (s) | decrypt() values/s "
             "| rotation (s) | rotation peak RSS (MiB) | erasure (s) | erasure peak RSS (MiB) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        ratio = r["local_duckdb_seconds"] / r["query_seconds"]
        rate = f"{r['decrypt_values_per_second']:,.0f}" if r["decrypt_values_per_second"] else "n/a"
        lines.append(f"| {r['rows']:,} | {r['lake_bytes'] / mib:,.0f} | {r['query_seconds']:.2f} | "
                     f"{r['local_duckdb_seconds']:.2f} | {ratio:.2f}x | {r['query_command_seconds']:.2f} | {rate} | "
                     f"{r['rotation']['seconds']:.1f} | {r['rotation']['max_rss_bytes'] / mib:.0f} | "
                     f"{r['erasure']['seconds']:.1f} | {r['erasure']['max_rss_bytes'] / mib:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250000,1000000", help="comma-separated row counts of the lakes")
    parser.add_argument("--runs", type=int, default=3, help="runs of each query variant (medians)")
    parser.add_argument("--chunk-rows", type=int, default=50_000, help="rows per object, as the flow's Chunk Rows")
    args = parser.parse_args()
    results = [measure_size(int(size), args.runs, args.chunk_rows) for size in args.sizes.split(",")]
    WORK.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lake-tools.json").write_text(json.dumps(results, indent=1))
    print(render(results))


if __name__ == "__main__":
    main()
