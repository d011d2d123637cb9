"""`ecommerce-pipeline query`: SQL over every object of a real lake in MinIO, as the read-only analyst."""

import datetime as dt
import json
import re
import stat

import pandas as pd
import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet

from ecommerce_pipeline.fernet_tokens import generate_key
from lake_tools import DAYS, Lake, sample_export, unreadable_export

pytestmark = pytest.mark.integration

JOIN = """
SELECT o.ingest_date, p.delivery_status, count(*) AS orders, round(sum(o.total_purchase_value), 2) AS revenue
FROM order_info o JOIN payment_and_delivery_info p USING (order_id)
GROUP BY ALL ORDER BY ALL
"""


@pytest.fixture(scope="module")
def lake(private_minio, tmp_path_factory):
    lake = Lake(private_minio, tmp_path_factory.mktemp("query"))
    lake.ingest("monday.csv", sample_export(lake.tmp, 1200, seed=21), DAYS[0])
    lake.ingest("tuesday.csv", sample_export(lake.tmp, 900, seed=22), DAYS[1])
    lake.ingest("tuesday-broken.csv", unreadable_export("CUST-999999"), DAYS[1])
    return lake


def day_of(stem):
    return DAYS[0] if stem == "monday" else DAYS[1]


def clean_rows(lake):
    return pd.concat([result.clean.assign(ingest_date=day_of(stem)) for stem, result in lake.expected.items()])


def lines(result):
    return result.stdout.strip().splitlines()


def one_line_error(result, code):
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    return result.stderr


def test_a_join_across_segments_and_days_gives_what_the_exports_hold(lake):
    result = lake.cli("query", JOIN, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = clean_rows(lake)
    expected = (rows.groupby(["ingest_date", "delivery_status"], dropna=False)
                .agg(orders=("order_id", "size"), revenue=("total_purchase_value", "sum")).reset_index())
    got = json.loads(result.stdout)
    assert len({row["ingest_date"] for row in got}) == 2
    assert sorted((row["ingest_date"], row["delivery_status"], row["orders"]) for row in got) == sorted(
        (day.isoformat(), None if pd.isna(status) else status, orders)
        for day, status, orders in expected[["ingest_date", "delivery_status", "orders"]].itertuples(index=False))
    assert sum(row["revenue"] for row in got) == pytest.approx(rows["total_purchase_value"].sum())


def test_three_segments_join_on_their_ids(lake):
    sql = """SELECT c.vip_status, count(DISTINCT o.order_id) AS orders
             FROM order_info o JOIN payment_and_delivery_info p USING (order_id)
             JOIN customer_info c ON c.customer_id = o.customer_id GROUP BY 1 ORDER BY 1"""
    result = lake.cli("query", sql)
    assert result.returncode == 0, result.stderr
    rows = clean_rows(lake)
    customers = rows[["customer_id", "vip_status"]].drop_duplicates()
    expected = rows[["order_id", "customer_id"]].merge(customers, on="customer_id").groupby("vip_status")["order_id"]
    assert lines(result) == ['"vip_status","orders"'] + [f'"{vip}",{count}' for vip, count in expected.nunique().items()]


def test_a_filter_on_ingest_date_reads_only_that_day_s_objects(lake):
    client = lake.admin.client()
    listed = client.list_objects_v2(Bucket=lake.admin.bucket, Prefix="order_info/")["Contents"]
    that_day = [o for o in listed if f"ingest_date={DAYS[0]}" in o["Key"]]
    assert 0 < len(that_day) < len(listed)
    result = lake.cli("query", "--stats", f"SELECT count(*) AS n FROM order_info WHERE ingest_date = DATE '{DAYS[0]}'")
    assert result.returncode == 0, result.stderr
    assert lines(result)[1] == str(len(lake.expected["monday"].clean))
    read, total = map(int, re.search(r"read (\d+) of (\d+) objects", result.stderr).groups())
    assert read == len(that_day) and total > len(listed)
    everything = lake.cli("query", "--stats", "SELECT count(*) FROM order_info")
    assert int(re.search(r"read (\d+) of", everything.stderr)[1]) == len(listed)


def test_quarantine_is_a_table_of_rejected_rows_without_the_unreadable_file(lake):
    result = lake.cli("query", "SELECT count(*) AS n, count(quarantine_reason) AS reasons FROM quarantine")
    assert result.returncode == 0, result.stderr
    rejected = sum(len(result.quarantine) for result in lake.expected.values())
    assert rejected > 0 and lines(result)[1] == f"{rejected},{rejected}"


def test_without_keys_tokens_stay_tokens_and_decrypt_fails_in_one_line(lake):
    tokens = lake.cli("query", "SELECT email_address FROM customer_info WHERE email_address IS NOT NULL LIMIT 3",
                      FERNET_KEYS=None, ECOMMERCE_PIPELINE_ENV_FILE=str(analyst_only_env(lake)))
    assert tokens.returncode == 0, tokens.stderr
    assert all(Fernet(lake.key).decrypt(token.strip('"').encode()) for token in lines(tokens)[1:])
    refused = lake.cli("query", "SELECT decrypt(email_address) FROM customer_info", FERNET_KEYS=None,
                       ECOMMERCE_PIPELINE_ENV_FILE=str(analyst_only_env(lake)))
    assert "decrypt() needs the keys: set FERNET_KEYS" in one_line_error(refused, 78)


def analyst_only_env(lake):
    """A settings file with the analyst's credentials and nothing else: no keys, no other identity."""
    settings = lake.settings
    path = lake.tmp / "analyst.env"
    path.write_text("".join(f"{name}={settings[name]}\n" for name in ("S3_ANALYST_ACCESS_KEY", "S3_ANALYST_SECRET_KEY")))
    return path


def test_decrypt_with_the_keys_gives_the_cleaned_values_into_an_owner_only_file(lake):
    out = lake.tmp / "customers.csv"
    result = lake.cli("query", "SELECT customer_id, decrypt(email_address) AS email FROM customer_info "
                               f"WHERE ingest_date = DATE '{DAYS[1]}'", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert f"to {out} (csv)" in result.stdout
    got = pd.read_csv(out, keep_default_na=False, na_values=[""])
    expected = lake.expected["tuesday"].clean
    assert sorted(got["email"].dropna()) == sorted(expected["email_address"].dropna())


@pytest.mark.parametrize("suffix", ["json", "parquet"])
def test_the_output_file_s_suffix_chooses_its_format(lake, suffix):
    out = lake.tmp / f"orders.{suffix}"
    result = lake.cli("query", "SELECT order_id, order_date, total_purchase_value FROM order_info", "--output", str(out))
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text()) if suffix == "json" else pq.read_table(out).to_pylist()
    assert len(rows) == sum(len(result.clean) for result in lake.expected.values())
    first = rows[0]["order_date"]
    assert isinstance(first, str if suffix == "json" else dt.date)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_wrong_keys_fail_in_one_line_without_key_material(lake):
    wrong = generate_key()
    result = lake.cli("query", "SELECT decrypt(email_address) FROM customer_info", "--output",
                      str(lake.tmp / "never.csv"), FERNET_KEYS=wrong)
    error = one_line_error(result, 1)
    assert "not a token any key in FERNET_KEYS opens" in error
    assert wrong not in error + result.stdout and lake.key not in error + result.stdout
    assert not (lake.tmp / "never.csv").exists()


@pytest.mark.parametrize("sql, message", [
    ("SELECT nope FROM order_info", "query failed: Binder Error"),
    ("SELEKT 1", "query failed: Parser Error"),
    ("SELECT * FROM read_csv('/etc/hostname')", "Permission Error"),
    ("COPY (SELECT * FROM customer_info) TO 'copy.csv'", "Permission Error"),
])
def test_a_bad_query_or_a_file_outside_the_lake_fails_in_one_line(lake, sql, message):
    assert message in one_line_error(lake.cli("query", sql), 1)
    assert not (lake.tmp / "copy.csv").exists()


def test_a_missing_bucket_fails_in_one_line(lake):
    assert "access denied" in one_line_error(lake.cli("query", "SELECT 1", S3_BUCKET="no-such-bucket"), 1)


def test_unset_or_refused_analyst_credentials_are_a_configuration_error(lake):
    unset = lake.cli("query", "SELECT 1", ECOMMERCE_PIPELINE_ENV_FILE=str(lake.tmp / "none.env"))
    assert "S3_ANALYST_ACCESS_KEY is not set" in one_line_error(unset, 78)
    refused = lake.cli("query", "SELECT 1", S3_ANALYST_SECRET_KEY="not-the-secret")
    assert "refused the credentials of S3_ANALYST_ACCESS_KEY" in one_line_error(refused, 78)
    assert "not-the-secret" not in refused.stderr


@pytest.mark.parametrize("args", [["query"], ["query", "SELECT 1", "--file", "q.sql"], ["query", "--format", "xml",
                                                                                     "SELECT 1"], ["erase"]])
def test_a_usage_error_exits_2(lake, args):
    assert lake.cli(*args).returncode == 2


def test_a_query_from_a_file(lake):
    (lake.tmp / "q.sql").write_text("-- orders per day\n" + JOIN)
    from_file = lake.cli("query", "--file", "q.sql")
    assert from_file.returncode == 0 and from_file.stdout == lake.cli("query", JOIN).stdout


def test_every_tool_says_in_one_line_that_the_store_is_down(lake):
    assert lake.stack("down").returncode == 0
    try:
        for args in (["query", "SELECT 1"], ["rotate-lake", "--dry-run"], ["erase", "CUST-1", "--dry-run"]):
            result = lake.cli(*args, NEW_FERNET_KEYS=generate_key())
            assert "cannot reach the S3 store" in one_line_error(result, 69), args
    finally:
        assert lake.stack("up", "minio").returncode == 0
