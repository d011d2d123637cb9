"""Approach e: the deployed NiFi flow, "file dropped into the watched folder -> last object in the S3 store".

The store is the one the stack runs (MinIO by default); given several (--stores minio,seaweedfs),
the runs alternate between them, the stack switching stores under the running NiFi, and each
store's runs are kept under its own key (e for MinIO, e[SeaweedFS] beside it).

Each run links the cached input under a unique name (`bench-<rows>-<id>.csv`, so its object
keys are its own), drops it with lake_watch.drop_into_inbox, waits with
lake_watch.wait_until_landed until every input row is in the lake, and then deletes the
run's objects. While it runs, resources.ResourceSampler samples NiFi's process group; NiFi's
processor status before and after gives the per-processor profile.
"""

import io
import os
import shutil
import threading
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
from cryptography.fernet import Fernet

from ecommerce_pipeline.lake_watch import LakeWatch, drop_into_inbox, drop_time, records_in, wait_until_landed
from ecommerce_pipeline.policy import load_policy
from nifi.provisioning.stores import DEFAULT_STORE, STORES

from .lake_reading import delete_run_objects, forget_content, run_objects
from .nifi_control import FlowUnderTest, say
from .resources import ResourceSampler


def run_flow(flow: FlowUnderTest, path: Path, records: int, profile: bool = False) -> dict:
    """Drops a uniquely named copy of `path` and waits until all its rows are in the lake; then deletes its objects."""
    stem = f"bench-{records}-{uuid.uuid4().hex[:10]}"
    timeout = 300 + records / 2000
    flow.wait_idle()
    if profile:
        flow.wait_quiet_window()
    lake = LakeWatch(flow.s3)
    workdir = path.parent / f".{stem}"
    workdir.mkdir()
    source = workdir / f"{stem}.csv"
    try:
        os.link(path, source)  # the same bytes under the run's own name; drop_into_inbox copies it into the inbox
    except OSError:
        shutil.copyfile(path, source)
    dropped: dict[str, float] = {}
    taken = threading.Event()

    def drop() -> None:
        target = drop_into_inbox(source, flow.inbox)
        dropped["epoch"], dropped["monotonic"] = time.time(), time.monotonic()
        threading.Thread(target=_watch_taken, args=(target, dropped, taken), daemon=True).start()

    before = flow.snapshot()
    failure, objects = None, []
    try:
        with ResourceSampler(flow.nifi_pgid, flow.store_pgid) as sampler:
            try:
                dropped_at = drop_time()
                drop()
                _, objects = wait_until_landed(lake, source, records, dropped_at, timeout,
                                               progress=lambda line: say(line))
            except TimeoutError as error:
                failure = str(error)
            detected = time.monotonic()
            taken.set()
        time.sleep(2)  # the last Upload's session commits after its put: let its task reach the status
        after = flow.snapshot()
        listing = run_objects(flow.s3, stem)
        if failure:
            objects = lake.landed(stem)
        run = summarise(records, objects, listing, dropped, detected, sampler.result, before, after, flow.sources)
        run["stem"] = stem
        if failure:
            run["failure"] = failure
        else:
            run["tokens_open_with_plain_fernet"] = _tokens_open(flow, objects)
    finally:
        left = flow.inbox / source.name
        if left.exists():  # a run that timed out before the flow took the file
            left.unlink()
        source.unlink(missing_ok=True)
        workdir.rmdir()
        delete_run_objects(flow.s3, stem)
        forget_content(flow.s3, path)
    return run


def _watch_taken(target: Path, dropped: dict[str, float], stop: threading.Event) -> None:
    """When the flow took the file (FetchFile deletes it from the inbox): after ListFile's Minimum File Age and polling."""
    while not stop.is_set():
        if not target.exists():
            dropped["taken"] = time.monotonic() - dropped["monotonic"]
            return
        stop.wait(0.1)


def _tokens_open(flow: FlowUnderTest, objects) -> bool:
    """The first 50 tokens of every encrypted column of one customer_info object open with plain Fernet."""
    candidates = sorted((o for o in objects if o.prefix == "customer_info"), key=lambda o: o.size)
    if not candidates:
        return False
    body = flow.s3.client().get_object(Bucket=flow.s3.bucket, Key=candidates[0].key)["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    fernet = Fernet(flow.settings["FERNET_KEYS"].split(",")[0].strip())
    for column in load_policy().encrypted_columns("customer_info"):
        for token in table.column(column).to_pylist()[:50]:
            if token is not None:
                fernet.decrypt(token.encode() if isinstance(token, str) else token)
    return True


def summarise(records, objects, listing, dropped, detected, resources, before, after, sources) -> dict:
    """One run's figures: times from the drop, rows and objects in the lake, resources, the profile."""
    rows = {}
    for landed in objects:
        rows[landed.prefix] = rows.get(landed.prefix, 0) + (landed.rows or 0)
    stored = rows.get("order_info", 0) + rows.get("_quarantine", 0)
    last, first = max(listing.values(), default=None), min(listing.values(), default=None)
    seconds = (last.timestamp() - dropped["epoch"]) if last and "epoch" in dropped else float("nan")
    return {
        "seconds": seconds,  # dropped (visible in the inbox) -> LastModified of the last object
        "detected_seconds": detected - dropped.get("monotonic", detected),  # -> the harness saw every row
        "taken_seconds": dropped.get("taken"),  # -> the flow took it (Minimum File Age, polling)
        "first_object_seconds": (first.timestamp() - dropped["epoch"]) if first and "epoch" in dropped else None,
        "max_rss_bytes": resources["peak_rss_bytes"],
        "resources": resources,
        "records": records,
        "rows_by_prefix": rows,
        "rows_stored": stored,
        "intact_percent": 100 * min(stored, records) / records if records else 0.0,
        "segments_agree": all(rows.get(s, 0) == rows.get("order_info", 0) for s in ("customer_info", "payment_and_delivery_info")),
        "objects": len(listing),
        "bytes_in_lake": sum(o.size for o in objects),
        "profile": profile_difference(before, after),
        "window_clean": window_clean(before, sources),
    }


def window_clean(before: dict[str, dict], sources: set[str]) -> bool:
    return not any(s["tasks"] for name, s in before.items() if name not in sources)


def profile_difference(before: dict[str, dict], after: dict[str, dict]) -> dict[str, dict]:
    out = {}
    for name, now in after.items():
        was = before.get(name, {})
        out[name] = {"type": now["type"], **{key: now[key] - was.get(key, 0) for key in
                                              ("tasks", "nanos", "bytes_read", "bytes_written", "flowfiles_in", "flowfiles_out")}}
    return out


class FlowApproach:
    """Connects once, applies the variant (Chunk Rows, concurrent tasks), warms the flow on each store, restores on close."""

    def __init__(self, chunk_rows: int | None, concurrent_tasks: dict[str, int], warm_up_input: Path | None,
                 build: str | None = None, stores: list[str] | None = None):
        self.flow = FlowUnderTest()
        self.deployed_chunk_rows = self.flow.chunk_rows()
        self.chunk_rows = chunk_rows or self.deployed_chunk_rows
        self.concurrent_tasks = concurrent_tasks
        self.records: dict[Path, int] = {}
        self.stores = stores or [self.flow.store.name]
        self.variants = {store: variant_key(self.chunk_rows, self.deployed_chunk_rows, concurrent_tasks, build, store)
                         for store in self.stores}
        self.warm_up_input, self.warmed = warm_up_input, set()
        try:
            self.versions = self.flow.versions()
            self.flow.set_chunk_rows(self.chunk_rows)
            for name, tasks in concurrent_tasks.items():
                self.flow.set_concurrent_tasks(name, tasks)
        except BaseException:
            self.close()
            raise

    @property
    def variant(self) -> str:
        """The key of the first store's runs (the only one, unless --stores names several)."""
        return self.variants[self.stores[0]]

    def run(self, path: Path, profile: bool = False, store: str | None = None) -> dict:
        """One run on `store` (default: the first): the stack switches to it, and a store's first run is preceded
        by an uncounted warm-up."""
        store = store or self.stores[0]
        self.flow.use_store(store)
        self.versions["stores"][store] = self.flow.store_version()
        if self.warm_up_input is not None and store not in self.warmed:
            self.warmed.add(store)
            say(f"warm-up run on {store} (not counted) on {self.warm_up_input.name}")
            warm = self.run(self.warm_up_input, store=store)
            say(f"warm-up: {warm['seconds']:.2f} s to the last object, {warm['intact_percent']:.1f} % of rows stored")
        if path not in self.records:
            self.records[path] = records_in(path)
        run = run_flow(self.flow, path, self.records[path], profile)
        run["chunk_rows"] = self.chunk_rows
        run["concurrent_tasks"] = self.concurrent_tasks
        run["store"] = store
        if "failure" in run:
            raise RuntimeError(f"{run['failure']} ({run['rows_stored']:,} of {run['records']:,} rows stored)")
        return run

    def close(self) -> None:
        self.flow.restore()


def variant_key(chunk_rows: int, deployed: int, concurrent_tasks: dict[str, int], build: str | None = None,
                store: str = DEFAULT_STORE) -> str:
    """'e' for the flow as deployed on MinIO; 'e[SeaweedFS]', 'e[Chunk Rows=100000]', 'e[processors at 5861c31]'
    etc. for a variant beside it (the store first, so e[SeaweedFS, Chunk Rows=N] compares with e[SeaweedFS])."""
    changes = [STORES[store].title] if store != DEFAULT_STORE else []
    changes += [build] if build else []
    changes += [f"Chunk Rows={chunk_rows}"] if chunk_rows != deployed else []
    changes += [f"{name} tasks={tasks}" for name, tasks in sorted(concurrent_tasks.items())]
    return f"e[{', '.join(changes)}]" if changes else "e"
