"""`ecommerce-pipeline`: sample data, keys, ingestion, and decrypting or re-keying lake files.

Keys are read only from variables (environment or `.env`), never from arguments,
which would end up in shell history and in `ps`. Expected failures print one line on
stderr and exit with the status exit_codes.py gives them (1 failed or refused, 2 usage,
69 a service unreachable, 78 configuration missing); no message ever contains key material.
Each command reaches the bucket as the least-privileged identity its work needs
(settings.S3_ACCOUNTS): reads as the analyst, `ingest` as the flow, a rewrite as the maintainer.
Long commands draw a progress bar on stderr when it is a terminal (or with --progress).
"""

import argparse
import os
import sys
import time
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError

from .exit_codes import CommandFailed, UsageError, exit_status
from .fernet_tokens import generate_key, parse_keys
from .ingest import DEFAULT_CHUNK_ROWS, ingest_file
from .lake_watch import (
    AlreadyWaiting, LakeWatch, NotLandedInTime, Outcome, drop_into_inbox, drop_time, records_in, wait_until_landed,
)
from .lake.output import FORMATS
from .object_keys import QUARANTINE_PREFIX
from .object_store import storage_error
from .parquet_io import is_s3_uri, read_parquet, split_s3_uri, write_parquet
from .policy import EncryptionPolicy, load_policy
from .progress import advance_to, bar
from .settings import ENV_FILE_VARIABLE, S3Settings, load_settings, require
from .table_encryption import decrypt_table, rotate_table

PROGRAM = "ecommerce-pipeline"
DISTRIBUTION = "ecommerce-pipeline"
KEYS_VARIABLE = "FERNET_KEYS"
NEW_KEYS_VARIABLE = "NEW_FERNET_KEYS"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (ClientError, BotoCoreError) as error:  # a call outside the wrapped ones: same one-line message
        return _failed(storage_error(error, "the S3 store"))
    except (CommandFailed, ValueError, OSError) as error:
        return _failed(error)
    return 0


def _failed(error: BaseException) -> int:
    print(f"{PROGRAM}: error: {error}", file=sys.stderr)
    return exit_status(error)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {_version()}")
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

    _add_lake_commands(commands)
    _add_global_options(parser, commands)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, commands) -> None:
    """Options every command takes, before or after its name (`--env-file X drop ...` = `drop ... --env-file X`).

    A subcommand's copy has no default of its own (SUPPRESS), so it never overwrites what
    was given before the subcommand; commands added later get them too.
    """
    for target, default in [(parser, None)] + [(command, argparse.SUPPRESS) for command in commands.choices.values()]:
        target.add_argument("--env-file", type=Path, default=default,
                            help=f"settings file read after the environment (default: ${ENV_FILE_VARIABLE}, else .env here)")
        target.add_argument("--progress", action=argparse.BooleanOptionalAction, default=default,
                            help="draw progress bars on stderr (default: only when stderr is a terminal)")


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout without `pip install`
        return "(not installed)"


def _settings(args) -> dict[str, str]:
    return load_settings(args.env_file)


def _s3(args, account: str) -> S3Settings:
    """The bucket as one identity sees it: the least privilege the command's work needs."""
    return S3Settings.from_settings(_settings(args), account)


def _add_lake_commands(commands) -> None:
    """The tools over the whole lake in S3 (ecommerce_pipeline.lake): query, rotate-lake, erase."""
    query = commands.add_parser(
        "query", help="SQL over the whole lake in S3 (tables customer_info, order_info, payment_and_delivery_info, "
                      f"quarantine; decrypt(column) with {KEYS_VARIABLE})")
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument("sql", nargs="?", metavar="SQL", help="the query (its last statement's rows are the result)")
    source.add_argument("--file", type=Path, metavar="Q.sql", help="read the query from a file")
    query.add_argument("--format", choices=FORMATS, help="default: by --output's suffix, a table on a terminal, "
                                                         "else csv")
    query.add_argument("--output", metavar="FILE", help="write the result to FILE (created readable by you alone)")
    query.add_argument("--stats", action="store_true", help="say on stderr how many objects the query read")
    query.set_defaults(run=_query)

    rotate_lake = commands.add_parser(
        "rotate-lake", help=f"re-encrypt every object of the lake under the newest key of {NEW_KEYS_VARIABLE} "
                            "(resumable; see README: Rotating the keys)")
    rotate_lake.add_argument("--dry-run", action="store_true", help="list what would be rotated, change nothing")
    rotate_lake.set_defaults(run=_rotate_lake)

    erase = commands.add_parser(
        "erase", help="remove every row of one customer from the lake, with older versions (resumable; "
                      "see README: Erasing a customer)")
    erase.add_argument("customer_id", metavar="CUSTOMER_ID")
    erase.add_argument("--dry-run", action="store_true", help="list what would be removed, change nothing")
    erase.add_argument("--reference", help="the request's reference for the audit record (no personal data)")
    erase.set_defaults(run=_erase)


def _query(args) -> None:
    sql = args.file.read_text() if args.file else args.sql
    if not sql.strip():
        raise UsageError("the query is empty")
    from .lake.query import run_query

    report = run_query(_settings(args), sql, fmt=args.format, output=args.output,
                       stdout=sys.stdout.buffer, stdout_is_terminal=sys.stdout.isatty())
    if args.stats or args.output:
        where = f" to {args.output} ({report.format})" if args.output else ""
        print(f"{report.rows} rows{where}; read {report.objects_read} of {report.objects} objects",
              file=sys.stderr if not args.output else sys.stdout)


def _rotate_lake(args) -> None:
    from .lake.rotation import rotate_lake

    rotate_lake(_settings(args), dry_run=args.dry_run)


def _erase(args) -> None:
    from .lake.erasure import erase_customer

    erase_customer(_settings(args), args.customer_id, dry_run=args.dry_run, reference=args.reference)


def _add_segment_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--segment", help="segment of the file (default: the folder named after a segment)")
    command.add_argument("--policy", type=Path, help="encryption policy TOML (default: the packaged one)")


def _generate(args) -> None:
    from .sample_data import write_sample_csv

    with bar(f"generating {args.out}", args.rows, "rows", args.progress) as progress:
        written = write_sample_csv(args.out, rows=args.rows, seed=args.seed, on_batch=progress.update)
    print(f"wrote {written} rows to {args.out}")


def _keygen(args) -> None:
    print(generate_key())


def _ingest(args) -> None:
    """Writes rows and ledger records only: the flow's identity, as NiFi stores the same rows.

    An export rejected whole (stored encrypted in quarantine, no row in a segment) does not
    stop the others; the command fails (exit 1) at the end, as `drop` does.
    """
    settings = _settings(args)
    keys = require(settings, KEYS_VARIABLE)
    parse_keys(keys, KEYS_VARIABLE)
    s3 = S3Settings.from_settings(settings, "flow")
    rejected: list[Path] = []
    for source in args.sources:
        with bar(f"ingesting {source.name}", _size(source), "B", args.progress, scale=True) as progress:
            report = ingest_file(source, s3, keys, chunk_rows=args.chunk_rows, workers=args.workers,
                                 on_chunk=lambda size, chunk: progress.update(size))
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
        if report.rejected_chunks and not report.rows_in:
            rejected.append(source)
    if rejected:
        raise CommandFailed(f"{len(rejected)} of {len(args.sources)} files rejected whole (not readable exports; "
                            f"stored encrypted in _quarantine/): {', '.join(source.name for source in rejected)}")


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None  # ingest_file names the missing file


class Quarantined(CommandFailed):
    """A dropped file was not a readable export: the flow stored it whole, encrypted, in quarantine."""


def _drop(args) -> None:
    """Drops every file (none replaces one still waiting in the inbox), then waits for each in turn.

    A file refused, quarantined or not stored in time does not stop the others: each is
    reported, and the command fails (exit 1) at the end if any did. The wait only reads
    the lake: the analyst's read-only identity.
    """
    missing = [str(source) for source in args.sources if not source.is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)}: no such file (nothing was dropped)")
    watch = LakeWatch(_s3(args, "analyst"))
    problems: list[tuple[Path, CommandFailed]] = []

    def failed(source: Path, error: CommandFailed) -> None:
        problems.append((source, error))
        if len(args.sources) > 1:  # said at once; the others carry on
            print(f"{PROGRAM}: {error}", file=sys.stderr, flush=True)

    dropped = []
    for source in args.sources:
        records, dropped_at = records_in(source), drop_time()
        try:
            drop_into_inbox(source, args.inbox)
        except AlreadyWaiting as refused:
            failed(source, refused)
            continue
        print(f"dropped {source} ({records} records) into {args.inbox}/", flush=True)
        dropped.append((source, records, dropped_at, time.monotonic()))
    for position, (source, records, dropped_at, started) in enumerate(dropped):
        try:
            _wait_for(watch, source, records, dropped_at, started, args)
        except Quarantined as quarantined:
            failed(source, quarantined)
        except NotLandedInTime as late:
            failed(source, late)
            for waiting, *_ in dropped[position + 1:]:  # the flow is not keeping up: say what is unconfirmed
                failed(waiting, CommandFailed(f"{waiting.name}: dropped, not confirmed in the lake (the wait "
                                              "stopped at the first file not stored in time)"))
            break
    if len(args.sources) == 1 and problems:
        raise problems[0][1]
    if problems:
        raise CommandFailed(f"{len(problems)} of {len(args.sources)} files not stored: "
                            f"{', '.join(source.name for source, _ in problems)}")


def _wait_for(watch: LakeWatch, source: Path, records: int, dropped_at, started: float, args) -> None:
    with bar(f"waiting for {source.name}", records, "rows", args.progress) as progress:
        settled, objects = wait_until_landed(watch, source, records, dropped_at, args.timeout,
                                             on_poll=lambda rows, objects: advance_to(progress, rows))
    elapsed = time.monotonic() - started
    if settled is Outcome.ALREADY_INGESTED:
        first = watch.first_ingest(objects)
        print(f"{source.name}: already in the lake, nothing stored again: its content was ingested at "
              f"{first['ingested_at']} from {first['source']} (ingest_date={first['ingest_date']})")
        return
    if settled is Outcome.QUARANTINED:
        raise Quarantined(f"{source.name}: not a readable export ({watch.quarantine_reason(objects) or 'no reason'}"
                          f"): stored encrypted in s3://{watch.bucket}/{QUARANTINE_PREFIX}/ after {elapsed:.1f}s, "
                          "nothing in the segments")
    print(f"{source.name}: in the lake after {elapsed:.1f}s, s3://{watch.bucket}/")
    for landed in objects:
        rows = "encrypted file" if landed.rows is None else f"{landed.rows} rows"
        print(f"  {landed.key}  {rows}, {landed.size} bytes")


def _decrypt(args) -> None:
    """Reads as the analyst (read-only): decrypting needs the keys, never write access to the lake."""
    suffix = Path(args.out).suffix.lower()
    if is_s3_uri(args.out):
        raise UsageError("decrypted data stays local: OUT must be a local path, not s3://")
    if suffix not in {".csv", ".parquet"}:
        raise UsageError(f"OUT must end in .csv or .parquet, not {args.out!r}")
    settings = _settings(args)
    keys = parse_keys(require(settings, KEYS_VARIABLE), KEYS_VARIABLE)
    policy = load_policy(args.policy)
    segment = _segment(args, policy)
    columns = policy.encrypted_columns(segment)
    with bar(f"decrypting {Path(args.source).name}", len(columns), "columns", args.progress) as progress:
        table = decrypt_table(read_parquet(args.source, settings, "analyst"), segment, keys, policy,
                              on_column=lambda name: progress.update())
    with _owner_only_file(args.out) as out:
        if suffix == ".csv":
            pacsv.write_csv(table, out)
        else:
            pq.write_table(table, out)
    print(f"decrypted {table.num_rows} rows of segment {segment} to {args.out}")


def _rotate(args) -> None:
    """Rewrites a lake object as the maintainer, the only identity that may replace lake objects."""
    settings = _settings(args)
    old_keys = parse_keys(require(settings, KEYS_VARIABLE), KEYS_VARIABLE)
    new_keys = parse_keys(require(settings, args.new_keys_env), args.new_keys_env)
    policy = load_policy(args.policy)
    segment = _segment(args, policy)
    columns = policy.encrypted_columns(segment)
    with bar(f"re-encrypting {Path(args.source).name}", 2 * len(columns), "columns", args.progress) as progress:
        table = rotate_table(read_parquet(args.source, settings, "maintainer"), segment, old_keys, new_keys, policy,
                             on_column=lambda name: progress.update())
        write_parquet(table, args.destination, settings, "maintainer")
    stored = read_parquet(args.destination, settings, "maintainer").num_rows  # counted again, as the lake tools do
    if stored != table.num_rows:
        raise CommandFailed(f"{args.destination} holds {stored} rows after the rotation, {table.num_rows} expected "
                            f"(the rows of {args.source})")
    print(
        f"re-encrypted {', '.join(columns) or 'no columns'} of {table.num_rows} rows "
        f"(segment {segment}) to {args.destination}; once every file is rotated, set {KEYS_VARIABLE} "
        f"to the {args.new_keys_env} list"
    )


def _segment(args, policy: EncryptionPolicy) -> str:
    """--segment (a name the policy knows, else a usage error), or the one the path names."""
    if args.segment is None:
        return infer_segment(args.source, policy)
    if args.segment not in policy.segments:
        raise UsageError(f"unknown segment {args.segment!r}: --segment takes one of {', '.join(sorted(policy.segments))}")
    return args.segment


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
