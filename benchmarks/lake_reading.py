"""A benchmark run's objects in the lake, found by its stem and deleted afterwards with its ledger record."""

import datetime as dt
from pathlib import Path

from ecommerce_pipeline.ledger import content_sha256, ledger_key
from ecommerce_pipeline.settings import S3Settings

def run_objects(s3: S3Settings, stem: str) -> dict[str, dt.datetime]:
    """Key -> LastModified (MinIO's clock, this machine's) of the objects of the run named `stem`."""
    client = s3.client()
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket):
        for item in page.get("Contents", []):
            if item["Key"].rsplit("/", 1)[-1].startswith(f"{stem}-"):
                found[item["Key"]] = item["LastModified"]
    return found


def delete_run_objects(s3: S3Settings, stem: str) -> None:
    """Deletes every object of the run named `stem`, so benchmark runs leave the lake as they found it."""
    client = s3.client()
    keys = [{"Key": key} for key in run_objects(s3, stem)]
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=s3.bucket, Delete={"Objects": keys[start:start + 1000]})



def forget_content(s3: S3Settings, path: Path) -> None:
    """Removes the ledger's record of `path`'s content: every run drops the same bytes, as new content."""
    with path.open("rb") as stream:
        s3.client().delete_object(Bucket=s3.bucket, Key=ledger_key(content_sha256(stream)))
