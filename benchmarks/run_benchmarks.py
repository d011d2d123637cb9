"""The benchmarks of issues 5 and 10 in one command: the original demo, the CLI, DuckDB, Fernet and the NiFi flow.

    python benchmarks/run_benchmarks.py [--sizes 25000,250000,1000000] [--runs 3 | --runs 3,3,1] [--with-5m]
        [--approaches a,b,c,d,e] [--update]   (re-measure some approaches, keep the rest of latest.json)
        [--chunk-rows N] [--concurrent-tasks 'Clean rows=2']   (e: a variant of the flow, beside e as deployed)
        [--build 'processors at 5861c31']   (e: NiFi runs another build of the processors, e.g. before a change)

For each size it generates a seed-like input once (cached in benchmarks/results/inputs/)
and measures, each in its own subprocess so peak RSS belongs to one approach:
  a  the original demo: one `python` per encrypted column, chained, then pandas -> Parquet
  b  `ecommerce_pipeline.ingest.ingest_file` into the real MinIO (a fresh bucket per run)
  c  DuckDB CSV -> Parquet, no cleaning, no encryption: the conversion ceiling
  d  per-value `Fernet.encrypt` against `BatchEncryptor.encrypt` on the policy's 8 columns
  e  the deployed NiFi flow: the input dropped into the watched folder -> its last object in
     MinIO (needs `nifi/stack up && python3 deploy_flow.py`; see nifi_flow.py). A variant
     (--chunk-rows, --concurrent-tasks) is set through NiFi's API for the command's e runs,
     stored under its own key (e[Chunk Rows=100000]) and restored afterwards; --build names
     the processors NiFi has loaded when they are not this checkout's (e[processors at 5861c31]).
Results: a markdown table on stdout and in benchmarks/results/latest.md, raw runs in
benchmarks/results/latest.json. docs/benchmarks.md explains the method.
"""

import argparse
import csv
import dataclasses
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
INPUTS = RESULTS / "inputs"
sys.path.insert(0, str(REPO / "benchmarks" / "original_demo"))
sys.path.insert(0, str(REPO / "processors"))  # this checkout's core, whatever is installed

import flow as demo_flow  # noqa: E402  (the demo's stage list, beside its scripts)

SEED = 42
ORDER_ID_COLUMN = "Order ID"
DEMO_FIELDS = 18  # the export's 17 columns plus the demo's gift_won
APPROACHES = {
    "a": "original demo (9 chained processes)",
    "b": "ingest_file → MinIO, 1 process",
    "b2": "ingest_file → MinIO, 2 worker processes",
    "c": "DuckDB CSV → Parquet",
    "d1": "Fernet.encrypt per value",
    "d2": "BatchEncryptor per column",
    "e": "NiFi flow: drop → last object in MinIO",
}
WARM_UP_ROWS = 25_000


@dataclasses.dataclass
class Measured:
    seconds: float
    max_rss_bytes: int
    exit_code: int
    stderr: str


def measure(argv: list[str], stdin: Path | None = None, stdout: Path | None = None) -> Measured:
    """Run one process; wall time and its own peak RSS.

    The RSS comes from /usr/bin/time, not from our own wait4: Linux starts a child's
    ru_maxrss at the RSS of the process that forked it, which here holds pandas and the
    input's order ids, so small children would all report this script's size.
    """
    with (
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
        open(stdin or os.devnull, "rb") as fin,
        open(stdout or os.devnull, "wb") as fout,
    ):
        start = time.perf_counter()
        code = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *argv], stdin=fin, stdout=fout, stderr=err, cwd=REPO).returncode
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        max_rss_kib = int(rss.read().strip().splitlines()[-1])
    return Measured(seconds, max_rss_kib * 1024, code, stderr)


def input_for(rows: int) -> Path:
    """The cached seed-like input of `rows` rows, generated on first use."""
    path = INPUTS / f"sample-seed{SEED}-{rows}.csv"
    if not path.exists():
        from ecommerce_pipeline.sample_data import write_sample_csv

        INPUTS.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        print(f"generating {path.name} ...", flush=True)
        write_sample_csv(partial, rows, SEED)
        partial.replace(path)
    return path


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
                failure = f"{name} exited {result.exit_code}: {_last_line(result.stderr)}"
                break
        run = {"seconds": seconds, "max_rss_bytes": rss, "failure": failure, "stages_run": stages_run}
        last_csv = stages[-2][3]
        if order_ids is not None and last_csv.exists():
            run["intact_rows"] = intact_rows(last_csv, order_ids)
        parquet = demo_flow.parquet_path(Path(workdir))
        if parquet.exists():
            import pyarrow.parquet as pq

            run["parquet_rows"] = pq.ParquetFile(parquet).metadata.num_rows
    return run


def run_worker(kind: str, path: Path, **options: str) -> dict:
    """Approaches b, c, d: this script in worker mode; the worker times its own section."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        argv = [sys.executable, __file__, "worker", kind, str(path), out.name]
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

    `nifi/stack up minio` first: it reuses a running MinIO and restarts one that
    another session's tests stopped.
    """
    subprocess.run([sys.executable, str(REPO / "nifi" / "stack"), "up", "minio"], check=True, capture_output=True)
    client = _s3().client()
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


def _s3():
    from ecommerce_pipeline.settings import S3Settings, load_settings

    return S3Settings.from_settings(load_settings(REPO / ".env"))


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def worker(argv: list[str]) -> None:
    """Worker mode: run one measured section and write its JSON result."""
    parser = argparse.ArgumentParser(prog="run_benchmarks.py worker")
    parser.add_argument("kind", choices=("ingest", "duckdb", "encrypt-per-value", "encrypt-batch"))
    parser.add_argument("input", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--bucket")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    result = {"ingest": _work_ingest, "duckdb": _work_duckdb}.get(args.kind, _work_encrypt)(args)
    args.out.write_text(json.dumps(result))


def _work_ingest(args) -> dict:
    from ecommerce_pipeline.ingest import ingest_file
    from ecommerce_pipeline.settings import load_settings, require

    s3 = dataclasses.replace(_s3(), bucket=args.bucket)
    keys = require(load_settings(REPO / ".env"), "FERNET_KEYS")
    start = time.perf_counter()
    report = ingest_file(args.input, s3, keys, workers=args.workers)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows_in": report.rows_in,
        "rows_clean": report.rows_clean,
        "rows_quarantined": report.rows_quarantined,
        "rejected_chunks": len(report.rejected_chunks),
        "objects": len(report.objects),
    }


def _work_duckdb(args) -> dict:
    import duckdb

    with tempfile.TemporaryDirectory(prefix="bench-duckdb-") as workdir:
        target = Path(workdir) / "out.parquet"
        connection = duckdb.connect()
        start = time.perf_counter()
        connection.execute(f"COPY (SELECT * FROM read_csv('{args.input}')) TO '{target}' (FORMAT parquet)")
        seconds = time.perf_counter() - start
        rows = connection.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    return {"seconds": seconds, "parquet_rows": rows}


def _work_encrypt(args) -> dict:
    """Approach d: encryption alone on the 8 policy columns' values of the input."""
    from cryptography.fernet import Fernet

    from ecommerce_pipeline.fernet_tokens import BatchEncryptor, generate_key

    columns = _policy_values(args.input)
    key = generate_key()
    if args.kind == "encrypt-per-value":
        fernet = Fernet(key)
        start = time.perf_counter()
        for values in columns:
            [fernet.encrypt(value.encode("utf-8")) for value in values]
        seconds = time.perf_counter() - start
    else:
        encryptor = BatchEncryptor(key)
        start = time.perf_counter()
        tokens = [encryptor.encrypt(values) for values in columns]
        seconds = time.perf_counter() - start
        sample = tokens[-1].to_pylist()[:100]
        assert [Fernet(key).decrypt(token).decode() for token in sample] == columns[-1][:100], "batch tokens are wrong"
    return {"seconds": seconds, "values": sum(len(values) for values in columns)}


def _policy_values(path: Path) -> list[list[str]]:
    """The raw values of every column the policy encrypts, gift_won derived as the flow does."""
    import numpy as np

    from ecommerce_pipeline.cleaning import parse_amount, read_raw_csv
    from ecommerce_pipeline.columns import RAW_TO_CLEAN
    from ecommerce_pipeline.policy import load_policy

    raw = read_raw_csv(path.read_bytes()).rename(columns=RAW_TO_CLEAN)
    policy = load_policy()
    names = list(dict.fromkeys(name for segment in ("customer_info", "payment_and_delivery_info") for name in policy.encrypted_columns(segment)))
    amount = parse_amount(raw["total_purchase_value"]).to_numpy(dtype=float, na_value=np.nan)
    gifts = np.where(amount < 500, "Wireless Mouse", np.where(amount <= 1200, "Bluetooth Headphones", "Keyboard + Wireless Mouse"))
    return [gifts.tolist() if name == "gift_won" else raw[name].tolist() for name in names]


def median_run(runs: list[dict]) -> dict:
    return {
        "seconds": statistics.median(run["seconds"] for run in runs),
        "max_rss_bytes": statistics.median(run["max_rss_bytes"] for run in runs),
        "process_seconds": statistics.median(run.get("process_seconds", run["seconds"]) for run in runs),
        "runs": len(runs),
    }


def environment() -> dict:
    import cryptography
    import duckdb
    import pandas
    import pyarrow

    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "ram_gib": round(int(meminfo[1]) / 1024**2, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "duckdb": duckdb.__version__,
        "cryptography": cryptography.__version__,
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def approach_keys(results: dict) -> list[str]:
    """a, b, b2, c, d1, d2, e, then the flow's variants (e[...]) found in the results."""
    found = {key for entry in results["sizes"].values() for key in (*entry["approaches"], *entry["failures"])}
    return [key for key in APPROACHES if key in found or key == "e"] + sorted(key for key in found if key.startswith("e["))


def label(key: str) -> str:
    if key in APPROACHES:
        return f"{key} {APPROACHES[key]}"
    return f"e NiFi flow with {key[2:-1]}"  # e[Chunk Rows=100000]


def render(results: dict, env: dict) -> str:
    """The results as markdown: main table, ratios, the flow's details and profile, the demo's integrity, growth."""
    sizes = sorted(int(size) for size in results["sizes"])
    keys = approach_keys(results)
    flow_keys = [key for key in keys if key[0] == "e"]
    out = [
        f"Measured {env['date']} on {env['cpus']} CPUs ({env['cpu']}), {env['ram_gib']} GiB RAM; "
        f"Python {env['python']}, pandas {env['pandas']}, pyarrow {env['pyarrow']}, duckdb {env['duckdb']}, "
        f"cryptography {env['cryptography']}. Median of the runs shown.",
    ]
    if results.get("flow_environment"):
        flow = results["flow_environment"]
        out.append(f"The flow (e) measured {flow['date']}: NiFi {flow['nifi']} on {flow['java']} (max heap {flow['max_heap']}), "
                   f"its Python processors on Python {flow['nifi_python']}, {flow['minio']}.")
    out += [
        "",
        "| approach | rows | input MB | runs | wall s | rows/s | MB/s | peak RSS MiB | process s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in keys:
        measured_any = False
        for size in sizes:
            entry = results["sizes"][str(size)]
            if key in entry["failures"]:
                measured_any = True
                out.append(f"| {label(key)} | {size:,} | — | — | failed: {entry['failures'][key]} | — | — | — | — |")
            if key not in entry["approaches"]:
                continue
            measured_any = True
            summary = entry["approaches"][key]["median"]
            megabytes = entry["input_bytes"] / 1e6
            process = "—" if key[0] == "e" else f"{summary['process_seconds']:,.2f}"
            out.append(
                f"| {label(key)} | {size:,} | {megabytes:,.1f} | {summary['runs']} | {summary['seconds']:,.2f} | "
                f"{size / summary['seconds']:,.0f} | {megabytes / summary['seconds']:,.1f} | {summary['max_rss_bytes'] / 2**20:,.0f} | {process} |"
            )
        if not measured_any:
            out.append(f"| {label(key)} | — | — | — | not measured | — | — | — | — |")

    out += ["", "Speed ratios (rows/s of one over the other, same input):", "",
            "| rows | b/a | b2/a | b2/b | c/b | d batch/per-value | e/a | e/b | e/b2 | e/c |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size in sizes:
        approaches = results["sizes"][str(size)]["approaches"]
        seconds = {key: value["median"]["seconds"] for key, value in approaches.items()}

        def ratio(slow: str, fast: str) -> str:
            return f"{seconds[slow] / seconds[fast]:,.1f}×" if slow in seconds and fast in seconds else "—"

        def fine(slow: str, fast: str) -> str:
            return f"{seconds[slow] / seconds[fast]:,.2f}×" if slow in seconds and fast in seconds else "—"

        out.append(f"| {size:,} | {ratio('a', 'b')} | {ratio('a', 'b2')} | {ratio('b', 'b2')} | {ratio('b', 'c')} | "
                   f"{ratio('d1', 'd2')} | {ratio('a', 'e')} | {fine('b', 'e')} | {fine('b2', 'e')} | {fine('c', 'e')} |")

    out += render_flow(results, sizes, flow_keys)

    encryption = [(size, results["sizes"][str(size)]["approaches"]) for size in sizes]
    encryption = [(size, entry["d1"], entry["d2"]) for size, entry in encryption if "d1" in entry and "d2" in entry]
    if encryption:
        out += ["", "The encryption floor (d), values of the policy's 8 columns:", "",
                "| rows | values | per-value values/s | batch values/s | batch/per-value |", "|---:|---:|---:|---:|---:|"]
        for size, per_value, batch in encryption:
            values = per_value["runs"][0]["values"]
            slow, fast = per_value["median"]["seconds"], batch["median"]["seconds"]
            out.append(f"| {size:,} | {values:,} | {values / slow:,.0f} | {values / fast:,.0f} | {slow / fast:,.1f}× |")

    out += ["", "The demo's output (a): intact rows = lines with 18 fields whose Order ID field is an input order id.", "",
            "| rows | intact rows | intact % | stages run | Parquet step |", "|---:|---:|---:|---:|---|"]
    for size in sizes:
        demo = results["sizes"][str(size)]["approaches"].get("a")
        if not demo:
            continue
        first = demo["runs"][0]
        intact = first.get("intact_rows", 0)
        outcome = first["failure"] or f"wrote {first.get('parquet_rows', 0):,} rows"
        out.append(f"| {size:,} | {intact:,} | {100 * intact / size:.2f} % | {first['stages_run']} of 9 | {outcome} |")

    ingest = [(size, results["sizes"][str(size)]["approaches"]["b"]["runs"][0]) for size in sizes if "b" in results["sizes"][str(size)]["approaches"]]
    if ingest:
        out += ["", "ingest_file's own accounting (b, first run):", "", "| rows | rows_in | clean | quarantined | objects |", "|---:|---:|---:|---:|---:|"]
        out += [f"| {size:,} | {run['rows_in']:,} | {run['rows_clean']:,} | {run['rows_quarantined']:,} | {run['objects']} |" for size, run in ingest]

    out += ["", "Growth of each approach from its smallest to its largest measured input:", "",
            "| approach | rows | × rows | wall time × | peak RSS × |", "|---|---|---:|---:|---:|"]
    for key in keys:
        measured = [size for size in sizes if key in results["sizes"][str(size)]["approaches"]]
        if len(measured) > 1:
            low, high = measured[0], measured[-1]
            small, large = (results["sizes"][str(size)]["approaches"][key]["median"] for size in (low, high))
            out.append(f"| {label(key)} | {low:,} → {high:,} | {high / low:,.0f} | {large['seconds'] / small['seconds']:,.1f} | "
                       f"{large['max_rss_bytes'] / small['max_rss_bytes']:,.2f} |")
    return "\n".join(out) + "\n"


def render_flow(results: dict, sizes: list[int], flow_keys: list[str]) -> list[str]:
    """The flow's runs (e and its variants): each run, memory, CPU, rows; the profile; before/after; targets."""
    from nifi_flow import WINDOW_SECONDS, render_profile

    rows = [(key, size, results["sizes"][str(size)]["approaches"][key]) for key in flow_keys for size in sizes
            if key in results["sizes"][str(size)]["approaches"]]
    if not rows:
        return []
    out = ["", "The NiFi flow (e): wall time = the input visible in the watched folder → LastModified of its last object "
           "in MinIO; peak RSS = NiFi's process group (the JVM and its Python processes) sampled every 0.5 s; core busy % "
           "from /proc/stat over the run (whole machine); CPU s of the NiFi JVM, NiFi's Python processes and MinIO; "
           "rows stored = order_info + quarantine rows in the lake over input rows. Busy = user + system (+ nice, irq), "
           "steal = time the hypervisor ran something else on the virtual CPU (runs without a steal figure counted it as busy).", "",
           "| approach | rows | Chunk Rows | each run, s | median s | rows/s | taken by GetFile, s | first object, s | "
           "peak RSS MiB (median, max) | RSS at drop MiB | core busy % | CPU s JVM / Python / MinIO | rows stored | objects | "
           "seen by the harness, s |",
           "|---|---:|---:|---|---:|---:|---:|---:|---|---:|---|---|---:|---:|---:|"]
    from nifi_flow import median_resources

    for key, size, entry in rows:
        runs = entry["runs"]
        extra = median_resources(runs)
        busy = " / ".join(f"{value:.0f}" for value in extra["core_busy_percent"].values())
        if extra["core_steal_percent"] is not None:
            busy += f" (steal {' / '.join(f'{value:.0f}' for value in extra['core_steal_percent'].values())})"
        cpu = extra["cpu_seconds"]
        stored = min(run["intact_percent"] for run in runs)
        each = ", ".join(f"{run['seconds']:.2f}" for run in runs)
        out.append(
            f"| {label(key)} | {size:,} | {runs[0]['chunk_rows']:,} | {each} | "
            f"{entry['median']['seconds']:,.2f} | {size / entry['median']['seconds']:,.0f} | "
            f"{_seconds(extra['taken_seconds'])} | {_seconds(extra['first_object_seconds'])} | "
            f"{entry['median']['max_rss_bytes'] / 2**20:,.0f}, {extra['peak_rss_max_bytes'] / 2**20:,.0f} | "
            f"{extra['start_rss_bytes'] / 2**20:,.0f} | {busy} | {cpu['nifi_jvm']:.1f} / {cpu['nifi_python']:.1f} / {cpu['minio']:.1f} | "
            f"{stored:.2f} % | {runs[0]['objects']} | {extra['detected_seconds']:.2f} |")

    for key in flow_keys:
        measured = [(size, results["sizes"][str(size)]["approaches"][key]) for size in sizes
                    if key in results["sizes"][str(size)]["approaches"]]
        shown = []
        if not any(run.get("window_clean") for _, entry in measured for run in entry["runs"]):
            continue  # no run of this variant started with an empty status window: no profile to show
        for size, entry in reversed(measured):  # the largest size whose profile is whole, and any larger one
            run = ([run for run in entry["runs"] if run.get("window_clean")] or entry["runs"])[0]
            shown.append((size, entry, run))
            if run["detected_seconds"] + 2 < WINDOW_SECONDS and run.get("window_clean"):
                break
        for size, entry, run in reversed(shown):
            window = ("started with no task of the flow in the window" if run.get("window_clean") else
                      "started with earlier tasks still in the window, so the difference is approximate")
            if run["detected_seconds"] + 2 >= WINDOW_SECONDS:
                window += (f"; it outlasted the window, so this is its last {WINDOW_SECONDS} s only, "
                           f"about {100 * WINDOW_SECONDS / run['seconds']:.0f} % of it")
            out += ["", f"Per-processor profile of {label(key)} at {size:,} rows, run {entry['runs'].index(run) + 1}: "
                    f"NiFi's processor status after the run minus before it (its counters are sums over the last 5 minutes; "
                    f"the run took {run['seconds']:.0f} s and {window}).", ""]
            out += render_profile(run["profile"], min(run["seconds"], WINDOW_SECONDS))

    variants = [key for key in flow_keys if key != "e"]
    if variants:
        out += ["", "The flow's variants against what they change (a variant e[X, Chunk Rows=N] against e[X], "
                "any other against e, the flow as deployed), same inputs:", "",
                "| variant | measured | rows | runs | median s | rows/s | against | its rows/s | × |", "|---|---|---:|---:|---:|---:|---|---:|---:|"]
        for key in variants:
            inner = key[2:-1].rsplit(", Chunk Rows=", 1)
            base = f"e[{inner[0]}]" if len(inner) == 2 and f"e[{inner[0]}]" in flow_keys else "e"
            for size in sizes:
                approaches = results["sizes"][str(size)]["approaches"]
                if key not in approaches or base not in approaches:
                    continue
                mine, theirs = approaches[key]["median"], approaches[base]["median"]
                measured = approaches[key].get("measured", "")
                out.append(f"| {label(key)} | {measured} | {size:,} | {mine['runs']} | {mine['seconds']:,.2f} | {size / mine['seconds']:,.0f} | "
                           f"{base} | {size / theirs['seconds']:,.0f} | {theirs['seconds'] / mine['seconds']:.2f} |")
    return out


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25000,250000,1000000", help="comma-separated row counts")
    parser.add_argument("--runs", default="3", help="runs per size: one number, or one per size (3,3,1)")
    parser.add_argument("--with-5m", action="store_true", help="add 5,000,000 rows (one run)")
    parser.add_argument("--approaches", default="a,b,c,d,e", help="subset of a,b,c,d,e")
    parser.add_argument("--update", action="store_true", help="merge into latest.json: re-measure some approaches, keep the rest")
    parser.add_argument("--chunk-rows", type=int, help="e: set the flow's Chunk Rows parameter for these runs (restored after)")
    parser.add_argument("--concurrent-tasks", default="", help="e: 'PROCESSOR NAME=N,...' for these runs (restored after)")
    parser.add_argument("--build", help="e: the processors NiFi runs are not this checkout's; store the runs as e[BUILD]")
    parser.add_argument("--no-warm-up", action="store_true", help="e: skip the uncounted 25,000-row run before the first")
    parser.add_argument("--no-profile-wait", action="store_true",
                        help="e: do not wait for NiFi's 5-minute status window to empty before the largest size's first run")
    parser.add_argument("--render", action="store_true", help="measure nothing: re-render latest.json into latest.md")
    args = parser.parse_args()
    args.sizes = [int(size) for size in args.sizes.split(",")]
    runs = [int(count) for count in args.runs.split(",")]
    if len(runs) not in (1, len(args.sizes)):
        parser.error("--runs takes one number or one per size")
    args.runs = dict(zip(args.sizes, runs * len(args.sizes) if len(runs) == 1 else runs))
    if args.with_5m:
        args.sizes.append(5_000_000)
        args.runs[5_000_000] = 1
    args.approaches = set(args.approaches.split(","))
    args.concurrent_tasks = {name.strip(): int(tasks) for name, tasks in
                             (item.rsplit("=", 1) for item in args.concurrent_tasks.split(",") if item.strip())}
    return args


def main() -> None:
    args = parse_args()
    env = environment()
    previous = RESULTS / "latest.json"
    results = json.loads(previous.read_text()) if (args.update or args.render) and previous.exists() else {"environment": env, "sizes": {}}
    if args.render:
        args.sizes = []
    flow = None

    def flow_runner():
        nonlocal flow
        if flow is None:
            from nifi_flow import FlowApproach

            flow = FlowApproach(args.chunk_rows, args.concurrent_tasks, None if args.no_warm_up else input_for(WARM_UP_ROWS),
                               args.build)
            results["flow_environment"] = {"date": env["date"], **flow.versions}
        return flow

    try:
        for size in args.sizes:
            path = input_for(size)
            order_ids = input_order_ids(path) if "a" in args.approaches else None
            plan = {
                "a": lambda: run_demo(path, order_ids),
                "b": lambda: run_ingest(path, workers=1),
                "b2": lambda: run_ingest(path, workers=2),
                "c": lambda: run_worker("duckdb", path),
                "d1": lambda: run_worker("encrypt-per-value", path),
                "d2": lambda: run_worker("encrypt-batch", path),
                "e": lambda number: flow_runner().run(path, profile=number == 0 and size == max(args.sizes) and not args.no_profile_wait),
            }
            entry = results["sizes"].setdefault(str(size), {"input_bytes": path.stat().st_size, "approaches": {}, "failures": {}})
            for key, run in plan.items():
                if key[0] not in args.approaches:
                    continue
                runs = []
                try:
                    if key == "e":
                        key = flow_runner().variant
                    for number in range(args.runs[size]):
                        runs.append(run(number) if key[0] == "e" else run())
                        print(f"{size:>9,} rows  {key:<2} run {number + 1}: {runs[-1]['seconds']:8.2f} s  "
                              f"{runs[-1]['max_rss_bytes'] / 2**20:7.0f} MiB", flush=True)
                except Exception as error:  # one approach failing must not lose the others' numbers
                    print(f"{size:>9,} rows  {key:<2} failed: {error}", flush=True)
                    entry["failures"][key] = f"{type(error).__name__}: {_last_line(str(error))}"
                    continue
                entry["failures"].pop(key, None)
                entry["approaches"][key] = {"runs": runs, "median": median_run(runs), "measured": env["date"]}
    finally:
        if flow is not None:
            flow.close()

    table = render(results, results["environment"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(table)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print()
    print(table)


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2:])
    else:
        main()
