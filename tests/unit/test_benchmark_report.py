"""The benchmark report's Markdown, rendered from hand-made results: no measurement runs."""

from benchmarks.flow_approach import variant_key
from benchmarks.report import approach_keys, label, median_resources, render, render_profile

ENVIRONMENT = {"date": "2026-12-01 20:00 UTC", "cpus": 2, "cpu": "test CPU", "ram_gib": 24.0, "python": "3.11.7",
               "pandas": "p", "pyarrow": "a", "duckdb": "d", "cryptography": "c"}


def summary(seconds: float, rss: float = 100 * 2**20, runs: int = 1) -> dict:
    return {"seconds": seconds, "max_rss_bytes": rss, "process_seconds": seconds + 1, "runs": runs}


def step(kind: str, tasks: int, seconds: float) -> dict:
    return {"type": kind, "tasks": tasks, "nanos": int(seconds * 1e9), "bytes_read": 2e6, "bytes_written": 1e6,
            "flowfiles_in": tasks, "flowfiles_out": tasks}


def flow_run(seconds: float, chunk_rows: int = 50_000) -> dict:
    return {
        "seconds": seconds, "max_rss_bytes": 2 * 2**30, "detected_seconds": seconds + 1, "taken_seconds": 5.0,
        "first_object_seconds": None, "intact_percent": 100.0, "chunk_rows": chunk_rows, "objects": 8,
        "window_clean": True,
        "resources": {"core_busy_percent": {"cpu0": 90.0, "cpu1": 60.0}, "core_steal_percent": {"cpu0": 1.0, "cpu1": 3.0},
                      "cpu_seconds": {"nifi_jvm": 4.0, "nifi_python": 8.0, "minio": 1.0, "harness": 0.5},
                      "start_rss_bytes": 2**30},
        "profile": {"Clean rows": step("CleanEcommerceCsv", 4, 3.0), "Split": step("org.apache.nifi.SplitRecord", 1, 1.0),
                    "Idle": step("UploadToS3", 0, 0.0)},
    }


def results() -> dict:
    runs = [flow_run(10.0), flow_run(12.0)]
    return {"sizes": {
        "1000": {"input_bytes": 2_000_000, "failures": {"b2": "RuntimeError: no MinIO"}, "approaches": {
            "a": {"runs": [{"failure": None, "stages_run": 9, "intact_rows": 40, "parquet_rows": 40}], "median": summary(20.0)},
            "b": {"runs": [{"rows_in": 1000, "rows_clean": 970, "rows_quarantined": 30, "objects": 4}], "median": summary(2.0)},
            "e": {"runs": runs, "median": summary(11.0, runs=2)},
            "e[Chunk Rows=100]": {"runs": [flow_run(22.0, 100)], "median": summary(22.0), "measured": "then"},
        }},
    }}


def test_approaches_come_in_their_order_with_variants_last_and_e_always_listed():
    keys = approach_keys(results())
    assert keys == ["a", "b", "b2", "e", "e[Chunk Rows=100]"]
    assert label("e[Chunk Rows=100]") == "e NiFi flow with Chunk Rows=100"


def test_main_table_rows_ratios_failures_and_accounting():
    text = render(results(), ENVIRONMENT)
    assert text.startswith("Measured 2026-12-01 20:00 UTC on 2 CPUs (test CPU)")
    assert f"| {label('a')} | 1,000 | 2.0 | 1 | 20.00 | 50 | 0.1 | 100 | 21.00 |" in text
    assert f"| {label('b2')} | 1,000 | — | — | failed: RuntimeError: no MinIO |" in text
    assert "| 1,000 | 10.0× | — | — | — | — | 1.8× | 0.18× | — | — |" in text  # b/a, e/a, e/b
    assert "| 1,000 | 40 | 4.00 % | 9 of 9 | wrote 40 rows |" in text
    assert "| 1,000 | 1,000 | 970 | 30 | 4 |" in text


def test_the_flow_s_runs_profile_and_variant_against_the_flow_as_deployed():
    text = render(results(), ENVIRONMENT)
    assert "| 10.00, 12.00 | 11.00 | 91 | 5.00 | — | 100, 2,048 | 1,024 | 90 / 60 (steal 1 / 3) | 4.0 / 8.0 / 1.0 |" in text
    assert "Per-processor profile of e NiFi flow: drop → last object in MinIO at 1,000 rows, run 1" in text
    assert f"| {label('e[Chunk Rows=100]')} | then | 1,000 | 1 | 22.00 | 45 | e | 91 | 0.50 |" in text


def test_profile_is_sorted_by_time_skips_idle_processors_and_marks_python_ones():
    lines = render_profile(flow_run(10.0)["profile"], wall_seconds=8.0)
    assert lines[2].startswith("| Clean rows | CleanEcommerceCsv (Python) | 4 | 3.00 | 75.0 % | 750.0 |")
    assert lines[3].startswith("| Split | SplitRecord | 1 | 1.00 | 25.0 % |")
    assert not any(line.startswith("| Idle ") for line in lines)
    assert lines[-1].endswith("3.00 s of 4.00 s processing time (75 %). Processing time over the run's 8.00 s wall time: "
                              "0.50 tasks busy on average.")


def test_median_resources_take_medians_and_the_largest_peak():
    runs = [flow_run(10.0), flow_run(12.0), flow_run(30.0)]
    runs[2]["max_rss_bytes"] = 3 * 2**30
    runs[2]["resources"]["core_busy_percent"]["cpu0"] = 10.0
    merged = median_resources(runs)
    assert merged["peak_rss_max_bytes"] == 3 * 2**30
    assert merged["core_busy_percent"] == {"cpu0": 90.0, "cpu1": 60.0}
    assert merged["detected_seconds"] == 13.0 and merged["first_object_seconds"] is None


def test_each_store_s_flow_runs_have_their_own_key_and_are_compared_with_minio_s():
    assert variant_key(50_000, 50_000, {}, None, "minio") == "e"
    assert variant_key(50_000, 50_000, {}, None, "seaweedfs") == "e[SeaweedFS]"
    assert variant_key(100, 50_000, {}, "processors at abc", "seaweedfs") == "e[SeaweedFS, processors at abc, Chunk Rows=100]"
    measured = results()
    seaweedfs_run = flow_run(20.0)
    seaweedfs_run["resources"]["cpu_seconds"] = {"nifi_jvm": 4.0, "nifi_python": 8.0, "store": 3.0, "harness": 0.5}
    measured["sizes"]["1000"]["approaches"]["e[SeaweedFS]"] = {"runs": [seaweedfs_run], "median": summary(22.0)}
    text = render(measured, ENVIRONMENT)
    assert label("e[SeaweedFS]") == "e NiFi flow with SeaweedFS"
    assert f"| {label('e[SeaweedFS]')} |  | 1,000 | 1 | 22.00 | 45 | e | 91 | 0.50 |" in text
    assert "| 4.0 / 8.0 / 3.0 |" in text  # the store's CPU, whichever store


def test_encryption_rates_of_each_approach_and_the_compiled_one_against_per_value():
    encryption = {key: {"runs": [{"values": 8_000}], "median": summary(seconds)}
                  for key, seconds in (("d1", 2.0), ("d3", 0.1), ("d4", 0.05))}
    text = render({"sizes": {"1000": {"input_bytes": 2_000_000, "failures": {}, "approaches": encryption}}}, ENVIRONMENT)
    assert "| 1,000 | 8,000 | 4,000 | — | 80,000 | 160,000 | — | 20.0× |" in text
    assert "| 1,000 | — | — | — | — | 20.0× | — | — | — | — |" in text  # d3/d1 among the speed ratios
