"""Lake-wide key rotation: every object re-encrypted under the newest key of NEW_FERNET_KEYS.

Parquet objects (segments and quarantine) get the policy's columns re-encrypted; an
unreadable file kept whole (`.csv.fernet`) gets its one token re-encrypted. Each object
stays at its key (a replay of the flow must land on it again) and keeps its metadata.

Already rotated? Every object is written whole by one writer with one key (the flow, `ingest`,
this rotation), so a sample of its tokens tells: the first and last token of each encrypted
column open with the target key alone. Objects this rotation wrote also carry the target's
key id in their metadata, which the catch-up rounds read with a HEAD instead of a GET.

Order of a rewrite: the new object is built, checked in memory (it parses, its tokens open
with the target key to exactly the old plaintext), stored with If-Match on the old version
and its MD5, read back by version; only then is the old version deleted (versioned bucket).
Older versions of a key still under another key are deleted too, so nothing readable with a
retired key stays in the bucket.
"""

import sys
from collections import Counter
from collections.abc import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from ..exit_codes import CommandFailed
from ..fernet_tokens import DecryptionFailed, decrypt_bytes, decrypt_column, encrypt_bytes
from ..arrow_input import in_arrow_memory
from ..lake_parquet import parquet_bytes
from ..policy import EncryptionPolicy, load_policy
from ..table_encryption import decrypt_table, encrypt_table
from .keys import KEYS_VARIABLE, NEW_KEYS_VARIABLE, RotationKeys, key_texts
from .layout import Kind, kind_of, table_of, tables
from .passes import Handled, Walk
from .store import LakeStore, ObjectVersion, StoredObject, lake_settings

JOB = "rotation"
KEY_ID_METADATA = "fernet-key-id"


class Rotation:
    """The handler of the walk: one key of the lake, all its versions, under the target key."""

    def __init__(self, store: LakeStore, keys: RotationKeys, policy: EncryptionPolicy, *, dry_run: bool = False,
                 say: Callable[[str], object] = print):
        self.store, self.keys, self.policy, self.dry_run, self.say = store, keys, policy, dry_run, say
        self.target, self.opening, self.target_id = keys.target, keys.opening, keys.target_id

    def prefixes(self) -> list[str]:
        """Where tokens are: every table with encrypted columns, and quarantine (whole files) always."""
        return [prefix for name, prefix in tables().items()
                if self.policy.encrypted_columns(name) or name == "quarantine"]

    def __call__(self, versions: list[ObjectVersion], catching_up: bool) -> Handled:
        handled = Handled()
        key = versions[0].key
        kind = kind_of(key)
        if kind not in (Kind.PARQUET, Kind.WHOLE_FILE):
            handled.counts["objects_without_tokens"] += 1
            return handled
        current = versions[0] if versions[0].latest and not versions[0].delete_marker else None
        older = [version for version in versions[1:] if not version.delete_marker]
        written = None
        if current is not None:
            written = self._rotate_current(current, kind, catching_up, handled)
            if written is not None:
                self._delete_replaced(current, written, handled)  # read just now: under an old key
        for version in older:
            if written is not None and version.version_id == written.version_id:
                continue  # a Suspended bucket's `null` version, replaced in place by the rotated object
            if not self._under_target(self.store.get(version), kind, table_of(key)):
                self._delete_older(version, handled)
        return handled

    def _delete_replaced(self, replaced: ObjectVersion, written: ObjectVersion, handled: Handled) -> None:
        """The version the rotated object replaced, if the bucket kept it beside the new one."""
        if self.dry_run:
            if self.store.keeps_replaced(replaced.version_id):
                self._delete_older(replaced, handled)
        elif self.store.delete_replaced(replaced, written):
            handled.counts["old_versions_deleted"] += 1

    def _delete_older(self, version: ObjectVersion, handled: Handled) -> None:
        if self.dry_run:
            self.say(f"would delete s3://{self.store.bucket}/{version.key} version {version.version_id} "
                     "(under an old key)")
        else:
            self.store.delete(version)
            handled.wrote = True
        handled.counts["old_versions_deleted"] += 1

    def _rotate_current(self, current: ObjectVersion, kind: Kind, catching_up: bool,
                        handled: Handled) -> ObjectVersion | None:
        """Rotates the key's current object if it is not under the target; returns the version written (in a
        dry run, the current one), None when there was nothing to rotate."""
        table_name = table_of(current.key)
        if catching_up and self._marked_as_rotated(current):
            handled.counts["objects_already_under_the_new_key"] += 1
            return None
        stored = self.store.get(current)
        rows = _rows(stored, kind)
        if self._under_target(stored, kind, table_name):
            handled.counts["objects_already_under_the_new_key"] += 1
            return None
        location = f"s3://{self.store.bucket}/{current.key}"
        if self.dry_run:
            self.say(f"would rotate {location}" + (f" ({rows} rows)" if rows is not None else " (whole file)"))
        else:
            try:
                body = self._rotated(stored, kind, table_name)
            except DecryptionFailed:
                raise CommandFailed(f"{location}: its tokens open with none of the keys in {NEW_KEYS_VARIABLE} and "
                                    f"{KEYS_VARIABLE}; the rotation stopped there (what it rotated stays rotated; "
                                    "add the missing key and run it again)") from None
            metadata = {**stored.metadata, KEY_ID_METADATA: self.target_id}
            written = self.store.replace(current, body, metadata, stored.content_type)
            handled.wrote = True
        handled.counts["objects_rotated"] += 1
        handled.counts["rows_rotated"] += rows or 0
        return current if self.dry_run else written

    def _marked_as_rotated(self, current: ObjectVersion) -> bool:
        with self.store.errors(current.key):
            head = self.store.client.head_object(Bucket=self.store.bucket, Key=current.key,
                                                 **({"VersionId": current.version_id} if current.version_id else {}))
        return head.get("Metadata", {}).get(KEY_ID_METADATA) == self.target_id

    def _under_target(self, stored: StoredObject, kind: Kind, table_name: str) -> bool:
        """Whether the object's tokens open with the target key alone (a sample: first and last per column)."""
        try:
            if kind is Kind.WHOLE_FILE:
                decrypt_bytes(stored.body, self.target)
                return True
            table = pq.read_table(in_arrow_memory(stored.body))
            for column in self.policy.encrypted_columns(table_name):
                if column not in table.column_names:
                    continue
                tokens = table.column(column).drop_null()
                if len(tokens):
                    decrypt_column(pa.chunked_array([tokens.slice(0, 1), tokens.slice(len(tokens) - 1)]), self.target,
                                   column=column)
        except DecryptionFailed:
            return False
        return True

    def _rotated(self, stored: StoredObject, kind: Kind, table_name: str) -> bytes:
        """The object's new body under the target key, checked: it opens with the target key to the old plaintext."""
        if kind is Kind.WHOLE_FILE:
            plaintext = decrypt_bytes(stored.body, self.opening)
            body = encrypt_bytes(plaintext, self.target)
            if decrypt_bytes(body, self.target) != plaintext:
                raise CommandFailed("a re-encrypted whole file does not open to its old content; nothing stored")
            return body
        table = pq.read_table(in_arrow_memory(stored.body))
        plain = decrypt_table(table, table_name, self.opening, self.policy)
        body = parquet_bytes(encrypt_table(plain, table_name, self.target, self.policy))
        check = pq.read_table(in_arrow_memory(body))
        if check.schema != table.schema or not decrypt_table(check, table_name, self.target, self.policy).equals(plain):
            raise CommandFailed("a re-encrypted object does not open to its old rows; nothing stored")
        return body


def _rows(stored: StoredObject, kind: Kind) -> int | None:
    return pq.read_metadata(in_arrow_memory(stored.body)).num_rows if kind is Kind.PARQUET else None


def rotate_lake(settings: dict[str, str], *, dry_run: bool = False, policy: EncryptionPolicy | None = None,
                say: Callable[[str], object] = print,
                warn: Callable[[str], object] = lambda line: print(line, file=sys.stderr)) -> dict:
    """Rotates the whole lake to the newest key of NEW_FERNET_KEYS as the maintainer; returns the counts."""
    keys = RotationKeys.from_settings(settings)
    store = LakeStore(lake_settings(settings, "maintainer"), "maintainer")
    rotation = Rotation(store, keys, policy or load_policy(), dry_run=dry_run, say=say)
    for prefix in rotation.prefixes():
        store.check(prefix)
    flow_keys = key_texts(settings, KEYS_VARIABLE, required=False)
    if flow_keys and flow_keys[0] != keys.target_text:
        warn(f"warning: {KEYS_VARIABLE} does not start with the newest key of {NEW_KEYS_VARIABLE}: if NiFi's keys "
            f"are those, the flow goes on storing objects under an old key. Put the new key first in "
            f"{KEYS_VARIABLE} and run `python3 deploy_flow.py` before rotating.")
    walk = Walk(store, JOB, keys.target_id, rotation.prefixes(), rotation, dry_run=dry_run, say=say)
    state = walk.run({"key_id": keys.target_id})
    counts = Counter(state["counts"])
    recounted = ""
    if not dry_run:
        recounted = walk.recount()  # raises, naming the objects, when the lake lost or gained rows
        walk.finish()
    verb = "would rotate" if dry_run else "rotated"
    say(f"{verb} {counts['objects_rotated']} objects ({counts['rows_rotated']} rows) to key {keys.target_id}; "
        f"{counts['objects_already_under_the_new_key']} already under it; "
        f"{'would delete' if dry_run else 'deleted'} {counts['old_versions_deleted']} old versions"
        + ("" if dry_run else f"; rows per table counted again in the store, as before: {recounted}; "
                              f"the lake is under {NEW_KEYS_VARIABLE}'s newest key: remove the old keys from "
                              f"{KEYS_VARIABLE} and run `python3 deploy_flow.py`"))
    return dict(counts)
