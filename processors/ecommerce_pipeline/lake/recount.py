"""The safety net of the tools that rewrite the lake: its rows counted before the job, and again before it reports.

The counts come from the store, never from the job's own bookkeeping: every current object
under the job's prefixes when the job begins (a Parquet object by the row count in its
footer, read with a ranged GET; a whole file kept in quarantine as one object), saved beside
the job's state before anything changes, so a run resumed after a kill compares with the lake
as it was when the job began. At the end the same objects are counted again; what the job
meant to remove (erasure's plan) is taken off; any other difference (an object gone, rows
missing or added) fails the command, naming the objects, and the job is not marked finished.
Objects stored meanwhile (the flow goes on writing) are not in the inventory and not compared.
"""

from collections import Counter
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from ..arrow_input import in_arrow_memory
from ..exit_codes import CommandFailed
from .layout import Kind, kind_of, table_of
from .progress import Progress
from .store import LakeStore

FOOTER_GUESS = 64 * 1024  # one ranged GET reads the footer of a flow's object
NAMED_AT_MOST = 10

Inventory = dict[str, int | None]  # key -> rows (None: a whole file, an object without rows)


def take_inventory(store: LakeStore, prefixes: Iterable[str]) -> Inventory:
    """Every current Parquet object and whole file under `prefixes`, with its rows from its footer."""
    inventory: Inventory = {}
    progress = Progress("counting the lake's rows", None, "objects")
    try:
        for prefix in prefixes:
            for item in store.objects(prefix):
                kind = kind_of(item["Key"])
                if kind is Kind.PARQUET:
                    inventory[item["Key"]] = footer_rows(store, item["Key"], item["Size"])
                elif kind is Kind.WHOLE_FILE:
                    inventory[item["Key"]] = None
                progress.update()
    finally:
        progress.close()
    return inventory


def footer_rows(store: LakeStore, key: str, size: int) -> int:
    """The rows of the current Parquet object at `key`, from its footer alone (one or two ranged GETs)."""
    with store.errors(key):
        tail = _range(store, key, min(size, FOOTER_GUESS))
        if tail[-4:] != b"PAR1":
            raise CommandFailed(f"s3://{store.bucket}/{key} is not a Parquet file (no footer)")
        footer = int.from_bytes(tail[-8:-4], "little") + 8
        if footer > len(tail):
            tail = _range(store, key, footer)
    try:
        return pq.read_metadata(in_arrow_memory(tail)).num_rows
    except pa.ArrowException:
        raise CommandFailed(f"s3://{store.bucket}/{key}: its Parquet footer is unreadable") from None


def _range(store: LakeStore, key: str, last: int) -> bytes:
    return store.client.get_object(Bucket=store.bucket, Key=key, Range=f"bytes=-{last}")["Body"].read()


def recount(store: LakeStore, before: Inventory, job: str, removed: dict[str, int | None] | None = None) -> str:
    """Counts the inventory's objects again; raises CommandFailed naming every object that differs.

    `removed`: what the job meant to take away, key -> rows removed (None: the object deleted).
    Returns the line for the job's report: rows per table before and after.
    """
    removed = removed or {}
    now = {}
    for prefix in sorted({_prefix_of(key) for key in before}):
        for item in store.objects(prefix):
            if item["Key"] in before:
                now[item["Key"]] = item["Size"]
    problems, rows_before, rows_after = [], Counter(), Counter()
    progress = Progress("counting the lake's rows again", len(before), "objects")
    for key, rows in sorted(before.items()):
        progress.update()
        table = table_of(key)
        rows_before[table] += rows or 0
        expected = _expected(rows, key, removed)
        location = f"s3://{store.bucket}/{key}"
        if key not in now:
            if expected != "gone":
                problems.append(f"{location} is gone" + (f" ({rows} rows)" if rows else ""))
            continue
        if expected == "gone":
            problems.append(f"{location} is still there, though the {job} deleted it")
            continue
        if rows is None:
            continue
        counted = footer_rows(store, key, now[key])
        rows_after[table] += counted
        if counted != expected:
            problems.append(f"{location} holds {counted} rows, {expected} expected")
    progress.close()
    if problems:
        named = "; ".join(problems[:NAMED_AT_MOST])
        more = f"; and {len(problems) - NAMED_AT_MOST} more" if len(problems) > NAMED_AT_MOST else ""
        raise CommandFailed(f"the {job} is not done: counted again, the lake does not hold the rows it held before "
                            f"({len(problems)} objects differ): {named}{more}. The job stays unfinished; look at "
                            "the objects' versions (and your backups) before running it again")
    return ", ".join(f"{table} {rows_before[table]} → {rows_after[table]}" for table in sorted(rows_before))


def _expected(rows: int | None, key: str, removed: dict[str, int | None]) -> int | None | str:
    if key not in removed:
        return rows
    if removed[key] is None:
        return "gone"
    return None if rows is None else rows - removed[key]


def _prefix_of(key: str) -> str:
    return key.split("/", 1)[0] + "/"
