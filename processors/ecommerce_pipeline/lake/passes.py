"""A resumable walk over the lake for the tools that rewrite it (key rotation, erasure).

The walk visits every key under the given prefixes in key order, each with all its versions,
and hands them to the job's handler, which decides what to rewrite or delete. Its state lives
in the bucket, `_maintenance/<job>/<name>/state.json`, so any machine with the maintainer's
credentials resumes it: the last key handled (the cursor), the counts so far, and when the job
began by the store's own clock. A kill -9 at any moment loses at most the work on the key in
hand since the last checkpoint; handlers decide from the object itself (are its tokens under
the newest key, does it hold the customer), so doing a key again is harmless.

Objects the flow stores while the walk runs, behind the cursor, are caught up afterwards: the
keys with a version stored since the job began are handled again, round after round, until a
round rewrites nothing.
"""

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..exit_codes import CommandFailed
from ..object_keys import MAINTENANCE_PREFIX
from .progress import Progress
from .recount import Inventory, recount, take_inventory
from .store import LakeStore, ObjectChanged, ObjectVersion

CHECKPOINT_SECONDS = 5
CLOCK_MARGIN = dt.timedelta(seconds=2)  # the store's LastModified is to the second on some stores
CATCH_UP_ROUNDS = 5
CHANGED_RETRIES = 5


@dataclass
class Handled:
    """What a handler did with one key: counts to add, and whether it wrote or deleted anything."""

    counts: Counter = field(default_factory=Counter)
    wrote: bool = False


Handler = Callable[[list[ObjectVersion], bool], Handled]  # (versions newest first, catching up) -> Handled


def state_key(job: str, name: str) -> str:
    return f"{MAINTENANCE_PREFIX}{job}/{name}/state.json"


def inventory_key(job: str, name: str) -> str:
    """The lake's objects and rows when the job began (recount), kept while the job runs."""
    return f"{MAINTENANCE_PREFIX}{job}/{name}/inventory.json"


class Walk:
    """Runs `handler` on every key under `prefixes`, checkpointing in the bucket (none in a dry run)."""

    def __init__(self, store: LakeStore, job: str, name: str, prefixes: Iterable[str], handler: Handler,
                 *, dry_run: bool = False, say: Callable[[str], object] = print):
        self.store, self.job, self.handler, self.dry_run, self.say = store, job, handler, dry_run, say
        self.prefixes = sorted(prefixes)
        self.key = state_key(job, name)
        self.inventory_key = inventory_key(job, name)
        self.state: dict = {}
        self.inventory: Inventory | None = None

    def load(self) -> dict | None:
        """The unfinished state of this job, if a run was interrupted."""
        state = self.store.read_json(self.key)
        return state if state and not state.get("finished_at") else None

    def run(self, details: dict | None = None, after_scan: Callable[[], object] | None = None) -> dict:
        """Walks the lake (resuming an interrupted run), calls `after_scan`, catches up; returns the final state.

        A dry run only walks. `after_scan` (a job's second phase, e.g. erasure applying what its
        walk found) runs again when a run is resumed in it, so it must be resumable itself.
        """
        resumed = None if self.dry_run else self.load()
        if resumed:
            self.state = resumed
            self.say(f"resuming the {self.job} begun at {resumed['started_at']} "
                     f"({_counts_line(resumed['counts']) or 'nothing done yet'})")
        else:
            self.state = {"job": self.job, "started_at": None, "cursor": None, "phase": "scan", "since": None,
                          "counts": {}, "finished_at": None, **(details or {})}
            self.state["started_at"] = self.state["since"] = self.save().isoformat()
            self.save()
        if not self.dry_run:
            self._load_inventory()
        counts = Counter(self.state["counts"])
        if self.state["phase"] == "scan":
            self._scan(counts)
            self.state["counts"] = dict(counts)
            if self.dry_run:
                return self.state
            self.state["phase"] = "after-scan"
            self.save()
        if self.state["phase"] == "after-scan":
            if after_scan is not None:
                after_scan()
            self.state["phase"] = "catch-up"
            self.save()
        self._catch_up(counts)
        self.state["counts"] = dict(counts)
        return self.state

    def _load_inventory(self) -> None:
        """The inventory of an interrupted run, or one taken now, stored before anything changes."""
        stored = self.store.read_json(self.inventory_key)
        if stored is not None:
            self.inventory = stored["objects"]
            return
        self.inventory = take_inventory(self.store, self.prefixes)
        self.store.write_json(self.inventory_key, {"objects": self.inventory})

    def recount(self, removed: dict[str, int | None] | None = None) -> str:
        """The safety net: the inventory's objects counted again (recount.recount); the line of rows per table."""
        return recount(self.store, self.inventory or {}, self.job, removed)

    def finish(self) -> None:
        """Marks the job done; its state stays as the record of the last run (older versions of it go)."""
        self.state["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.save()
        self.store.prune(self.key)
        self.store.remove(self.inventory_key)

    def remove(self) -> None:
        """Deletes the job's state and inventory (a job that leaves its own record elsewhere)."""
        self.store.remove(self.key)
        self.store.remove(self.inventory_key)

    def _scan(self, counts: Counter) -> None:
        cursor = self.state["cursor"]
        total, done = self._count_keys(cursor)
        progress = Progress(self.job if not self.dry_run else f"{self.job} (dry run)", total, "objects")
        progress.update(done)
        last_save = time.monotonic()
        try:
            for prefix in self.prefixes:
                if cursor and cursor >= prefix and not cursor.startswith(prefix):
                    continue  # every key under this prefix sorts before the cursor: done
                after = cursor if cursor and cursor.startswith(prefix) else None
                for versions in self.store.versions(prefix, after):
                    handled = self._handle(versions, catching_up=False)
                    counts.update(handled.counts)
                    self.state["cursor"] = versions[0].key
                    progress.update(detail=_counts_line(counts))
                    if handled.wrote or time.monotonic() - last_save > CHECKPOINT_SECONDS:
                        self.state["counts"] = dict(counts)
                        self.save()
                        last_save = time.monotonic()
        finally:
            progress.close()

    def _catch_up(self, counts: Counter) -> None:
        """Handles again the keys with a version stored since `since`, until a round rewrites nothing."""
        for _ in range(CATCH_UP_ROUNDS):
            since = dt.datetime.fromisoformat(self.state["since"]) - CLOCK_MARGIN
            round_started = self.save()
            recent = wrote = 0
            for prefix in self.prefixes:
                for versions in self.store.versions(prefix):
                    if all(version.last_modified < since for version in versions):
                        continue
                    recent += 1
                    handled = self._handle(versions, catching_up=True)
                    if handled.wrote:  # what is already done was counted when it was done
                        counts.update(handled.counts)
                    wrote += handled.wrote
            self.state["since"] = round_started.isoformat()
            self.state["counts"] = dict(counts)
            self.save()
            if recent:
                self.say(f"caught up with {recent} objects stored since the walk began; {wrote} rewritten")
            if not wrote:
                return
        raise CommandFailed(f"the {self.job} is not finished: the flow keeps storing objects it must rewrite "
                            f"({wrote} in the last round of {CATCH_UP_ROUNDS}); run the command again")

    def _handle(self, versions: list[ObjectVersion], catching_up: bool) -> Handled:
        """The handler on one key; when the flow rewrote the key meanwhile, again on its new versions."""
        for _ in range(CHANGED_RETRIES):
            try:
                return self.handler(versions, catching_up)
            except (ObjectChanged, FileNotFoundError):  # rewritten or removed since it was listed
                versions = self.store.versions_of(versions[0].key)
                if not versions:
                    return Handled()
        raise CommandFailed(f"s3://{self.store.bucket}/{versions[0].key} keeps changing while it is rewritten; "
                            "run the command again")

    def _count_keys(self, cursor: str | None) -> tuple[int, int]:
        """(keys under the prefixes, those up to the cursor): a listing, for the progress line."""
        total = done = 0
        for prefix in self.prefixes:
            for item in self.store.objects(prefix):
                total += 1
                done += cursor is not None and item["Key"] <= cursor
        return total, done

    def save(self) -> dt.datetime:
        if self.dry_run:
            return dt.datetime.now(dt.timezone.utc)
        return self.store.write_json(self.key, self.state)


def _counts_line(counts: dict) -> str:
    return ", ".join(f"{value} {name.replace('_', ' ')}" for name, value in counts.items() if value)
