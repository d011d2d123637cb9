"""`ecommerce-pipeline`: sample data, keys, ingestion, and decrypting or re-keying lake files.

Keys are read only from variables (environment or `.env`), never from arguments,
which would end up in shell history and in `ps`. Expected failures print one line on
stderr and exit with 2; no message ever contains key material.
"""

import argparse
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .fernet_tokens import generate_key, parse_keys
from .ingest import DEFAULT_CHUNK_ROWS, ingest_file
from .lake_watch import LakeWatch, Outcome, drop_into_inbox, records_in, wait_until_landed
from .parquet_io import StorageError, is_s3_uri, read_parquet, split_s3_uri, write_parquet
from .object_keys import QUARANTINE_PREFIX
from .policy import EncryptionPolicy, load_policy
from .settings import ENV_FILE_VARIABLE, MissingSetting, S3Settings, load_settings, require
from .store_capabilities import UntrustedStore
from .table_encryption import decrypt_table, rotate_table

PROGRAM = "ecommerce-pipeline"
KEYS_VARIABLE = "FERNET_KEYS"
NEW_KEYS_VARIABLE = "NEW_FERNET_KEYS"
EXIT_FAILURE = 2


class UsageError(ValueError):
    """The command line asks for something the tool will not do."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except (MissingSetting, ValueError, OSError, StorageError, TimeoutError, UntrustedStore) as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, default=None,
                        help=f"settings file read after the environment (default: ${ENV_FILE_VARIABLE}, else .env here)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    generate = commands.add_parser("generate", help="write a seeded sample CSV export")
    generate.add_argument("out", metavar="OUT.csv")
    generate.add_argument("--rows", type=int, default=25_000)
    generate.add_argument("--seed", type=int, default=42)
    generate.set_defaults(run=_generate)

    keygen = commands.add_parser("keygen", help=f"print a new Fernet key (put it first in {KEYS_VARIABLE})")
    keygen.set_defaults(run=_keygen)

    ingest = commands.add_parser(
        "ingest", help="clean, segment and encrypt CSV exports into Parquet objects in the S3 bucket"
    )
    ingest.add_argument("sources", metavar="CSV", nargs="+", type=Path)
    ingest.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="rows cleaned per chunk")
    ingest.add_argument("--workers", type=int, help="processes sharing the chunks (default: one per core)")
    ingest.set_defaults(run=_ingest)

    drop = commands.add_parser(
        "drop", help="copy CSV exports into the flow's watched folder and wait until NiFi has stored them"
    )
    drop.add_argument("sources", metavar="CSV", nargs="+", type=Path)
    drop.add_argument("--inbox", type=Path, default=Path("data/inbox"), help="the watched folder (default: data/inbox)")
    drop.add_argument("--timeout", type=float, default=600, help="seconds to wait per file (default: 600)")
    drop.set_defaults(run=_drop)

    decrypt = commands.add_parser(
        "decrypt", help=f"decrypt a lake Parquet file to a local .csv or .parquet with {KEYS_VARIABLE}"
    )
    decrypt.add_argument("source", metavar="SRC", help="local Parquet path or s3://bucket/<segment>/.../file.parquet")
    decrypt.add_argument("out", metavar="OUT", help="local path ending in .csv or .parquet (created owner-only)")
    _add_segment_options(decrypt)
    decrypt.set_defaults(run=_decrypt)

    rotate = commands.add_parser(
        "rotate",
        help=f"re-encrypt a lake Parquet file: open it with {KEYS_VARIABLE}, encrypt with the first of the new keys",
    )
    rotate.add_argument("source", metavar="SRC", help="local Parquet path or s3://bucket/key")
    rotate.add_argument("destination", metavar="DST", help="local Parquet path or s3://bucket/key (may equal SRC)")
    rotate.add_argument(
        "--new-keys-env",
        default=NEW_KEYS_VARIABLE,
        metavar="VARIABLE",
        help=f"variable holding the new key list, newest first (default: {NEW_KEYS_VARIABLE})",
    )
    _add_segment_options(rotate)
    rotate.set_defaults(run=_rotate)
    return parser


def _add_segment_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--segment", help="segment of the file (default: the folder named after a segment)")
    command.add_argument("--policy", type=Path, help="encryption policy TOML (default: the packaged one)")


def _generate(args) -> None:
    from .sample_data import write_sample_csv

    written = write_sample_csv(args.out, rows=args.rows, seed=args.seed)
    print(f"wrote {written} rows to {args.out}")


def _keygen(args) -> None:
    print(generate_key())


def _ingest(args) -> None:
    settings = load_settings(args.env_file)
    keys = require(settings, KEYS_VARIABLE)
    parse_keys(keys, KEYS_VARIABLE)
    s3 = S3Settings.from_settings(settings)
    for source in args.sources:
        report = ingest_file(source, s3, keys, chunk_rows=args.chunk_rows, workers=args.workers)
        if report.first_ingest is not None:
            first = report.first_ingest
            print(f"{source}: already in the lake, nothing stored again: its content was ingested at "
                  f"{first.ingested_at} from {first.source} (ingest_date={first.ingest_date}); "
                  f"recorded at s3://{s3.bucket}/{report.duplicate_record}")
            continue
        print(
            f"{source}: {report.rows_in} rows in, {report.rows_clean} in segments, "
            f"{report.rows_quarantined} quarantined, {len(report.rejected_chunks)} chunks rejected"
        )
        for reason in report.rejected_chunks:
            print(f"  rejected: {reason}")
        for key in report.objects:
            print(f"  s3://{s3.bucket}/{key}")


class Quarantined(ValueError):
    """A dropped file was not a readable export: the flow stored it whole, encrypted, in quarantine."""


def _drop(args) -> None:
    watch = LakeWatch(S3Settings.from_settings(load_settings(args.env_file)))
    for source in args.sources:
        if not source.is_file():
            raise FileNotFoundError(f"{source} does not exist or is not a file")
        records = records_in(source)
        started = time.monotonic()

        def report(line: str) -> None:
            print(line, flush=True)

        report(f"dropping {source} ({records} records) into {args.inbox}/")
        settled, objects = wait_until_landed(watch, source, records, args.timeout, report,
                                             on_start=lambda: drop_into_inbox(source, args.inbox))
        elapsed = time.monotonic() - started
        if settled is Outcome.ALREADY_INGESTED:
            first = watch.first_ingest(objects)
            print(f"{source.name}: already in the lake, nothing stored again: its content was ingested at "
                  f"{first['ingested_at']} from {first['source']} (ingest_date={first['ingest_date']})")
            continue
        if settled is Outcome.QUARANTINED:
            raise Quarantined(f"{source.name} is not a readable export ({watch.quarantine_reason(objects) or 'no reason'}"
                              f"): stored encrypted in s3://{watch.bucket}/{QUARANTINE_PREFIX}/ after {elapsed:.1f}s, "
                              "nothing in the segments")
        print(f"{source.name}: in the lake after {elapsed:.1f}s, s3://{watch.bucket}/")
        for landed in objects:
            rows = "encrypted file" if landed.rows is None else f"{landed.rows} rows"
            print(f"  {landed.key}  {rows}, {landed.size} bytes")


def _decrypt(args) -> None:
    suffix = Path(args.out).suffix.lower()
    if is_s3_uri(args.out):
        raise UsageError("decrypted data stays local: OUT must be a local path, not s3://")
    if suffix not in {".csv", ".parquet"}:
        raise UsageError(f"OUT must end in .csv or .parquet, not {args.out!r}")
    settings = load_settings(args.env_file)
    keys = parse_keys(require(settings, KEYS_VARIABLE), KEYS_VARIABLE)
    policy = load_policy(args.policy)
    segment = args.segment or infer_segment(args.source, policy)
    table = decrypt_table(read_parquet(args.source, settings), segment, keys, policy)
    with _owner_only_file(args.out) as out:
        if suffix == ".csv":
            pacsv.write_csv(table, out)
        else:
            pq.write_table(table, out)
    print(f"decrypted {table.num_rows} rows of segment {segment} to {args.out}")


def _rotate(args) -> None:
    settings = load_settings(args.env_file)
    old_keys = parse_keys(require(settings, KEYS_VARIABLE), KEYS_VARIABLE)
    new_keys = parse_keys(require(settings, args.new_keys_env), args.new_keys_env)
    policy = load_policy(args.policy)
    segment = args.segment or infer_segment(args.source, policy)
    table = rotate_table(read_parquet(args.source, settings), segment, old_keys, new_keys, policy)
    write_parquet(table, args.destination, settings)
    print(
        f"re-encrypted {', '.join(policy.encrypted_columns(segment)) or 'no columns'} of {table.num_rows} rows "
        f"(segment {segment}) to {args.destination}; once every file is rotated, set {KEYS_VARIABLE} "
        f"to the {args.new_keys_env} list"
    )


def infer_segment(location: str, policy: EncryptionPolicy) -> str:
    """The segment a lake file belongs to, from its path.

    The flow writes `<segment>/ingest_date=.../file.parquet`, so in an S3 key it is the
    first part; for a local copy it is the nearest enclosing folder named like a segment.
    Rejected rows live under `_quarantine/` (the underscore keeps them apart from the
    segments in listings), which is the `quarantine` segment.
    """
    if is_s3_uri(location):
        folders = [split_s3_uri(location)[1].split("/")[0]]
    else:
        folders = list(reversed(Path(location).resolve().parent.parts))
    for folder in folders:
        segment = folder.removeprefix("_")
        if segment in policy.segments:
            return segment
    raise UsageError(
        f"cannot tell the segment of {location} from its path; pass --segment "
        f"({', '.join(sorted(policy.segments))})"
    )


@contextmanager
def _owner_only_file(path: str):
    """A file only its owner can read: decrypted output is personal data."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "wb") as file:
        yield file


if __name__ == "__main__":
    sys.exit(main())
