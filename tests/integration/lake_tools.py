"""A lake in a private MinIO for the lake tools' tests (query, rotate-lake, erase), and ways to look into it.

The lake is filled by `ingest_file`, the core the NiFi flow runs, as the flow's identity: several
exports on several ingest dates, rows that cleaning quarantines, and an export no CSV reader
accepts (kept whole as one Fernet token). The tools run as the real command in a subprocess;
`killed_at` runs it and SIGKILLs it right after a chosen call returns for the n-th time;
`deleting_behind_its_back` deletes an object at that point instead.
"""

import csv
import datetime as dt
import io
import json
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pyarrow.parquet as pq
from cryptography.fernet import Fernet, InvalidToken

from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.ingest import ingest_file
from ecommerce_pipeline.policy import load_policy
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import load_settings
from lake import assert_lake_holds_exactly, keys_of, read_objects

POLICY = load_policy()
LAKE_PREFIXES = ("customer_info/", "order_info/", "payment_and_delivery_info/", "_quarantine/")
DAYS = (dt.date(2026, 11, 2), dt.date(2026, 11, 3))
TOOL_VARIABLES = ("FERNET_KEYS", "NEW_FERNET_KEYS", "S3_BUCKET", "S3_ENDPOINT_URL")

AFTER_CALL = """
import os, signal, sys
from importlib import import_module
from ecommerce_pipeline.settings import S3Settings, load_settings
module, attribute, count, doomed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
owner_name, method = attribute.split(".")
owner = getattr(import_module(module), owner_name)
original = getattr(owner, method)
calls = 0
def hooked(*args, **kwargs):
    global calls
    result = original(*args, **kwargs)
    calls += 1
    if calls == count and doomed:
        admin = S3Settings.from_settings(load_settings(), "admin")
        admin.client().delete_object(Bucket=admin.bucket, Key=doomed)
    elif calls == count:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(owner, method, hooked)
from ecommerce_pipeline.cli import main
sys.exit(main(sys.argv[5:]))
"""


@dataclass
class Lake:
    """The private stack, its identities, the key the lake is under, and what each export should give."""

    stack: object
    tmp: Path
    expected: dict = field(default_factory=dict)  # source stem -> CleaningResult (clean, quarantine)
    unreadable: dict = field(default_factory=dict)  # source stem -> the export's bytes

    @property
    def admin(self):
        return self.stack.s3("admin")

    @property
    def settings(self) -> dict:
        return load_settings(self.stack.env_file)

    @property
    def key(self) -> str:
        return self.settings["FERNET_KEYS"]

    def env(self, **variables) -> dict:
        """The tool's environment: the private .env, its endpoint, and `variables` (None removes one)."""
        env = {name: value for name, value in self.stack.env.items() if name not in TOOL_VARIABLES}
        env["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{self.stack.env['MINIO_API_PORT']}"
        for name, value in variables.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def cli(self, *args, timeout: float = 600, **variables) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli", *args], capture_output=True,
                              text=True, env=self.env(**variables), timeout=timeout, cwd=self.tmp)

    def killed_at(self, call: str, count: int, *args, **variables) -> subprocess.CompletedProcess:
        """The command, SIGKILLed right after `call` ("module:Class.method") returns for the `count`-th time."""
        return self._after_call(call, count, "", *args, **variables)

    def deleting_behind_its_back(self, call: str, count: int, doomed: str, *args,
                                 **variables) -> subprocess.CompletedProcess:
        """The command, with the object `doomed` deleted by the admin right after `call` returns for the
        `count`-th time (a loss the tool did not cause, for its recount to find)."""
        return self._after_call(call, count, doomed, *args, **variables)

    def _after_call(self, call: str, count: int, doomed: str, *args, **variables) -> subprocess.CompletedProcess:
        module, attribute = call.split(":")
        return subprocess.run([sys.executable, "-c", AFTER_CALL, module, attribute, str(count), doomed, *args],
                              capture_output=True, text=True, env=self.env(**variables), timeout=600, cwd=self.tmp)

    def ingest(self, name: str, content: bytes, day: dt.date, keys: str | None = None, chunk_rows: int = 500) -> None:
        path = self.tmp / name
        path.write_bytes(content)
        report = ingest_file(path, self.stack.s3("flow"), keys or self.key, chunk_rows=chunk_rows, ingest_date=day,
                             workers=1)
        assert report.first_ingest is None, f"{name} was ingested before"
        if report.rejected_chunks and not report.rows_in:
            self.unreadable[path.stem] = content
        else:
            self.expected[path.stem] = clean_frame(read_raw_csv(content))

    def ingest_again(self, name: str, chunk_rows: int = 500) -> None:
        """The same file ingested again: a replay, stored on its own keys again (new tokens, new versions)."""
        ingest_file(self.tmp / name, self.stack.s3("flow"), self.key, chunk_rows=chunk_rows, workers=1)

    def empty(self) -> None:
        """Deletes every object and version in the bucket (the ledger too: each test ingests anew)."""
        client = self.admin.client()
        pages = client.get_paginator("list_object_versions").paginate(Bucket=self.admin.bucket)
        for page in pages:
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if doomed:
                client.delete_objects(Bucket=self.admin.bucket, Delete={"Objects": doomed})
        self.expected.clear()
        self.unreadable.clear()

    def versioning(self, status: str) -> None:
        self.admin.client().put_bucket_versioning(Bucket=self.admin.bucket,
                                                  VersioningConfiguration={"Status": status})

    def versions(self) -> list[dict]:
        """Every version of every object under the lake's prefixes (delete markers aside)."""
        client = self.admin.client()
        found = []
        for prefix in LAKE_PREFIXES:
            for page in client.get_paginator("list_object_versions").paginate(Bucket=self.admin.bucket,
                                                                               Prefix=prefix):
                found += page.get("Versions", [])
        return found

    def body(self, key: str, version_id: str | None = None) -> bytes:
        extra = {"VersionId": version_id} if version_id else {}
        return self.admin.client().get_object(Bucket=self.admin.bucket, Key=key, **extra)["Body"].read()

    def assert_holds_exactly(self, key: str, without_customer: str | None = None) -> None:
        """The verifier's check for every export ingested (less one customer's rows), tokens opening with `key`;
        each unreadable export's content, opening with `key`, stored once."""
        for stem, expected in self.expected.items():
            if without_customer:
                expected = SimpleNamespace(
                    clean=expected.clean[expected.clean["customer_id"] != without_customer],
                    quarantine=expected.quarantine[expected.quarantine["customer_id"].str.strip() != without_customer])
            assert_lake_holds_exactly(read_objects(self.admin, keys_of(self.admin, stem)), expected, key)
        for stem, content in self.unreadable.items():
            keys = keys_of(self.admin, stem)
            assert len(keys) == 1 and keys[0].endswith(".csv.fernet"), keys
            stored = Fernet(key).decrypt(self.body(keys[0]))
            assert stored == (content if not without_customer else remove_records(content, without_customer))


def remove_records(content: bytes, customer: str) -> bytes:
    """The test's own idea of an unreadable export without a customer: its records are lines made by
    `unreadable_export`, one per record, the customer's marked by its id first."""
    return b"".join(line for line in content.splitlines(keepends=True) if not line.startswith(customer.encode()))


def tokens_open_only_with(lake: Lake, version: dict, key: str, old_keys: list[str]) -> None:
    """Every token of an object version opens with `key`, none with an old key alone."""
    body = lake.body(version["Key"], version["VersionId"] if version["VersionId"] != "null" else None)
    if version["Key"].endswith(".csv.fernet"):
        tokens = [body]
    elif version["Key"].endswith(".parquet"):
        table = pq.read_table(io.BytesIO(body))
        segment = "quarantine" if version["Key"].startswith("_quarantine/") else version["Key"].split("/")[0]
        tokens = [token.encode() for column in POLICY.encrypted_columns(segment)
                  for token in table.column(column).to_pylist() if token]
    else:
        return
    for token in tokens:
        Fernet(key).decrypt(token)
        for old in old_keys:
            try:
                Fernet(old).decrypt(token)
            except InvalidToken:
                continue
            raise AssertionError(f"{version['Key']} ({version['VersionId']}) still opens with an old key")


def versions_holding(lake: Lake, customer: str) -> list[str]:
    """The keys of every version (Parquet by its customer_id column, a whole file by its records) holding `customer`."""
    holding = []
    for version in lake.versions():
        body = lake.body(version["Key"], version["VersionId"] if version["VersionId"] != "null" else None)
        if version["Key"].endswith(".parquet"):
            if customer in pq.read_table(io.BytesIO(body), columns=["customer_id"]).column(0).to_pylist():
                holding.append(version["Key"])
        elif version["Key"].endswith(".csv.fernet") and customer.encode() in Fernet(lake.key).decrypt(body):
            holding.append(version["Key"])
    return holding


def sample_export(directory: Path, rows: int, seed: int, customer: str | None = None, at: tuple[int, ...] = (),
                  bad_amount_at: tuple[int, ...] = ()) -> bytes:
    """A seeded export; rows `at` given to `customer`, rows `bad_amount_at` with an amount cleaning rejects."""
    path = directory / f"sample-{seed}.csv"
    write_sample_csv(path, rows=rows, seed=seed, bad_row_fraction=0.02)
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    path.unlink()
    for row in at:
        records[1 + row][0] = customer
    for row in bad_amount_at:
        records[1 + row][6] = "not an amount"
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue().encode()


def unreadable_export(customer: str) -> bytes:
    """An export with an unclosed quote (stored whole in quarantine): one line per record, two of `customer`."""
    return (b"Customer ID,First Name,Last Name,Email Address\n"
            b"CUST-000001,Ann,Lee,ann@example.com\n"
            + customer.encode() + b",Eve,Erased,eve@example.com\n"
            b"CUST-000002,Bo,Ray,bo@example.com\n"
            + customer.encode() + b",Eve,Erased,\"eve@example.org\n")


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def tagged_export(path: Path, rows: int, seed: int) -> tuple[str, object]:
    """A messy export at `path` whose customer ids are unique to one test (`CUST-<tag>-...`), so that queries
    over a shared lake can pick its rows alone; (the tag, its expected cleaning)."""
    tag = uuid.uuid4().hex[:8]
    write_sample_csv(path, rows=rows, seed=seed, bad_row_fraction=0.02)
    path.write_bytes(path.read_bytes().replace(b"CUST-", f"CUST-{tag}-".encode()))
    return tag, clean_frame(read_raw_csv(path.read_bytes()))


def assert_query_reads_the_flow_s_rows(run_cli, tag: str, expected) -> None:
    """`query` (as the analyst) finds exactly the export's rows among the lake's, and decrypts them."""
    picked = f"customer_id LIKE 'CUST-{tag}-%'"
    counted = run_cli("query", f"SELECT count(*) AS n, count(DISTINCT order_id) AS orders FROM order_info "
                               f"JOIN payment_and_delivery_info USING (order_id, customer_id) WHERE {picked}")
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.splitlines()[1] == f"{len(expected.clean)},{len(expected.clean)}"
    emails = run_cli("query", "--format", "json", f"SELECT decrypt(email_address) AS email FROM customer_info "
                                                  f"WHERE {picked}")
    assert emails.returncode == 0, emails.stderr
    got = sorted(row["email"] for row in json_rows(emails.stdout) if row["email"] is not None)
    assert got == sorted(expected.clean["email_address"].dropna())
    rejected = run_cli("query", f"SELECT count(*) FROM quarantine WHERE {picked}")
    assert rejected.stdout.splitlines()[1] == str((expected.quarantine["customer_id"].str.startswith(f"CUST-{tag}-")).sum())


def json_rows(text: str) -> list[dict]:
    return json.loads(text)


def assert_erase_finds_the_flow_s_rows(run_cli, expected) -> None:
    """`erase --dry-run` (as the maintainer) finds exactly one customer's rows of the export, changing nothing."""
    customer = expected.clean["customer_id"].iloc[0]
    clean = (expected.clean["customer_id"] == customer).sum()
    quarantined = (expected.quarantine["customer_id"].str.strip() == customer).sum()
    dry = run_cli("erase", customer, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would erase {3 * clean + quarantined} rows" in dry.stdout, dry.stdout
