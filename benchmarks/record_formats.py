"""Which record format QueryRecord reads and writes fastest, measured in the running NiFi.

    python3 -m benchmarks.record_formats [--rows 50000] [--rounds 3] [--chunks 3] [--variants csv-commons,...]

Cleaning hands QueryRecord one chunk of routable rows, and QueryRecord parses it once for the
schema and once per segment query (4 queries): the reader's cost per parse is multiplied by five.
This builds a throw-away process group beside the flow (`record-format-bench`): per variant a
GenerateFlowFile, a FetchFile that reads a prepared chunk file (the same 50,000 routable rows in
each format) and a QueryRecord running the flow's segment SQL with that variant's reader and
writer. Variants run interleaved, round after round; NiFi's processor status gives each
QueryRecord's processing time per chunk. The Python side of each format (Clean writing it,
EncryptColumns reading what QueryRecord writes) is timed here too, on the same rows. The group is
removed at the end. Needs `nifi/stack up` (the flow need not be deployed).
"""

import argparse
import io
import json
import statistics
import time
from pathlib import Path

import nipyapi
import psutil
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from ecommerce_pipeline.chunking import iter_record_chunks
from ecommerce_pipeline.cleaning import clean_table, read_raw_table, routable_schema, routable_table, table_to_csv_bytes
from ecommerce_pipeline.segment_routes import segment_queries
from ecommerce_pipeline.segments import split_segments
from ecommerce_pipeline.settings import env_file, load_settings
from ecommerce_pipeline.waiting import wait_until
from nifi.deployment.connection import connect
from nifi.provisioning.processes import running_pid

from .avro_encoding import avro_container_bytes
from .inputs import REPO, RESULTS, input_for

GROUP_NAME = "record-format-bench"
WINDOW_SECONDS = 300  # NiFi's status sums the last 5 minutes: a measurement must not outlive it


def avro_schema_text() -> str:
    """The routable columns as an Avro record of nullable strings (the explicit reader schema)."""
    return json.dumps({"type": "record", "name": "routable", "fields": [
        {"name": field.name, "type": ["null", "string"]} for field in routable_schema()]})


def csv_reader(parser: str, schema: str) -> dict:
    properties = {"CSV Format": "rfc-4180", "Skip Header Line": "true", "Trim double quote": "false",
                  "csv-reader-csv-parser": parser, "csvutils-character-set": "UTF-8"}
    if schema == "header":
        properties["schema-access-strategy"] = "csv-header-derived"
    else:
        properties |= {"schema-access-strategy": "schema-text-property", "schema-text": avro_schema_text()}
    return {"type": "org.apache.nifi.csv.CSVReader", "properties": properties}


READERS = {
    "csv-commons-header": csv_reader("commons-csv", "header"),
    "csv-commons": csv_reader("commons-csv", "schema"),
    "csv-jackson": csv_reader("jackson-csv", "schema"),
    "csv-fast": csv_reader("fast-csv", "schema"),
    "json": {"type": "org.apache.nifi.json.JsonTreeReader",
             "properties": {"schema-access-strategy": "schema-text-property", "schema-text": avro_schema_text()}},
    "avro": {"type": "org.apache.nifi.avro.AvroReader", "properties": {"schema-access-strategy": "embedded-avro-schema"}},
}
WRITERS = {
    "csv-commons": {"type": "org.apache.nifi.csv.CSVRecordSetWriter",
                    "properties": {"CSV Format": "rfc-4180", "csv-writer": "commons-csv", "Include Header Line": "true",
                                   "schema-access-strategy": "inherit-record-schema", "Record Separator": "\\n"}},
    "csv-fast": {"type": "org.apache.nifi.csv.CSVRecordSetWriter",
                 "properties": {"CSV Format": "rfc-4180", "csv-writer": "fast-csv", "Include Header Line": "true",
                                "schema-access-strategy": "inherit-record-schema", "Record Separator": "\\n"}},
    "json": {"type": "org.apache.nifi.json.JsonRecordSetWriter",
             "properties": {"output-grouping": "output-oneline", "Pretty Print JSON": "false",
                            "schema-access-strategy": "inherit-record-schema"}},
}
# variant -> (input format, reader, writer)
VARIANTS = {
    "csv-commons-header/csv-commons": ("csv", "csv-commons-header", "csv-commons"),
    "csv-commons/csv-commons": ("csv", "csv-commons", "csv-commons"),
    "csv-jackson/csv-commons": ("csv", "csv-jackson", "csv-commons"),
    "csv-jackson/csv-fast": ("csv", "csv-jackson", "csv-fast"),
    "csv-fast/csv-commons": ("csv", "csv-fast", "csv-commons"),
    "csv-fast/csv-fast": ("csv", "csv-fast", "csv-fast"),
    "json/json": ("json", "json", "json"),
    "avro/csv-fast": ("avro", "avro", "csv-fast"),
}


def routable_chunk(rows: int) -> pa.Table:
    """The first `rows` rows of the benchmark input as cleaning hands them to QueryRecord."""
    with input_for(max(rows, 250_000)).open("rb") as stream:
        chunk = next(iter_record_chunks(stream, rows))
    return routable_table(clean_table(read_raw_table(chunk)))


def encodings(table: pa.Table) -> dict[str, bytes]:
    """The chunk in each input format, and the Python seconds writing it took (best of 3)."""
    writers = {
        "csv": table_to_csv_bytes,
        "avro": avro_container_bytes,
        "json": lambda t: t.to_pandas().to_json(orient="records", lines=True, force_ascii=False).encode(),
    }
    out = {}
    for name, write in writers.items():
        seconds, body = best_of(lambda: write(table))
        out[name] = (body, seconds)
    return out


def best_of(function, runs: int = 3):
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def python_reading_ms(table: pa.Table) -> dict[str, float]:
    """What EncryptColumns spends parsing the 4 outputs of one chunk, per writer kind (best of 3, ms).

    The outputs are made here from DuckDB's run of the same SQL: the same rows and columns as
    QueryRecord's, written as pyarrow (CSV) and pandas (JSON lines) write them.
    """
    segments = list(split_segments(table).values())
    as_csv = [table_to_csv_bytes(segment) for segment in segments]
    as_json = [segment.to_pandas().to_json(orient="records", lines=True, force_ascii=False).encode() for segment in segments]
    csv_options = dict(read_options=pa_csv.ReadOptions(use_threads=False),
                       parse_options=pa_csv.ParseOptions(newlines_in_values=True))
    json_options = dict(read_options=pa_json.ReadOptions(use_threads=False))
    return {
        "csv": 1000 * best_of(lambda: [pa_csv.read_csv(io.BytesIO(body), **csv_options) for body in as_csv])[0],
        "json": 1000 * best_of(lambda: [pa_json.read_json(io.BytesIO(body), **json_options) for body in as_json if body])[0],
    }


class Bench:
    """The throw-away process group and its components, through nipyapi."""

    def __init__(self, workdir: Path, files: dict[str, Path], variants: list[str], chunks: int):
        root = nipyapi.canvas.get_root_pg_id()
        old = nipyapi.canvas.get_process_group(GROUP_NAME, greedy=False)
        if old:
            nipyapi.canvas.delete_process_group(old, force=True)
        self.group = nipyapi.canvas.create_process_group(nipyapi.canvas.get_process_group(root, "id"), GROUP_NAME, (2000, 0))
        self.services = {}
        for kind, table in (("reader", READERS), ("writer", WRITERS)):
            for name in {VARIANTS[v][1 if kind == "reader" else 2] for v in variants}:
                self.services[kind, name] = self._service(f"{kind} {name}", table[name])
        self.jvm = psutil.Process(running_pid("nifi"))
        self.generators, self.queries = {}, {}
        sql = segment_queries()
        for row, variant in enumerate(variants):
            source, reader, writer = VARIANTS[variant]
            generate = self._processor("GenerateFlowFile", f"generate {variant}", (0, row * 200),
                                       {"Batch Size": str(chunks), "File Size": "0B"}, schedule="1 min")
            fetch = self._processor("FetchFile", f"fetch {variant}", (400, row * 200),
                                    {"File to Fetch": str(files[source]), "Completion Strategy": "None"},
                                    terminate=["not.found", "permission.denied", "failure"])
            query = self._processor("QueryRecord", f"query {variant}", (800, row * 200),
                                    {"record-reader": self.services["reader", reader].id,
                                     "record-writer": self.services["writer", writer].id, **sql},
                                    terminate=["original", "failure", *sql])
            nipyapi.canvas.create_connection(generate, fetch, ["success"])
            nipyapi.canvas.create_connection(fetch, query, ["success"])
            for processor in (fetch, query):
                nipyapi.canvas.schedule_processor(processor, True)
            self.generators[variant], self.queries[variant] = generate, query

    def _service(self, name: str, spec: dict):
        kind = nipyapi.canvas.get_controller_type(spec["type"], identifier_type="name", greedy=False)
        service = nipyapi.canvas.create_controller(self.group, kind, name=name)
        service = nipyapi.canvas.update_controller(service, nipyapi.nifi.ControllerServiceDTO(properties=spec["properties"]))
        nipyapi.canvas.schedule_controller(service, True)
        return service

    def _processor(self, kind: str, name: str, position, properties: dict, schedule: str = "0 sec", terminate=()):
        processor_type = nipyapi.canvas.get_processor_type(f"org.apache.nifi.processors.standard.{kind}", greedy=False)
        return nipyapi.canvas.create_processor(
            self.group, processor_type, position, name=name,
            config=nipyapi.nifi.ProcessorConfigDTO(properties=properties, scheduling_period=schedule,
                                                   auto_terminated_relationships=list(terminate)))

    def status(self, variant: str) -> dict:
        snapshot = nipyapi.nifi.FlowApi().get_processor_status(self.queries[variant].id).processor_status.aggregate_snapshot
        return {"tasks": snapshot.task_count or 0, "nanos": snapshot.tasks_duration_nanos or 0,
                "in": snapshot.flow_files_in or 0, "read": snapshot.bytes_read or 0, "written": snapshot.bytes_written or 0}

    def run(self, variant: str, chunks: int) -> dict:
        """One batch of `chunks` FlowFiles through the variant's QueryRecord: its processing time per chunk."""
        before = self.status(variant)
        cpu_before = sum(self.jvm.cpu_times()[:2])
        nipyapi.canvas.schedule_processor(self.generators[variant], True)
        try:
            wait_until(lambda: self.status(variant)["in"] - before["in"] >= chunks, f"{variant} to query {chunks} chunks",
                       300, every=0.5, report=None)
        finally:
            nipyapi.canvas.schedule_processor(self.generators[variant], False)
        time.sleep(1.5)  # the last task's session commits into the status after its FlowFile counted in
        after = self.status(variant)
        done = after["in"] - before["in"]
        return {"chunks": done, "ms_per_chunk": (after["nanos"] - before["nanos"]) / 1e6 / done,
                "jvm_cpu_ms_per_chunk": (sum(self.jvm.cpu_times()[:2]) - cpu_before) * 1000 / done,
                "read_mb": (after["read"] - before["read"]) / 1e6 / done,
                "written_mb": (after["written"] - before["written"]) / 1e6 / done}

    def remove(self) -> None:
        nipyapi.canvas.schedule_process_group(self.group.id, False)
        for (_, _), service in self.services.items():
            nipyapi.canvas.schedule_controller(nipyapi.canvas.get_controller(service.id, "id"), False)
        nipyapi.canvas.delete_process_group(nipyapi.canvas.get_process_group(self.group.id, "id"), force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunks", type=int, default=3, help="chunks per variant per round")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = args.variants.split(",")

    table = routable_chunk(args.rows)
    workdir = RESULTS / "record-formats"
    workdir.mkdir(parents=True, exist_ok=True)
    encoded = encodings(table)
    reading = python_reading_ms(table)
    files = {}
    for name, (body, seconds) in encoded.items():
        files[name] = workdir / f"chunk-{args.rows}.{name}"
        files[name].write_bytes(body)
        print(f"{name}: {len(body) / 1e6:.1f} MB, written by Python in {seconds * 1000:.0f} ms", flush=True)

    connect(load_settings(env_file(REPO)))
    bench = Bench(workdir, files, variants, args.chunks)
    started = time.monotonic()
    results = {variant: [] for variant in variants}
    try:
        for round_number in range(args.rounds):
            for variant in variants:
                run = bench.run(variant, args.chunks)
                results[variant].append(run)
                print(f"round {round_number + 1} {variant:<34} {run['ms_per_chunk']:8.0f} ms per chunk, "
                      f"JVM CPU {run['jvm_cpu_ms_per_chunk']:6.0f} ms "
                      f"(read {run['read_mb']:.0f} MB, written {run['written_mb']:.0f} MB)", flush=True)
                if time.monotonic() - started > WINDOW_SECONDS - 30:
                    print("warning: the run is outliving NiFi's 5-minute status window; later figures undercount")
    finally:
        bench.remove()

    print(f"\n{args.rows:,} routable rows a chunk; QueryRecord with the flow's 4 segment queries; median of {args.rounds} rounds "
          f"of {args.chunks} chunks\n")
    print("| input → reader / writer | input MB | Python writes input, ms | QueryRecord ms per chunk | NiFi JVM CPU ms per chunk "
          "| QueryRecord read MB | output MB | Python reads output, ms |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for variant in variants:
        source, _, writer = VARIANTS[variant]
        runs = results[variant]
        print(f"| {source} → {variant} | {len(encoded[source][0]) / 1e6:.1f} | {encoded[source][1] * 1000:.0f} "
              f"| {statistics.median(r['ms_per_chunk'] for r in runs):.0f} | {statistics.median(r['jvm_cpu_ms_per_chunk'] for r in runs):.0f} "
              f"| {statistics.median(r['read_mb'] for r in runs):.0f} "
              f"| {statistics.median(r['written_mb'] for r in runs):.0f} | {reading[writer.split('-')[0]]:.0f} |")


if __name__ == "__main__":
    main()
