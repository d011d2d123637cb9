"""The benchmarks of issues 5 and 10 in one command: the original demo, the CLI, DuckDB, Fernet and the NiFi flow.

    python3 -m benchmarks.run_benchmarks [--sizes 25000,250000,1000000] [--runs 3 | --runs 3,3,1] [--with-5m]
        [--approaches a,b,c,d,e] [--update]   (re-measure some approaches, keep the rest of latest.json)
        [--chunk-rows N] [--concurrent-tasks 'Clean rows=2']   (e: a variant of the flow, beside e as deployed)
        [--build 'processors at 5861c31']   (e: NiFi runs another build of the processors, e.g. before a change)
        [--stores minio,seaweedfs]   (e: the runs alternate between the stores, the stack switching under NiFi)

For each size it generates a seed-like input once (cached in benchmarks/results/inputs/)
and measures approaches a-d (approaches.py), each in its own subprocess so peak RSS belongs
to one approach, and
  e  the deployed NiFi flow: the input dropped into the watched folder -> its last object in
     the S3 store (needs `nifi/stack up && python3 deploy_flow.py`; see flow_approach.py): MinIO is
     e, SeaweedFS e[SeaweedFS]; --stores names both to interleave their runs. A variant
     (--chunk-rows, --concurrent-tasks) is set through NiFi's API for the command's e runs,
     stored under its own key (e[Chunk Rows=100000]) and restored afterwards; --build names
     the processors NiFi has loaded when they are not this checkout's (e[processors at 5861c31]).
Results: a markdown table on stdout and in benchmarks/results/latest.md, raw runs in
benchmarks/results/latest.json. docs/benchmarks.md explains the method.
"""

import argparse
import json
import statistics

from nifi.provisioning.stores import STORES

from .approaches import input_order_ids, last_line, run_demo, run_ingest, run_worker
from .flow_approach import FlowApproach
from .inputs import RESULTS, input_for
from .report import environment, render

WARM_UP_ROWS = 25_000


def median_run(runs: list[dict]) -> dict:
    return {
        "seconds": statistics.median(run["seconds"] for run in runs),
        "max_rss_bytes": statistics.median(run["max_rss_bytes"] for run in runs),
        "process_seconds": statistics.median(run.get("process_seconds", run["seconds"]) for run in runs),
        "runs": len(runs),
    }


def measure(key: str, run, runs: int, size: int) -> dict[str, list[dict] | Exception]:
    return measure_interleaved({key: run}, runs, size)


def measure_interleaved(plan: dict, runs: int, size: int) -> dict[str, list[dict] | Exception]:
    """Each key's runs, run 1 of every key, then run 2 of every key, ...: approaches compared on a shared machine
    see the same load. A key whose run fails gets its error and no further runs; the others go on."""
    done: dict[str, list[dict] | Exception] = {key: [] for key in plan}
    for number in range(runs):
        for key, run in plan.items():
            if isinstance(done[key], Exception):
                continue
            try:
                done[key].append(run(number))
            except Exception as error:  # one approach failing must not lose the others' numbers
                print(f"{size:>9,} rows  {key:<2} failed: {error}", flush=True)
                done[key] = error
                continue
            print(f"{size:>9,} rows  {key:<2} run {number + 1}: {done[key][-1]['seconds']:8.2f} s  "
                  f"{done[key][-1]['max_rss_bytes'] / 2**20:7.0f} MiB", flush=True)
    return done


def record(entry: dict, measured: dict[str, list[dict] | Exception], date: str) -> None:
    for key, runs in measured.items():
        if isinstance(runs, Exception):
            entry["failures"][key] = f"{type(runs).__name__}: {last_line(str(runs))}"
            continue
        entry["failures"].pop(key, None)
        entry["approaches"][key] = {"runs": runs, "median": median_run(runs), "measured": date}


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
    parser.add_argument("--stores", default="", help="e: the S3 stores to run on, alternating run by run "
                        "(default: the one the stack runs), e.g. minio,seaweedfs")
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
    args.stores = [store.strip() for store in args.stores.split(",") if store.strip()]
    unknown = sorted(set(args.stores) - set(STORES))
    if unknown:
        parser.error(f"unknown store {', '.join(unknown)} (choose from {', '.join(STORES)})")
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
            flow = FlowApproach(args.chunk_rows, args.concurrent_tasks, None if args.no_warm_up else input_for(WARM_UP_ROWS),
                               args.build, args.stores)
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
                "d2": lambda: run_worker("encrypt-numpy", path),
                "d3": lambda: run_worker("encrypt-compiled", path),
                "d4": lambda: run_worker("decrypt-compiled", path),
            }
            entry = results["sizes"].setdefault(str(size), {"input_bytes": path.stat().st_size, "approaches": {}, "failures": {}})
            for key, run in plan.items():
                if key[0] not in args.approaches:
                    continue
                measured = measure(key, lambda number: run(), args.runs[size], size)
                record(entry, measured, env["date"])
            if "e" in args.approaches:
                flow = flow_runner()
                profiled = not args.no_profile_wait and size == max(args.sizes)
                measured = measure_interleaved(
                    {flow.variants[store]: (lambda number, store=store: flow.run(path, profiled and number == 0, store))
                     for store in flow.stores}, args.runs[size], size)
                record(entry, measured, env["date"])
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
    main()
