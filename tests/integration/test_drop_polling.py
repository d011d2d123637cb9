"""What `ecommerce-pipeline drop` reads from MinIO while it waits: the file's prefixes and Parquet footers only."""

import io
import uuid

import pyarrow.parquet as pq
import pytest

from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.ingest import ingest_file
from ecommerce_pipeline.lake_watch import PARQUET_TRAILER_BYTES, LakeWatch, Outcome, outcome, stem_prefixes
from ecommerce_pipeline.sample_data import write_sample_csv
from lake import delete_objects, keys_of

pytestmark = [pytest.mark.integration, pytest.mark.stores]

ROWS = 25_000


def test_polling_lists_the_file_s_prefixes_and_reads_footer_sized_ranges(minio, tmp_path):
    path = tmp_path / f"polled-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(path, rows=ROWS, seed=71, bad_row_fraction=0.02)
    report = ingest_file(path, minio, generate_key(), workers=1)
    try:
        watch = LakeWatch(minio)
        listed_prefixes, bodies = [], []
        watch.client.meta.events.register(
            "provide-client-params.s3.ListObjectsV2", lambda params, **_: listed_prefixes.append(params.get("Prefix")))
        watch.client.meta.events.register(
            "after-call.s3.GetObject", lambda parsed, **_: bodies.append(parsed["ContentLength"]))
        polls = [watch.landed(path.stem) for _ in range(3)]  # three polls, as `drop` makes one a second

        objects = polls[-1]
        stored = sum(landed.size for landed in objects)
        assert sorted(landed.key for landed in objects) == sorted(report.objects)
        assert outcome(objects, ROWS) is Outcome.STORED
        assert set(listed_prefixes) == set(stem_prefixes(path.stem)), "only the file's own prefixes are listed"
        assert len(bodies) == 2 * len(objects), "each object's footer is read once, not once per poll"
        client = minio.client()
        footers = sum(pq.read_metadata(io.BytesIO(client.get_object(Bucket=minio.bucket, Key=landed.key)["Body"].read()))
                      .serialized_size + PARQUET_TRAILER_BYTES for landed in objects)
        assert sum(bodies) == footers + PARQUET_TRAILER_BYTES * len(objects), "the footers and nothing else"
        print(f"\n3 polls of a {ROWS:,}-row file's {len(objects)} objects ({stored:,} bytes): "
              f"{sum(bodies):,} bytes read in {len(bodies)} ranged GETs")
    finally:
        delete_objects(minio, keys_of(minio, path.stem))
