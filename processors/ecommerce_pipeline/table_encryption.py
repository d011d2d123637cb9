"""The encryption policy applied to tables: its columns of a segment encrypted, decrypted or re-keyed.

Works on pyarrow tables and pandas frames alike; the columns the policy does not name are
left untouched, and the tokens come from fernet_tokens.
"""

from collections.abc import Callable

import pandas as pd
import pyarrow as pa

from .fernet_tokens import KeyRing, as_keyring, decrypt_column, encrypt_column
from .policy import EncryptionPolicy, load_policy

Table = pd.DataFrame | pa.Table


class MissingPolicyColumns(ValueError):
    """The policy encrypts columns that the table does not have."""


ColumnDone = Callable[[str], object]  # told each column's name once it is done, e.g. to move a progress bar


def encrypt_table(table: Table, segment: str, keys: KeyRing | str, policy: EncryptionPolicy | None = None,
                  on_column: ColumnDone | None = None) -> Table:
    """The table with the policy's columns of `segment` encrypted and the rest untouched."""
    ring = as_keyring(keys)
    return _map_policy_columns(table, segment, policy, lambda values, name: encrypt_column(values, ring), on_column)


def decrypt_table(table: Table, segment: str, keys: KeyRing | str, policy: EncryptionPolicy | None = None,
                  on_column: ColumnDone | None = None) -> Table:
    """The table with the policy's columns of `segment` decrypted to text and the rest untouched."""
    ring = as_keyring(keys)
    return _map_policy_columns(
        table, segment, policy, lambda values, name: decrypt_column(values, ring, column=name), on_column)


def rotate_table(
    table: Table,
    segment: str,
    old_keys: KeyRing | str,
    new_keys: KeyRing | str,
    policy: EncryptionPolicy | None = None,
    on_column: ColumnDone | None = None,
) -> Table:
    """Re-encrypts under the new primary key what any of the old keys can open (`on_column`: each column twice)."""
    return encrypt_table(decrypt_table(table, segment, old_keys, policy, on_column), segment, new_keys, policy,
                         on_column)


def _map_policy_columns(
    table: Table, segment: str, policy: EncryptionPolicy | None,
    transform: Callable[[object, str], pa.Array | pa.ChunkedArray], on_column: ColumnDone | None = None,
) -> Table:
    columns = (policy or load_policy()).encrypted_columns(segment)
    present = table.column_names if isinstance(table, pa.Table) else list(table.columns)
    missing = [name for name in columns if name not in present]
    if missing:
        raise MissingPolicyColumns(
            f"segment {segment!r}: the encryption policy covers {', '.join(missing)}, "
            "but the table has no such column"
        )
    done = on_column or (lambda name: None)
    if isinstance(table, pa.Table):
        for name in columns:
            table = table.set_column(present.index(name), name, transform(table.column(name), name))
            done(name)
        return table
    result = table.copy()
    for name in columns:
        result[name] = pd.Series(transform(table[name], name).to_pandas().array, index=table.index)
        done(name)
    return result
