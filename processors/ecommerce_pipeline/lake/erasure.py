"""Erasure of one customer (GDPR art. 17, CCPA): every row with its customer_id, everywhere in the bucket.

Every key under the segments and `_quarantine/` is read, each of its versions: a Parquet
object by its clear `customer_id` column (no key needed), an unreadable file kept whole
(`.csv.fernet`) by its decrypted records (FERNET_KEYS needed). What is found becomes a plan,
saved before anything changes, then applied: the current object holding the customer is
rewritten without its rows (the other rows as they were, tokens untouched), checked and
stored with If-Match on the version read, or deleted when nothing else is left; each older
version holding the customer is deleted by its version id, so a versioned bucket keeps no
copy either.

The job's journal is named by an HMAC of the customer id under a Fernet key and deleted when
the job ends; what stays is an audit record under `_maintenance/erasures/` that holds counts,
times, the maintainer identity and the request's reference, never the customer id.
"""

import datetime as dt
import re
import uuid
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..exit_codes import CommandFailed, ConfigurationMissing
from ..fernet_tokens import DecryptionFailed, decrypt_bytes, encrypt_bytes
from ..arrow_input import in_arrow_memory
from ..lake_parquet import parquet_bytes
from ..settings import S3_ACCOUNTS
from .keys import KEYS_VARIABLE, customer_digest, key_texts, ring
from ..object_keys import MAINTENANCE_PREFIX
from .layout import Kind, kind_of, table_of, tables
from .passes import CHANGED_RETRIES, Handled, Walk, state_key
from .store import LakeStore, ObjectChanged, ObjectVersion, StoredObject, lake_settings

JOB = "erasure"
AUDIT_PREFIX = f"{MAINTENANCE_PREFIX}erasures/"
CUSTOMER_COLUMN = "customer_id"
NOT_REACHED = (
    "backups and copies of the bucket made outside it (replicas, snapshots, other stores)",
    "files decrypted or queried out of the lake (ecommerce-pipeline decrypt / query --output)",
    "NiFi's repositories: FlowFiles still queued, and provenance events naming the file",
    "the exports themselves, wherever they came from (the inbox, the source system)",
    "rows whose customer_id was missing or unreadable when they were quarantined",
)


class Erasure:
    """Finds the customer in one key's versions (the walk's handler), then removes what it found.

    What the walk finds goes into a plan in the job's state (key, version, rows, action), saved
    before anything changes: the audit's counts come from it, exact across interruptions, and
    applying it again after a kill only finishes what is left.
    """

    def __init__(self, store: LakeStore, customer_id: str, key_texts_: list[str], *, dry_run: bool = False,
                 say: Callable[[str], object] = print):
        self.store, self.customer_id, self.dry_run, self.say = store, customer_id, dry_run, say
        self.keys = ring(key_texts_, KEYS_VARIABLE)
        self.walk: Walk | None = None

    @property
    def plan(self) -> list[dict]:
        return self.walk.state.setdefault("plan", [])

    def __call__(self, versions: list[ObjectVersion], catching_up: bool) -> Handled:
        handled = Handled()
        kind = kind_of(versions[0].key)
        if kind not in (Kind.PARQUET, Kind.WHOLE_FILE):
            return handled
        found = []
        for version in versions:
            if version.delete_marker:
                continue
            handled.counts["versions_checked"] += 1
            rows, emptied = self._find(self.store.get(version), kind, version.key)
            if rows:
                found.append(_entry(version, rows, kind, emptied=emptied))
        if found:
            self.plan.extend(found)
            handled.wrote = True  # the walk saves the plan now
            if catching_up:
                self.walk.save()
                self.apply()
        return handled

    def apply(self) -> None:
        """Carries out every step of the plan not done yet, saving after each."""
        for entry in self.plan:
            if entry.get("done"):
                continue
            if self.dry_run:
                self.say(f"would {_action_line(entry, self.store.bucket)}")
            else:
                self._apply(entry)
                entry["done"] = True
                self.walk.save()

    def _apply(self, entry: dict) -> None:
        """One step: the current object rewritten without the customer (or deleted), or an older version deleted."""
        key = entry["key"]
        if entry["action"] == OLDER_VERSION:
            self._delete_version(entry)
            return
        for _ in range(CHANGED_RETRIES):
            versions = self.store.versions_of(key)
            latest = versions[0] if versions and versions[0].latest and not versions[0].delete_marker else None
            try:
                if latest is not None:
                    self._remove_from_latest(latest)
                break
            except (ObjectChanged, FileNotFoundError):
                continue  # the flow rewrote it meanwhile: read it again
        else:
            raise CommandFailed(f"s3://{self.store.bucket}/{key} keeps changing; run the erasure again")
        if entry["version_id"] is not None:
            self._delete_version(entry)  # the version found, now an older one (unless replaced in place)

    def _remove_from_latest(self, latest: ObjectVersion) -> None:
        stored = self.store.get(latest)
        rows, rest = self._without_customer(stored, kind_of(latest.key), latest.key)
        if not rows:
            return  # done before an interruption
        if rest is None:
            self.store.delete(latest)
        else:
            self.store.replace(latest, rest, stored.metadata, stored.content_type)

    def _delete_version(self, entry: dict) -> None:
        """Deletes the version the plan found, if it is still an older version with the bytes found (plans saved
        before ETags were recorded have none). In a Suspended bucket a rewrite replaces the `null` version in
        place: "version null" then names the rewritten object, the latest, and is kept."""
        self.store.delete_older(entry["key"], entry["version_id"], entry.get("etag"))

    def _find(self, stored: StoredObject, kind: Kind, key: str) -> tuple[int, bool]:
        """(rows or records of the customer, whether nothing else is in the object); reads only the id column."""
        if kind is Kind.WHOLE_FILE:
            found, rest = records_without(self._plaintext(stored, key), self.customer_id)
            return found, not rest.strip()
        parquet = pq.ParquetFile(in_arrow_memory(stored.body))
        if CUSTOMER_COLUMN not in parquet.schema_arrow.names:
            return 0, False
        found, kept = table_without(parquet.read(columns=[CUSTOMER_COLUMN]), self.customer_id)
        return found, kept.num_rows == 0

    def _plaintext(self, stored: StoredObject, key: str) -> bytes:
        try:
            return decrypt_bytes(stored.body, self.keys)
        except DecryptionFailed:
            raise CommandFailed(f"s3://{self.store.bucket}/{key} opens with none of the keys in {KEYS_VARIABLE}: "
                                "cannot tell whether it holds the customer; the erasure stopped there (add the "
                                "missing key and run it again)") from None

    def _without_customer(self, stored: StoredObject, kind: Kind, key: str) -> tuple[int, bytes | None]:
        """(rows or records of the customer, the object's body without them: None when nothing else is left)."""
        location = f"s3://{self.store.bucket}/{key}"
        if kind is Kind.WHOLE_FILE:
            found, rest = records_without(self._plaintext(stored, key), self.customer_id)
            return found, (encrypt_bytes(rest, self.keys) if found and rest.strip() else None)
        table = pq.read_table(in_arrow_memory(stored.body))
        found, kept = table_without(table, self.customer_id)
        if not found or not kept.num_rows:
            return found, None
        body = parquet_bytes(kept)
        if not pq.read_table(in_arrow_memory(body)).equals(kept):
            raise CommandFailed(f"{location}: the object without the customer does not read back as the other rows; "
                                "nothing stored")
        return found, body


CURRENT_REWRITE, CURRENT_DELETE, OLDER_VERSION = "rewrite", "delete", "delete older version"


def _entry(version: ObjectVersion, rows: int, kind: Kind, *, emptied: bool) -> dict:
    """A step of the plan; `rows` of the customer in that version (records, for a whole file); `emptied`: nothing
    else is in it."""
    action = OLDER_VERSION if not version.latest else CURRENT_DELETE if emptied else CURRENT_REWRITE
    return {"key": version.key, "version_id": version.version_id, "etag": version.etag, "table": table_of(version.key),
            "rows": rows, "kind": kind.value, "action": action}


def _action_line(entry: dict, bucket: str) -> str:
    location = f"s3://{bucket}/{entry['key']}"
    unit = "records" if entry["kind"] == Kind.WHOLE_FILE.value else "rows"
    if entry["action"] == OLDER_VERSION:
        return f"delete the older version {entry['version_id']} of {location} ({entry['rows']} {unit} of the customer)"
    if entry["action"] == CURRENT_DELETE:
        return f"delete {location} (only the customer's {entry['rows']} {unit})"
    return f"remove {entry['rows']} {unit} of the customer from {location}"


def table_without(table: pa.Table, customer_id: str) -> tuple[int, pa.Table]:
    """(rows whose customer_id is `customer_id`, the other rows as they were); a table without the column: (0, it)."""
    if CUSTOMER_COLUMN not in table.column_names:
        return 0, table
    ids = pc.utf8_trim_whitespace(table.column(CUSTOMER_COLUMN).cast(pa.string()))
    match = pc.fill_null(pc.equal(ids, customer_id), False)
    found = pc.sum(match).as_py() or 0
    return found, (table.filter(pc.invert(match)) if found else table)


def records_without(content: bytes, customer_id: str) -> tuple[int, bytes]:
    """(records holding `customer_id` as a whole field, the content without them, other bytes untouched).

    The content is an export no CSV reader accepted (an unclosed quote, not UTF-8, a wrong
    header), so it is cut into records by hand: a record ends at a line end outside double
    quotes, which keeps a quoted multi-line address with its row. A record holds the customer
    when the id stands as a field of it: after the record's start, a comma or a line start, and
    before a comma or a line end (quotes and blanks around it allowed). Where an unclosed quote
    makes the rest of the file one record, a line of it that starts with the id takes all of
    that rest: erasure errs on the side of removing.
    """
    needle = customer_id.encode()
    if needle not in content:
        return 0, content
    field = re.compile(rb'(?:^|,)[ \t]*"?' + re.escape(needle) + rb'"?[ \t]*(?=,|\r?\n|$)', re.MULTILINE)
    kept, found, record, quotes = [], 0, [], 0
    for line in content.splitlines(keepends=True):
        record.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0 or not line.endswith((b"\n", b"\r")):
            text = b"".join(record)
            if field.search(text):
                found += 1
            else:
                kept.append(text)
            record, quotes = [], 0
    if record:
        text = b"".join(record)
        found, kept = (found + 1, kept) if field.search(text) else (found, kept + [text])
    return found, b"".join(kept)


def erase_customer(settings: dict[str, str], customer_id: str, *, dry_run: bool = False, reference: str | None = None,
                   say: Callable[[str], object] = print) -> dict:
    """Removes every trace of `customer_id` from the lake as the maintainer; returns the audit record (or, in a
    dry run, the plan's counts)."""
    customer_id = customer_id.strip()
    if not customer_id:
        raise CommandFailed("the customer id is empty")
    texts = key_texts(settings, KEYS_VARIABLE, required=False)
    if not texts:
        raise ConfigurationMissing(f"{KEYS_VARIABLE} is not set: erasure needs the keys to search the unreadable "
                                   "files kept whole in quarantine")
    s3 = lake_settings(settings, "maintainer")
    store = LakeStore(s3, "maintainer")
    prefixes = list(tables().values())
    for prefix in prefixes:
        store.check(prefix)
    erasure = Erasure(store, customer_id, texts, dry_run=dry_run, say=say)
    walk = Walk(store, JOB, _journal_name(store, texts, customer_id), prefixes, erasure, dry_run=dry_run, say=say)
    erasure.walk = walk
    state = walk.run({"erasure_id": uuid.uuid4().hex[:16], "reference": reference}, after_scan=erasure.apply)
    if dry_run:
        erasure.apply()
    summary = _summary(erasure.plan, store)
    if dry_run:
        say(f"would erase {summary['rows']} rows ({_rows_line(summary['rows_erased'])}); "
            f"{summary['objects_changed']} objects to rewrite or delete, {summary['older_versions_deleted']} older "
            "versions to delete; nothing changed")
        return summary
    recounted = walk.recount(_removed(erasure.plan))  # raises, naming the objects, when other rows went too
    started = dt.datetime.fromisoformat(state["started_at"]).astimezone(dt.timezone.utc)
    audit = {
        "erasure_id": state["erasure_id"],
        "reference": state.get("reference"),
        "performed_by": s3.access_key,
        "identity_variable": S3_ACCOUNTS["maintainer"][0],
        "bucket": store.bucket,
        "versioned_bucket": store.versioned,
        "started_at": state["started_at"],
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "rows_erased": summary["rows_erased"],
        "records_erased_from_unreadable_files": summary["records"],
        "objects_rewritten_or_deleted": summary["objects_changed"],
        "older_versions_deleted": summary["older_versions_deleted"],
        "object_versions_checked": state["counts"].get("versions_checked", 0),
        "not_reached": list(NOT_REACHED),
    }
    audit_key = f"{AUDIT_PREFIX}{started:%Y%m%dT%H%M%SZ}-{audit['erasure_id']}.json"  # the same on a resumed run
    store.write_json(audit_key, audit)
    walk.remove()
    say(f"erased {summary['rows']} rows ({_rows_line(summary['rows_erased'])}) and {summary['records']} records of "
        f"unreadable files: {summary['objects_changed']} objects rewritten or deleted, "
        f"{summary['older_versions_deleted']} older versions deleted; rows per table counted again in the store, "
        f"less the customer's: {recounted}; audit record s3://{store.bucket}/{audit_key}")
    return audit


def _removed(plan: list[dict]) -> dict[str, int | None]:
    """What the plan takes from the current objects, for the recount: key -> rows (None: the object deleted)."""
    removed = {}
    for entry in plan:
        if entry["action"] == CURRENT_DELETE:
            removed[entry["key"]] = None
        elif entry["action"] == CURRENT_REWRITE:
            removed[entry["key"]] = entry["rows"] if entry["kind"] == Kind.PARQUET.value else 0
    return removed


def _summary(plan: list[dict], store: LakeStore) -> dict:
    """The counts of a plan: rows of the current objects per table, objects changed, older versions deleted."""
    rows = {name: 0 for name in tables()}
    records = changed = older = 0
    for entry in plan:
        if entry["action"] == OLDER_VERSION:
            older += 1
            continue
        changed += 1
        # the version rewritten becomes an older one, deleted after (a Suspended bucket's `null` is replaced in place)
        older += entry["action"] == CURRENT_REWRITE and store.keeps_replaced(entry["version_id"])
        if entry["kind"] == Kind.WHOLE_FILE.value:
            records += entry["rows"]
        else:
            rows[entry["table"]] += entry["rows"]
    return {"rows_erased": rows, "rows": sum(rows.values()), "records": records, "objects_changed": changed,
            "older_versions_deleted": older}


def _journal_name(store: LakeStore, texts: list[str], customer_id: str) -> str:
    """The name of this customer's journal: an interrupted one under any of the keys, else under the newest key."""
    for text in texts:
        name = customer_digest(text, customer_id)
        if store.read_json(state_key(JOB, name)) is not None:
            return name
    return customer_digest(texts[0], customer_id)


def _rows_line(rows: dict[str, int]) -> str:
    return ", ".join(f"{count} in {name}" for name, count in rows.items())
