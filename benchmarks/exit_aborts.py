"""How often a command-line run dies by a signal at exit: every command the tests run, many times.

    python3 -m benchmarks.exit_aborts [--rounds 100] [--parallel 2] [--load 0] [--cases decrypt-wrong-key,...]

A run that prints its result and then dies with SIGABRT ("terminate called without an active
exception") fails a test or a script at random. Such deaths come from native threads that
are still working when the interpreter shuts down (docs/reliability.md, "Exits"), so they are
rare and depend on the machine's load: only many runs give a rate.

It starts a private MinIO (`nifi/stack up minio` with its own state, `.env`, ports and Fernet
key, under benchmarks/results/exit-aborts/, removed afterwards), ingests a 300-row sample and
runs each case `--rounds` times, each round running every case once in turn (the cases see the
same load), `--parallel` rounds at a time. `--load N` adds N busy processes for the duration
(the machine's load is not otherwise controlled: say what else ran when quoting figures).
Each run is counted by how it ended: the expected exit status, another status, or a signal;
the stderr of the first signal deaths is kept. Results: a markdown table on stdout and
benchmarks/results/exit-aborts.json. `drop` is not among the cases: it needs NiFi.
"""

import argparse
import collections
import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.ingest import ingest_file
from ecommerce_pipeline.sample_data import write_sample_csv

from .inputs import RESULTS
from .lake_tools import PrivateLake

WORK = RESULTS / "exit-aborts"
SAMPLE_ROWS = 300
KEPT_STDERR = 3


def say(message: str) -> None:
    print(f"[exit-aborts] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    expected: int
    variables: dict[str, str] = field(default_factory=dict)


def cases(bucket: str, objects: list[str], key: str, work: str) -> list[Case]:
    """The CLI runs of the tests, on their success and failure paths; `{run}` makes an output path unique."""
    customer_object = f"s3://{bucket}/{next(k for k in objects if k.startswith('customer_info/'))}"
    wrong = {"FERNET_KEYS": generate_key()}
    same_keys = {"NEW_FERNET_KEYS": key}  # a rotation to the current key: reads every object, rewrites none
    return [
        Case("decrypt", ("decrypt", customer_object, f"{work}/out-{{run}}.csv"), 0),
        Case("decrypt-wrong-key", ("decrypt", customer_object, f"{work}/never.csv"), 1, wrong),
        Case("decrypt-missing", ("decrypt", f"s3://{bucket}/customer_info/none.parquet", f"{work}/x.csv"), 1),
        Case("rotate", ("rotate", customer_object, f"{work}/rotated-{{run}}.parquet"), 0, same_keys),
        Case("rotate-wrong-key", ("rotate", customer_object, f"{work}/never.parquet"), 1,
             {**wrong, **same_keys}),
        Case("query", ("query", "SELECT count(*) FROM customer_info"), 0),
        Case("query-decrypt", ("query", "SELECT decrypt(email_address) FROM customer_info"), 0),
        Case("query-decrypt-wrong-key", ("query", "SELECT decrypt(email_address) FROM customer_info"), 1, wrong),
        Case("query-bad-sql", ("query", "SELECT * FROM no_such_table"), 1),
        Case("rotate-lake", ("rotate-lake",), 0, same_keys),
        Case("rotate-lake-dry-run", ("rotate-lake", "--dry-run"), 0, same_keys),
        Case("erase", ("erase", "no-such-customer", "--reference", "benchmark"), 0),
        Case("erase-dry-run", ("erase", "no-such-customer", "--dry-run"), 0),
        Case("ingest-duplicate", ("ingest", f"{work}/sample.csv"), 0),
        Case("ingest-missing", ("ingest", f"{work}/none.csv"), 1),
    ]


class Tally:
    def __init__(self):
        self.endings: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.signal_stderr: list[str] = []

    def add(self, case: Case, result: subprocess.CompletedProcess) -> None:
        status = result.returncode
        ending = "expected" if status == case.expected else f"signal {-status}" if status < 0 else f"status {status}"
        self.endings[case.name][ending] += 1
        if status < 0 and len(self.signal_stderr) < KEPT_STDERR:
            self.signal_stderr.append(f"{case.name}: {result.stderr[-600:]}")

    def signals(self, name: str) -> int:
        return sum(count for ending, count in self.endings[name].items() if ending.startswith("signal"))


def run_cases(lake: PrivateLake, selected: list[Case], rounds: int, parallel: int) -> Tally:
    tally = Tally()

    def one_round(number: int) -> list[tuple[Case, subprocess.CompletedProcess]]:
        return [(case, subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli",
                                       *(arg.format(run=number) for arg in case.args)],
                                      capture_output=True, text=True, env={**lake.env, **case.variables}))
                for case in selected]

    started = time.monotonic()
    with ThreadPoolExecutor(parallel) as pool:
        for done, results in enumerate(pool.map(one_round, range(rounds)), 1):
            for case, result in results:
                tally.add(case, result)
            if done % 10 == 0 or done == rounds:
                deaths = sum(tally.signals(case.name) for case in selected)
                say(f"round {done}/{rounds}, {time.monotonic() - started:.0f}s: {deaths} signal deaths so far")
    return tally


def render(selected: list[Case], tally: Tally) -> str:
    lines = ["| case | runs | signal deaths | other unexpected exits |", "|---|---:|---:|---:|"]
    for case in selected:
        endings = tally.endings[case.name]
        other = sum(count for ending, count in endings.items() if ending.startswith("status"))
        lines.append(f"| {case.name} | {sum(endings.values())} | {tally.signals(case.name)} | {other} |")
    return "\n".join(lines)


def busy_processes(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="runs of each case")
    parser.add_argument("--parallel", type=int, default=2, help="rounds running at once")
    parser.add_argument("--load", type=int, default=0, help="busy processes running beside them")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    args = parser.parse_args()

    lake = PrivateLake(WORK / "lake")
    lake.stack("up", "minio")
    load = []
    try:
        work = WORK / "files"
        work.mkdir(parents=True, exist_ok=True)
        write_sample_csv(work / "sample.csv", rows=SAMPLE_ROWS, seed=5)
        key = lake.settings["FERNET_KEYS"].split(",")[0]
        report = ingest_file(work / "sample.csv", lake.s3("flow"), key)
        every = cases(lake.s3("flow").bucket, report.objects, key, str(work))
        wanted = args.cases.split(",") if args.cases else [case.name for case in every]
        unknown = set(wanted) - {case.name for case in every}
        if unknown:
            raise SystemExit(f"unknown cases {', '.join(sorted(unknown))}: choose from "
                             f"{', '.join(case.name for case in every)}")
        selected = [case for case in every if case.name in wanted]
        say(f"{len(selected)} cases x {args.rounds} rounds, {args.parallel} at a time, {args.load} busy processes")
        load = busy_processes(args.load)
        tally = run_cases(lake, selected, args.rounds, args.parallel)
    finally:
        for process in load:
            process.kill()
            process.wait()
        lake.stack("down")
        shutil.rmtree(WORK, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "exit-aborts.json").write_text(json.dumps(
        {"rounds": args.rounds, "parallel": args.parallel, "load": args.load,
         "endings": {name: dict(counts) for name, counts in tally.endings.items()},
         "signal_stderr": tally.signal_stderr}, indent=1))
    print(render(selected, tally))
    for stderr in tally.signal_stderr:
        print(f"\n{stderr}")


if __name__ == "__main__":
    main()
