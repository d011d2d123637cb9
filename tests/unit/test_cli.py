"""The `ecommerce-pipeline` tools on local Parquet files: keygen, decrypt, rotate, generate, errors and their exit codes,
global options, progress."""

import csv
import os
import stat
import subprocess
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet

from importlib.metadata import version

from ecommerce_pipeline.cli import infer_segment, main
from ecommerce_pipeline.exit_codes import UsageError
from ecommerce_pipeline.fernet_tokens import DecryptionFailed, generate_key, parse_keys
from ecommerce_pipeline.table_encryption import decrypt_table, encrypt_table
from ecommerce_pipeline.policy import load_policy

ORIGINAL = pa.table(
    {
        "customer_id": ["C1", "C2", "C3"],
        "order_id": ["O1", "O2", "O3"],
        "total_purchase_value": [12.5, 800.0, 1500.0],
        "payment_info": ["4111 1111 1111 1111", "", None],
        "delivery_status": ["Delivered", "Pending", None],
        "delivery_address": ['12 Main St,\n"Back door"', "Ærøskøbing 5, Danmark", "1 Rue de Paris"],
        "gift_won": ["Wireless Mouse", "Bluetooth Headphones", "Keyboard + Wireless Mouse"],
    }
)
SEGMENT = "payment_and_delivery_info"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory (no .env) and no key variables inherited from the shell."""
    monkeypatch.chdir(tmp_path)
    for name in ("FERNET_KEYS", "NEW_FERNET_KEYS", "NEXT_KEYS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def key(monkeypatch):
    key = generate_key()
    monkeypatch.setenv("FERNET_KEYS", key)
    return key


def lake_file(root, key, segment=SEGMENT):
    path = root / "lake" / segment / "ingest_date=2024-05-01" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(encrypt_table(ORIGINAL, SEGMENT, key), path)
    return path


def read_csv(path):
    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in ORIGINAL.column_names if name != "total_purchase_value"},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    return pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True), convert_options=options)


def test_keygen_prints_a_valid_fernet_key(workdir, capsys):
    assert main(["keygen"]) == 0
    printed = capsys.readouterr().out.strip()
    assert Fernet(printed).decrypt(Fernet(printed).encrypt(b"ok")) == b"ok"
    assert parse_keys(printed).size == 1


def test_decrypt_to_csv_gives_the_original_values(workdir, key, capsys):
    out = workdir / "plain.csv"
    assert main(["decrypt", str(lake_file(workdir, key)), str(out)]) == 0
    assert read_csv(out).equals(ORIGINAL)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert "3 rows of segment payment_and_delivery_info" in capsys.readouterr().out


def test_decrypt_to_parquet_with_an_explicit_segment(workdir, key):
    source = workdir / "copied.parquet"
    pq.write_table(encrypt_table(ORIGINAL, SEGMENT, key), source)
    out = workdir / "plain.parquet"
    assert main(["decrypt", str(source), str(out), "--segment", SEGMENT]) == 0
    assert pq.read_table(out).equals(ORIGINAL)


def test_decrypt_reads_keys_from_the_env_file(workdir, monkeypatch):
    key = generate_key()
    (workdir / "keys.env").write_text(f"FERNET_KEYS={key}\n")
    out = workdir / "plain.parquet"
    assert main(["--env-file", "keys.env", "decrypt", str(lake_file(workdir, key)), str(out)]) == 0
    assert pq.read_table(out).equals(ORIGINAL)


def run_cli(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "ecommerce_pipeline.cli", *args], capture_output=True, text=True, env=env
    )


def test_wrong_key_exits_1_with_one_clear_line_and_no_traceback(workdir):
    right, wrong = generate_key(), generate_key()
    source = lake_file(workdir, right)
    env = {**os.environ, "FERNET_KEYS": wrong}
    result = run_cli("decrypt", str(source), str(workdir / "plain.csv"), env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("ecommerce-pipeline: error: column 'payment_info', row 0:")
    assert wrong not in result.stderr and right not in result.stderr and result.stdout == ""
    assert not (workdir / "plain.csv").exists()


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (None, "FERNET_KEYS is not set"),
        ("not a key!", "FERNET_KEYS: key 1 of 1 is not url-safe base64"),
        (f"{'A' * 43}=,{'B' * 20}", "FERNET_KEYS: key 2 of 2 decodes to 15 bytes, not 32"),
    ],
)
def test_missing_or_malformed_keys_exit_78_without_echoing_them(workdir, monkeypatch, capsys, keys, message):
    source = lake_file(workdir, generate_key())
    if keys is not None:
        monkeypatch.setenv("FERNET_KEYS", keys)
    assert main(["decrypt", str(source), str(workdir / "plain.csv")]) == 78
    error = capsys.readouterr().err
    assert error.startswith(f"ecommerce-pipeline: error: {message}")
    assert error.count("\n") == 1
    for part in (keys or "").split(","):
        assert not part or part not in error


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["decrypt", "{root}/gone.parquet", "{root}/out.csv", "--segment", SEGMENT], 1, "gone.parquet does not exist"),
        (["decrypt", "{root}/loose.parquet", "{root}/out.csv"], 2, "cannot tell the segment"),
        (["decrypt", "{root}/loose.parquet", "{root}/out.json", "--segment", SEGMENT], 2, "must end in .csv or .parquet"),
        (["decrypt", "{root}/loose.parquet", "s3://lake/out.csv", "--segment", SEGMENT], 2, "decrypted data stays local"),
        (["decrypt", "{root}/loose.parquet", "{root}/out.csv", "--segment", "orders"], 2, "unknown segment 'orders'"),
        (["decrypt", "{root}/loose.parquet", "{root}/out.csv", "--segment", "customer_info"], 1, "covers first_name"),
        (["decrypt", "{root}/not-parquet.parquet", "{root}/out.csv", "--segment", SEGMENT], 1, "not a readable Parquet"),
        (["rotate", "{root}/loose.parquet", "{root}/new.parquet", "--segment", SEGMENT], 78, "NEW_FERNET_KEYS is not set"),
        (["ingest", "{root}/gone.csv"], 78, "S3_FLOW_ACCESS_KEY is not set"),
        (["drop", "{root}/gone.csv"], 1, "gone.csv: no such file (nothing was dropped)"),
    ],
)
def test_expected_failures_exit_with_their_status_and_one_line(workdir, key, capsys, args, code, message):
    """1 the work failed or was refused, 2 the command line is wrong, 78 a setting is missing (exit_codes.py)."""
    pq.write_table(encrypt_table(ORIGINAL, SEGMENT, key), workdir / "loose.parquet")
    (workdir / "not-parquet.parquet").write_text("customer_id\nC1\n")
    assert main([arg.format(root=workdir) for arg in args]) == code
    error = capsys.readouterr().err
    assert error.startswith("ecommerce-pipeline: error: ") and message in error and error.count("\n") == 1


def test_argparse_usage_errors_exit_2(workdir, capsys):
    for args in (["decrypt"], ["generate", "x.csv", "--rows", "many"], ["no-such-command"]):
        with pytest.raises(SystemExit) as usage:
            main(args)
        assert usage.value.code == 2, args


def test_version_names_the_installed_package(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"ecommerce-pipeline {version('ecommerce-pipeline')}"


@pytest.mark.parametrize("position", ["before", "after"])
def test_global_options_go_before_or_after_the_command(workdir, position):
    key = generate_key()
    (workdir / "keys.env").write_text(f"FERNET_KEYS={key}\n")
    out = workdir / "plain.parquet"
    command = ["decrypt", str(lake_file(workdir, key)), str(out)]
    options = ["--env-file", "keys.env", "--no-progress"]
    assert main(options + command if position == "before" else command + options) == 0
    assert pq.read_table(out).equals(ORIGINAL)


def test_progress_goes_to_stderr_when_asked_and_nowhere_in_a_pipe(workdir, capsys):
    assert main(["generate", "quiet.csv", "--rows", "30"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out == "wrote 30 rows to quiet.csv\n"
    assert main(["generate", "shown.csv", "--rows", "30", "--progress"]) == 0
    shown = capsys.readouterr()
    assert "generating shown.csv" in shown.err and "30/30" in shown.err
    assert shown.out == "wrote 30 rows to shown.csv\n", "stdout keeps the result alone"


def test_rotate_re_encrypts_with_the_new_primary_key(workdir, key, monkeypatch):
    new = generate_key()
    monkeypatch.setenv("NEW_FERNET_KEYS", f"{new},{key}")
    source = lake_file(workdir, key)
    destination = workdir / "rotated" / SEGMENT / "part-0.parquet"
    assert main(["rotate", str(source), str(destination)]) == 0
    rotated = pq.read_table(destination)
    assert decrypt_table(rotated, SEGMENT, new).equals(ORIGINAL)
    assert rotated.column("customer_id").equals(ORIGINAL.column("customer_id"))
    with pytest.raises(DecryptionFailed):
        decrypt_table(rotated, SEGMENT, key)


def test_rotate_in_place_with_a_named_variable(workdir, key, monkeypatch):
    new = generate_key()
    monkeypatch.setenv("NEXT_KEYS", new)
    source = lake_file(workdir, key)
    assert main(["rotate", str(source), str(source), "--new-keys-env", "NEXT_KEYS"]) == 0
    assert decrypt_table(pq.read_table(source), SEGMENT, new).equals(ORIGINAL)


def test_generate_writes_the_requested_rows(workdir):
    out = workdir / "sample.csv"
    assert main(["generate", str(out), "--rows", "40", "--seed", "3"]) == 0
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 41 and rows[0][0] == "Customer ID"


def test_segment_comes_from_the_first_part_of_an_s3_key():
    policy = load_policy()
    assert infer_segment("s3://lake/customer_info/ingest_date=2024-05-01/part-0.parquet", policy) == "customer_info"
    assert infer_segment("s3://lake/_quarantine/ingest_date=2024-05-01/part-0.parquet", policy) == "quarantine"
    with pytest.raises(UsageError, match="pass --segment"):
        infer_segment("s3://lake/exports/customer_info/part-0.parquet", policy)


def test_an_unreachable_s3_endpoint_exits_69_with_one_line(workdir, key, monkeypatch, capsys):
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("S3_ANALYST_ACCESS_KEY", "tester")
    monkeypatch.setenv("S3_ANALYST_SECRET_KEY", "not-a-real-secret")
    source = "s3://lake/customer_info/ingest_date=2024-05-01/part-0.parquet"
    assert main(["decrypt", source, str(workdir / "plain.csv")]) == 69
    error = capsys.readouterr().err
    assert error.startswith(f"ecommerce-pipeline: error: {source}: cannot reach S3") and error.count("\n") == 1


def test_decrypt_reads_as_the_analyst_not_as_the_admin(workdir, key, monkeypatch, capsys):
    """Only the read-only identity is set: decrypt needs nothing more (it fails reaching the store, not on a setting)."""
    for name in ("S3_ADMIN_ACCESS_KEY", "S3_ADMIN_SECRET_KEY", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("S3_ANALYST_ACCESS_KEY", "analyst")
    monkeypatch.setenv("S3_ANALYST_SECRET_KEY", "not-a-real-secret")
    assert main(["decrypt", "s3://lake/customer_info/x.parquet", str(workdir / "plain.csv")]) == 69
    assert "cannot reach S3" in capsys.readouterr().err


def test_rotate_in_place_that_dies_mid_write_leaves_the_encrypted_file_whole(workdir, key):
    """A write cut short (here: a file-size limit, as a full disk or a crash would) must not destroy the only copy."""
    source = lake_file(workdir, key)
    before = source.read_bytes()
    limit = len(before) // 2
    crash_mid_write = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "from ecommerce_pipeline.cli import main\n"
        f"sys.exit(main(['rotate', {str(source)!r}, {str(source)!r}]))\n"
    )
    env = {**os.environ, "FERNET_KEYS": key, "NEW_FERNET_KEYS": generate_key(),
           "PYTHONPATH": os.pathsep.join(sys.path)}  # this checkout's package, as pytest imports it
    result = subprocess.run([sys.executable, "-c", crash_mid_write], capture_output=True, text=True, env=env)
    assert result.returncode != 0, result.stdout
    assert source.read_bytes() == before
    assert decrypt_table(pq.read_table(source), SEGMENT, parse_keys(key)).equals(ORIGINAL)
    assert sorted(p.name for p in source.parent.iterdir()) == [source.name], "no partial file left behind"
