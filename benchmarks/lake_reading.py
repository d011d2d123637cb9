"""The lake as a benchmark reads it while polling: row counts from Parquet footers, a run's objects by its stem."""

import datetime as dt
import io

from ecommerce_pipeline.settings import S3Settings

FOOTER_BYTES = 1 << 16


class FooterReadingS3:
    """Stands in for S3Settings in wait_until_landed: the same listing, but a Parquet object's
    row count is read from its footer (a ranged GET of its last 64 KiB, once per key) instead of
    downloading the whole object on every poll. At 1M rows the lake objects of one run weigh
    about a gigabyte: whole downloads every second would compete with NiFi for the two cores.
    Keys are unique per run and a replayed chunk rewrites a key with the same rows, so one read
    per key is enough."""

    def __init__(self, s3: S3Settings):
        self.s3 = s3
        self.bucket = s3.bucket
        self.tails: dict[str, bytes] = {}
        self._client = s3.client()

    def client(self):
        return _FooterClient(self._client, self.tails)


class _FooterClient:
    def __init__(self, client, tails: dict[str, bytes]):
        self._client, self._tails = client, tails

    def __getattr__(self, name):
        return getattr(self._client, name)

    def get_object(self, Bucket: str, Key: str, **kwargs):  # noqa: N803 (boto3's names)
        if kwargs or not Key.endswith(".parquet"):
            return self._client.get_object(Bucket=Bucket, Key=Key, **kwargs)
        if Key not in self._tails:
            tail = self._client.get_object(Bucket=Bucket, Key=Key, Range=f"bytes=-{FOOTER_BYTES}")["Body"].read()
            footer = int.from_bytes(tail[-8:-4], "little") + 8 if len(tail) >= 8 else len(tail) + 1
            if footer > len(tail):  # footer larger than the tail read: take the whole object
                tail = self._client.get_object(Bucket=Bucket, Key=Key)["Body"].read()
            self._tails[Key] = b"PAR1" + tail  # the footer is all pyarrow's read_metadata reads
        return {"Body": io.BytesIO(self._tails[Key])}


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

