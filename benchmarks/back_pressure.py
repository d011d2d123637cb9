"""Issue 11's back-pressure drop: gigabytes of exports in the inbox at once, through the deployed flow.

    python3 -m benchmarks.back_pressure [--gigabytes 5] [--file-rows 1000000]

Copies of the cached benchmark input (1,000,000 rows, 341 MB) are built beside the inbox
under their own names and renamed into it within a second. Every 2 s the script samples
NiFi's process-group RSS (JVM and Python processes), what the flow holds queued, the
fullest connection against its back-pressure thresholds, and the content repository's size
on disk, until every row of every file is in the lake. It prints and writes
benchmarks/results/back_pressure.json (drain time, peaks, rows stored), then deletes the
objects it wrote. Too long for CI (about half an hour on 2 cores); docs/reliability.md has
its result.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

from ecommerce_pipeline.lake_watch import LakeWatch, outcome, records_in
from ecommerce_pipeline.ledger import ledger_keys
from nifi.provisioning.paths import STATE

from .inputs import RESULTS, input_for
from .lake_reading import delete_run_objects
from .nifi_control import FlowUnderTest
from .report import environment
from .resources import ResourceSampler, Sampler

SAMPLE_SECONDS = 2


def say(message: str) -> None:
    print(f"[back-pressure] {message}", flush=True)


def disk_bytes(folder: Path) -> int:
    return sum(entry.stat().st_size for entry in folder.rglob("*") if entry.is_file())


class QueueSampler(Sampler):
    """What the flow holds queued, every 2 s: FlowFiles, bytes, the fullest connection, the content repository."""

    seconds = SAMPLE_SECONDS

    def __init__(self, flow: FlowUnderTest, content_repository: Path):
        super().__init__()
        self.flow, self.content_repository = flow, content_repository
        self.samples: list[dict] = []

    def sample(self) -> None:
        aggregate = self.flow.aggregate_status()
        fullest = max((entity.connection_status_snapshot for entity in aggregate.connection_status_snapshots or []),
                      key=lambda c: max(c.percent_use_count or 0, c.percent_use_bytes or 0), default=None)
        self.samples.append({
            "seconds": round(time.monotonic() - self.started, 1),
            "flowfiles_queued": aggregate.flow_files_queued or 0,
            "bytes_queued": aggregate.bytes_queued or 0,
            "fullest_connection": f"{fullest.source_name} → {fullest.destination_name}" if fullest else None,
            "fullest_percent": max(fullest.percent_use_count or 0, fullest.percent_use_bytes or 0) if fullest else 0,
            "content_repository_bytes": disk_bytes(self.content_repository),
        })


def build_drop(source: Path, inbox: Path, copies: int) -> list[Path]:
    """`copies` hidden copies of `source` in the inbox, not yet visible, each of its own content.

    The ingest ledger stores a content once: copy n has n spaces after the header's last name,
    which cleaning strips, so every copy is a new file with the same rows.
    """
    tag = uuid.uuid4().hex[:8]
    staged = []
    for number in range(copies):
        hidden = inbox / f".pressure-{tag}-{number:02d}.csv"
        with source.open("rb") as original, hidden.open("wb") as copy:
            header = original.readline()
            ending = header[len(header.rstrip(b"\r\n")):]
            copy.write(header.rstrip(b"\r\n") + b" " * number + ending)
            shutil.copyfileobj(original, copy, 1 << 20)
        staged.append(hidden)
    return staged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=5)
    parser.add_argument("--file-rows", type=int, default=1_000_000)
    parser.add_argument("--timeout-minutes", type=float, default=90)
    args = parser.parse_args()

    source = input_for(args.file_rows)
    copies = max(1, round(args.gigabytes * 1e9 / source.stat().st_size))
    records = records_in(source)
    flow = FlowUnderTest()
    flow.wait_idle()
    content_repository = STATE / "nifi" / "content_repository"
    lake = LakeWatch(flow.s3)
    ledger_before = ledger_keys(flow.s3.client(), flow.s3.bucket)
    staged = build_drop(source, flow.inbox, copies)
    stems = [hidden.name[1:-4] for hidden in staged]
    total_bytes = copies * source.stat().st_size
    say(f"{copies} files of {records:,} rows, {total_bytes / 1e9:.2f} GB in all, into {flow.inbox}")

    stored: dict[str, int] = {}
    try:
        with ResourceSampler(flow.nifi_pgid, flow.store_pgid) as resources, QueueSampler(flow, content_repository) as queues:
            started = time.monotonic()
            for hidden in staged:
                os.replace(hidden, hidden.with_name(hidden.name[1:]))
            say(f"dropped in {time.monotonic() - started:.2f} s")
            deadline, done = started + args.timeout_minutes * 60, set()
            while len(done) < len(stems) and time.monotonic() < deadline:
                for stem in stems:
                    if stem not in done:
                        objects = lake.landed(stem)
                        stored[stem] = sum(o.rows or 0 for o in objects if o.prefix in ("order_info", "_quarantine"))
                        if outcome(objects, records) is not None:
                            done.add(stem)
                last = queues.samples[-1] if queues.samples else {}
                say(f"{len(done)}/{len(stems)} files complete, {sum(stored.values()):,} of {copies * records:,} rows; "
                    f"queued {last.get('flowfiles_queued', 0):,} FlowFiles / {last.get('bytes_queued', 0) / 1e9:.2f} GB, "
                    f"content repository {last.get('content_repository_bytes', 0) / 1e9:.2f} GB, "
                    f"RSS {resources.samples[-1][0] / 2**20 if resources.samples else 0:.2f} GiB "
                    f"[{time.monotonic() - started:.0f}s]")
                time.sleep(10)
            drained = time.monotonic() - started
        result = {
            "environment": environment(),
            "files": copies, "rows_per_file": records, "input_bytes": total_bytes,
            "complete_files": len(done), "rows_stored": sum(stored.values()), "rows_in": copies * records,
            "seconds_to_drain": drained, "rows_per_second": sum(stored.values()) / drained,
            "peak_rss_bytes": resources.result["peak_rss_bytes"], "peak_jvm_rss_bytes": resources.result["peak_jvm_rss_bytes"],
            "start_rss_bytes": resources.result["start_rss_bytes"],
            "core_busy_percent": resources.result["core_busy_percent"],
            "peak_flowfiles_queued": max(s["flowfiles_queued"] for s in queues.samples),
            "peak_bytes_queued": max(s["bytes_queued"] for s in queues.samples),
            "peak_content_repository_bytes": max(s["content_repository_bytes"] for s in queues.samples),
            "peak_connection_percent": max(s["fullest_percent"] for s in queues.samples),
            "fullest_connection": max(queues.samples, key=lambda s: s["fullest_percent"])["fullest_connection"],
            "samples": queues.samples,
            "measured": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
    finally:
        for hidden in staged:
            for left in (hidden, hidden.with_name(hidden.name[1:])):
                left.unlink(missing_ok=True)
        for stem in stems:
            delete_run_objects(flow.s3, stem)
        for key in ledger_keys(flow.s3.client(), flow.s3.bucket) - ledger_before:  # the copies' contents, new to the lake
            flow.s3.client().delete_object(Bucket=flow.s3.bucket, Key=key)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "back_pressure.json").write_text(json.dumps(result, indent=2, default=str))
    summary = {key: value for key, value in result.items() if key not in ("samples", "environment")}
    print(json.dumps(summary, indent=2, default=str))
    if result["rows_stored"] != result["rows_in"]:
        sys.exit(f"only {result['rows_stored']:,} of {result['rows_in']:,} rows stored")


if __name__ == "__main__":
    main()
