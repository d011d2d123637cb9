"""The output contract's object keys, one rule for the command-line ingestion and the NiFi flow.

A chunk's id derives from its position in the file and its bytes, never from a clock
or a random number: NiFi delivers at least once and `ingest` may be run again after a
failure, and a replayed chunk must land on the keys it already wrote.
"""

import datetime as dt
import hashlib
import re

QUARANTINE_PREFIX = "_quarantine"
# Where lake maintenance (rotation, erasure) keeps its records: progress journals, erasure audits.
MAINTENANCE_PREFIX = "_maintenance/"
# The flow's "Stamp ingest date and source" applies the same two patterns in NiFi's expression language.
UNSAFE_STEM_CHARACTER = "[^A-Za-z0-9._-]"
LEADING_DOT = "^[.]"


def safe_stem(stem: str) -> str:
    """A file name's stem as it may appear in a key: ASCII letters, digits, '.', '_' and '-', no leading dot.

    So a name like `..\\..\\etc passwd.csv` can neither climb out of its prefix when the bucket
    is copied to a file system nor put a separator or control character into a key.
    """
    return re.sub(LEADING_DOT, "_", re.sub(UNSAFE_STEM_CHARACTER, "_", stem))


def chunk_id(position: int, content: bytes) -> str:
    """32 hex digits of SHA-256 over the position and the bytes: the same chunk, the same id."""
    return hashlib.sha256(b"%d\n" % position + content).hexdigest()[:32]


def fragment_chunk_id(fragment_index: str | None, content: bytes) -> str:
    """The id of a FlowFile's content; SplitRecord numbers chunks in `fragment.index`, an unsplit file is chunk 0.

    Raises ValueError for an index that is not an integer.
    """
    try:
        position = int(fragment_index or 0)
    except ValueError:
        raise ValueError(f"fragment.index {fragment_index!r} is not an integer") from None
    return chunk_id(position, content)


def object_key(prefix: str, ingest_date: dt.date, source_stem: str, unique_id: str, suffix: str = ".parquet") -> str:
    """`<prefix>/ingest_date=YYYY-MM-DD/<safe stem>-<id><suffix>`: never another file's key."""
    return f"{prefix}/ingest_date={ingest_date.isoformat()}/{safe_stem(source_stem)}-{unique_id}{suffix}"
