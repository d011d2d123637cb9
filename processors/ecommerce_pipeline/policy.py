"""The encryption policy: which columns of which segment are stored encrypted.

The decision lives in `encryption_policy.toml` beside this module, so it can be read
and reviewed without reading code; this module only loads and checks it.
"""

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_POLICY_PATH = Path(__file__).with_name("encryption_policy.toml")
_SEGMENT_KEYS = {"encrypted", "clear"}


class PolicyError(ValueError):
    """The policy file is malformed, or a segment it does not define was asked for."""


@dataclass(frozen=True)
class SegmentPolicy:
    encrypted: tuple[str, ...]
    clear: tuple[str, ...]


@dataclass(frozen=True)
class EncryptionPolicy:
    segments: dict[str, SegmentPolicy]
    source: str

    def segment(self, name: str) -> SegmentPolicy:
        try:
            return self.segments[name]
        except KeyError:
            raise PolicyError(
                f"unknown segment {name!r}: the encryption policy {self.source} defines "
                f"{', '.join(sorted(self.segments))}"
            ) from None

    def encrypted_columns(self, segment: str) -> tuple[str, ...]:
        return self.segment(segment).encrypted


def load_policy(path: str | os.PathLike | None = None) -> EncryptionPolicy:
    """The policy at `path` (default: the TOML beside this module), checked."""
    source = Path(path) if path is not None else DEFAULT_POLICY_PATH
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"encryption policy {source} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"encryption policy {source} is not valid TOML: {error}") from None
    if not document:
        raise PolicyError(f"encryption policy {source} defines no segment")
    return EncryptionPolicy({name: _segment(source, name, table) for name, table in document.items()}, str(source))


def _segment(source: Path, name: str, table: object) -> SegmentPolicy:
    where = f"encryption policy {source}, segment {name!r}"
    if not isinstance(table, dict):
        raise PolicyError(f"{where}: expected a [{name}] table with `encrypted` and `clear` lists")
    if set(table) != _SEGMENT_KEYS:
        unexpected = sorted(set(table) - _SEGMENT_KEYS)
        absent = sorted(_SEGMENT_KEYS - set(table))
        raise PolicyError(
            f"{where}: unexpected keys {unexpected}, missing keys {absent}; it takes `encrypted` and `clear`"
        )
    lists = {}
    for key in ("encrypted", "clear"):
        columns = table[key]
        if not isinstance(columns, list) or not all(isinstance(column, str) and column for column in columns):
            raise PolicyError(f"{where}: `{key}` must be a list of column names")
        duplicates = sorted({column for column in columns if columns.count(column) > 1})
        if duplicates:
            raise PolicyError(f"{where}: `{key}` lists {', '.join(duplicates)} more than once")
        lists[key] = tuple(columns)
    both = sorted(set(lists["encrypted"]) & set(lists["clear"]))
    if both:
        raise PolicyError(f"{where}: {', '.join(both)} cannot be both encrypted and clear")
    return SegmentPolicy(**lists)
