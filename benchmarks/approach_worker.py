"""The measured section of approaches b, c and d, run in a process of its own: `python -m benchmarks.approach_worker KIND INPUT OUT`.

Each kind imports only what it measures, inside its function, so the process's peak RSS
and time are the approach's own and not this harness's imports.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from .inputs import REPO

KINDS = ("ingest", "duckdb", "encrypt-per-value", "encrypt-numpy", "encrypt-compiled", "decrypt-compiled")


def s3_settings():
    """The stack's S3 store as .env describes it."""
    from ecommerce_pipeline.settings import S3Settings, env_file, load_settings

    return S3Settings.from_settings(load_settings(env_file(REPO)))


def worker(argv: list[str]) -> None:
    """Worker mode: run one measured section and write its JSON result."""
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("input", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--bucket")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    result = {"ingest": _work_ingest, "duckdb": _work_duckdb}.get(args.kind, _work_encrypt)(args)
    args.out.write_text(json.dumps(result))


def _work_ingest(args) -> dict:
    import dataclasses

    from ecommerce_pipeline.ingest import ingest_file
    from ecommerce_pipeline.settings import env_file, load_settings, require

    s3 = dataclasses.replace(s3_settings(), bucket=args.bucket)
    keys = require(load_settings(env_file(REPO)), "FERNET_KEYS")
    start = time.perf_counter()
    report = ingest_file(args.input, s3, keys, workers=args.workers)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows_in": report.rows_in,
        "rows_clean": report.rows_clean,
        "rows_quarantined": report.rows_quarantined,
        "rejected_chunks": len(report.rejected_chunks),
        "objects": len(report.objects),
    }


def _work_duckdb(args) -> dict:
    import tempfile

    import duckdb

    with tempfile.TemporaryDirectory(prefix="bench-duckdb-") as workdir:
        target = Path(workdir) / "out.parquet"
        connection = duckdb.connect()
        start = time.perf_counter()
        connection.execute(f"COPY (SELECT * FROM read_csv('{args.input}')) TO '{target}' (FORMAT parquet)")
        seconds = time.perf_counter() - start
        rows = connection.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    return {"seconds": seconds, "parquet_rows": rows}


def _work_encrypt(args) -> dict:
    """Approach d: encryption (or decryption) alone on the 8 policy columns' values of the input.

    d1 `Fernet.encrypt` per value, d2 the old numpy batch encryptor, d3 the compiled batch Fernet the
    pipeline uses, d4 its batch decryption of d3's tokens (made before the timed section).
    """
    from cryptography.fernet import Fernet

    from ecommerce_pipeline.fernet_tokens import decrypt_column, encrypt_column, generate_key, parse_keys

    from .numpy_fernet import BatchEncryptor

    columns = _policy_values(args.input)
    key = generate_key()
    keys = parse_keys(key)
    if args.kind == "encrypt-per-value":
        fernet = Fernet(key)
        start = time.perf_counter()
        for values in columns:
            [fernet.encrypt(value.encode("utf-8")) for value in values]
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "values": sum(len(values) for values in columns)}
    if args.kind == "decrypt-compiled":
        tokens = [encrypt_column(values, keys) for values in columns]
        start = time.perf_counter()
        plaintexts = [decrypt_column(column, keys) for column in tokens]
        seconds = time.perf_counter() - start
        assert plaintexts[-1].to_pylist()[:100] == columns[-1][:100], "decrypted values are wrong"
        return {"seconds": seconds, "values": sum(len(values) for values in columns)}
    encrypt = BatchEncryptor(key).encrypt if args.kind == "encrypt-numpy" else lambda values: encrypt_column(values, keys)
    start = time.perf_counter()
    tokens = [encrypt(values) for values in columns]
    seconds = time.perf_counter() - start
    sample = tokens[-1].to_pylist()[:100]
    assert [Fernet(key).decrypt(token).decode() for token in sample] == columns[-1][:100], "batch tokens are wrong"
    return {"seconds": seconds, "values": sum(len(values) for values in columns)}


def _policy_values(path: Path) -> list[list[str]]:
    """The raw values of every column the policy encrypts, gift_won by the demo's thresholds."""
    import pyarrow as pa

    from ecommerce_pipeline.cleaning import parse_amount, read_raw_csv
    from ecommerce_pipeline.columns import RAW_TO_CLEAN
    from ecommerce_pipeline.policy import load_policy

    from .original_demo.encrypt_column import gift_for_amount

    raw = read_raw_csv(path.read_bytes()).rename(columns=RAW_TO_CLEAN)
    policy = load_policy()
    names = list(dict.fromkeys(name for segment in ("customer_info", "payment_and_delivery_info") for name in policy.encrypted_columns(segment)))
    amount = parse_amount(pa.array(raw["total_purchase_value"], pa.string())).to_numpy(zero_copy_only=False)
    gifts = [gift_for_amount(value) for value in amount.tolist()]
    return [gifts if name == "gift_won" else raw[name].tolist() for name in names]


if __name__ == "__main__":
    worker(sys.argv[1:])
