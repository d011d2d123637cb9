"""The landing bucket: CSV exports uploaded to a bucket prefix instead of dropped into data/inbox.

Each object is taken once. What was taken is remembered as key -> ETag (NiFi's processor
state), so an object uploaded again with new content is taken again, and one left as it
was is not. An object is remembered only on the next look after it was handed on, so a
crash in between takes it once more: the lake's content-derived keys make that replay
overwrite its own objects instead of duplicating them.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAX_OBJECT_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class LandingObject:
    key: str
    etag: str
    size: int

    @property
    def filename(self) -> str:
        return self.key.rsplit("/", 1)[-1]


def landing_objects(client, bucket: str, prefix: str) -> list[dict]:
    """Every object under the prefix, as S3's listing gives them."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item for page in pages for item in page.get("Contents", [])]


def next_to_take(listing: Iterable[dict], taken: Mapping[str, str]) -> tuple[LandingObject | None, list[LandingObject]]:
    """The oldest object not yet taken (or changed since), and those too large to take whole."""
    candidates, too_large = [], []
    for item in sorted(listing, key=lambda item: (item["LastModified"], item["Key"])):
        found = LandingObject(item["Key"], item["ETag"].strip('"'), item["Size"])
        if found.key.endswith("/") or found.filename.startswith(".") or taken.get(found.key) == found.etag:
            continue
        (too_large if found.size > MAX_OBJECT_BYTES else candidates).append(found)
    return (candidates[0] if candidates else None), too_large
