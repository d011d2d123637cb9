"""The benchmark results as Markdown: the tables of latest.md, from the runs in latest.json.

Pure functions of the results, so they are tested without measuring anything.
"""

import datetime as dt
import os
import platform
import statistics
from pathlib import Path

import cryptography
import duckdb
import pandas
import psutil
import pyarrow

from .approaches import APPROACHES
from .inputs import REPO
from .nifi_control import WINDOW_SECONDS

PYTHON_TYPES = {path.stem for path in (REPO / "processors" / "ecommerce_processors").glob("[A-Z]*.py")}


def environment() -> dict:
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "duckdb": duckdb.__version__,
        "cryptography": cryptography.__version__,
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def approach_keys(results: dict) -> list[str]:
    """a, b, b2, c, d1-d4, e, then the flow's variants (e[...]) found in the results."""
    found = {key for entry in results["sizes"].values() for key in (*entry["approaches"], *entry["failures"])}
    return [key for key in APPROACHES if key in found or key == "e"] + sorted(key for key in found if key.startswith("e["))


def label(key: str) -> str:
    if key in APPROACHES:
        return f"{key} {APPROACHES[key]}"
    return f"e NiFi flow with {key[2:-1]}"  # e[Chunk Rows=100000]


def render(results: dict, env: dict) -> str:
    """The results as markdown: main table, ratios, the flow's details and profile, the demo's integrity, growth."""
    sizes = sorted(int(size) for size in results["sizes"])
    keys = approach_keys(results)
    flow_keys = [key for key in keys if key[0] == "e"]
    out = [
        f"Measured {env['date']} on {env['cpus']} CPUs ({env['cpu']}), {env['ram_gib']} GiB RAM; "
        f"Python {env['python']}, pandas {env['pandas']}, pyarrow {env['pyarrow']}, duckdb {env['duckdb']}, "
        f"cryptography {env['cryptography']}. Median of the runs shown.",
    ]
    if results.get("flow_environment"):
        flow = results["flow_environment"]
        stores = ", ".join(filter(None, flow.get("stores", {}).values())) or flow.get("minio")
        out.append(f"The flow (e) measured {flow['date']}: NiFi {flow['nifi']} on {flow['java']} (max heap {flow['max_heap']}), "
                   f"its Python processors on Python {flow['nifi_python']}, {stores}.")
    out += [
        "",
        "| approach | rows | input MB | runs | wall s | rows/s | MB/s | peak RSS MiB | process s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in keys:
        measured_any = False
        for size in sizes:
            entry = results["sizes"][str(size)]
            if key in entry["failures"]:
                measured_any = True
                out.append(f"| {label(key)} | {size:,} | — | — | failed: {entry['failures'][key]} | — | — | — | — |")
            if key not in entry["approaches"]:
                continue
            measured_any = True
            summary = entry["approaches"][key]["median"]
            megabytes = entry["input_bytes"] / 1e6
            process = "—" if key[0] == "e" else f"{summary['process_seconds']:,.2f}"
            out.append(
                f"| {label(key)} | {size:,} | {megabytes:,.1f} | {summary['runs']} | {summary['seconds']:,.2f} | "
                f"{size / summary['seconds']:,.0f} | {megabytes / summary['seconds']:,.1f} | {summary['max_rss_bytes'] / 2**20:,.0f} | {process} |"
            )
        if not measured_any:
            out.append(f"| {label(key)} | — | — | — | not measured | — | — | — | — |")

    out += ["", "Speed ratios (rows/s of one over the other, same input):", "",
            "| rows | b/a | b2/a | b2/b | c/b | d3/d1 | e/a | e/b | e/b2 | e/c |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size in sizes:
        approaches = results["sizes"][str(size)]["approaches"]
        seconds = {key: value["median"]["seconds"] for key, value in approaches.items()}

        def ratio(slow: str, fast: str) -> str:
            return f"{seconds[slow] / seconds[fast]:,.1f}×" if slow in seconds and fast in seconds else "—"

        def fine(slow: str, fast: str) -> str:
            return f"{seconds[slow] / seconds[fast]:,.2f}×" if slow in seconds and fast in seconds else "—"

        out.append(f"| {size:,} | {ratio('a', 'b')} | {ratio('a', 'b2')} | {ratio('b', 'b2')} | {ratio('b', 'c')} | "
                   f"{ratio('d1', 'd3')} | {ratio('a', 'e')} | {fine('b', 'e')} | {fine('b2', 'e')} | {fine('c', 'e')} |")

    out += render_flow(results, sizes, flow_keys)

    out += render_encryption(results, sizes)

    out += ["", "The demo's output (a): intact rows = lines with 18 fields whose Order ID field is an input order id.", "",
            "| rows | intact rows | intact % | stages run | Parquet step |", "|---:|---:|---:|---:|---|"]
    for size in sizes:
        demo = results["sizes"][str(size)]["approaches"].get("a")
        if not demo:
            continue
        first = demo["runs"][0]
        intact = first.get("intact_rows", 0)
        outcome = first["failure"] or f"wrote {first.get('parquet_rows', 0):,} rows"
        out.append(f"| {size:,} | {intact:,} | {100 * intact / size:.2f} % | {first['stages_run']} of 9 | {outcome} |")

    ingest = [(size, results["sizes"][str(size)]["approaches"]["b"]["runs"][0]) for size in sizes if "b" in results["sizes"][str(size)]["approaches"]]
    if ingest:
        out += ["", "ingest_file's own accounting (b, first run):", "", "| rows | rows_in | clean | quarantined | objects |", "|---:|---:|---:|---:|---:|"]
        out += [f"| {size:,} | {run['rows_in']:,} | {run['rows_clean']:,} | {run['rows_quarantined']:,} | {run['objects']} |" for size, run in ingest]

    out += ["", "Growth of each approach from its smallest to its largest measured input:", "",
            "| approach | rows | × rows | wall time × | peak RSS × |", "|---|---|---:|---:|---:|"]
    for key in keys:
        measured = [size for size in sizes if key in results["sizes"][str(size)]["approaches"]]
        if len(measured) > 1:
            low, high = measured[0], measured[-1]
            small, large = (results["sizes"][str(size)]["approaches"][key]["median"] for size in (low, high))
            out.append(f"| {label(key)} | {low:,} → {high:,} | {high / low:,.0f} | {large['seconds'] / small['seconds']:,.1f} | "
                       f"{large['max_rss_bytes'] / small['max_rss_bytes']:,.2f} |")
    return "\n".join(out) + "\n"


ENCRYPTION = ("d1", "d2", "d3", "d4")


def render_encryption(results: dict, sizes: list[int]) -> list[str]:
    """Values/s of each encryption approach (d1-d3) and of batch decryption (d4), and d2, d3 against d1."""
    rows = []
    for size in sizes:
        measured = {key: run for key, run in results["sizes"][str(size)]["approaches"].items() if key in ENCRYPTION}
        if not measured:
            continue
        values = next(iter(measured.values()))["runs"][0]["values"]
        rate = {key: values / run["median"]["seconds"] for key, run in measured.items()}
        cells = [f"{rate[key]:,.0f}" if key in rate else "—" for key in ENCRYPTION]
        cells += [f"{rate[key] / rate['d1']:,.1f}×" if key in rate and "d1" in rate else "—" for key in ("d2", "d3")]
        rows.append(f"| {size:,} | {values:,} | {' | '.join(cells)} |")
    if not rows:
        return []
    return ["", "The encryption floor (d), values of the policy's 8 columns, values/s (d4 decrypts d3's tokens):", "",
            "| rows | values | d1 per value | d2 numpy batch | d3 compiled | d4 compiled decryption | d2/d1 | d3/d1 |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|", *rows]


def render_flow(results: dict, sizes: list[int], flow_keys: list[str]) -> list[str]:
    """The flow's runs (e and its variants): each run, memory, CPU, rows; the profile; before/after; targets."""
    rows = [(key, size, results["sizes"][str(size)]["approaches"][key]) for key in flow_keys for size in sizes
            if key in results["sizes"][str(size)]["approaches"]]
    if not rows:
        return []
    out = ["", "The NiFi flow (e): wall time = the input visible in the watched folder → LastModified of its last object "
           "in the S3 store (MinIO for e, SeaweedFS for e[SeaweedFS]); peak RSS = NiFi's process group (the JVM and its Python processes) sampled every 0.5 s; core busy % "
           "from /proc/stat over the run (whole machine); CPU s of the NiFi JVM, NiFi's Python processes and the store; "
           "rows stored = order_info + quarantine rows in the lake over input rows. Busy = user + system (+ nice, irq), "
           "steal = time the hypervisor ran something else on the virtual CPU (runs without a steal figure counted it as busy).", "",
           "| approach | rows | Chunk Rows | each run, s | median s | rows/s | taken from the inbox, s | first object, s | "
           "peak RSS MiB (median, max) | RSS at drop MiB | core busy % | CPU s JVM / Python / store | rows stored | objects | "
           "seen by the harness, s |",
           "|---|---:|---:|---|---:|---:|---:|---:|---|---:|---|---|---:|---:|---:|"]
    for key, size, entry in rows:
        runs = entry["runs"]
        extra = median_resources(runs)
        busy = " / ".join(f"{value:.0f}" for value in extra["core_busy_percent"].values())
        if extra["core_steal_percent"] is not None:
            busy += f" (steal {' / '.join(f'{value:.0f}' for value in extra['core_steal_percent'].values())})"
        cpu = extra["cpu_seconds"]
        stored = min(run["intact_percent"] for run in runs)
        each = ", ".join(f"{run['seconds']:.2f}" for run in runs)
        out.append(
            f"| {label(key)} | {size:,} | {runs[0]['chunk_rows']:,} | {each} | "
            f"{entry['median']['seconds']:,.2f} | {size / entry['median']['seconds']:,.0f} | "
            f"{_seconds(extra['taken_seconds'])} | {_seconds(extra['first_object_seconds'])} | "
            f"{entry['median']['max_rss_bytes'] / 2**20:,.0f}, {extra['peak_rss_max_bytes'] / 2**20:,.0f} | "
            f"{extra['start_rss_bytes'] / 2**20:,.0f} | {busy} | {cpu['nifi_jvm']:.1f} / {cpu['nifi_python']:.1f} / {cpu.get('store', cpu.get('minio', 0)):.1f} | "
            f"{stored:.2f} % | {runs[0]['objects']} | {extra['detected_seconds']:.2f} |")

    for key in flow_keys:
        measured = [(size, results["sizes"][str(size)]["approaches"][key]) for size in sizes
                    if key in results["sizes"][str(size)]["approaches"]]
        shown = []
        if not any(run.get("window_clean") for _, entry in measured for run in entry["runs"]):
            continue  # no run of this variant started with an empty status window: no profile to show
        for size, entry in reversed(measured):  # the largest size whose profile is whole, and any larger one
            run = ([run for run in entry["runs"] if run.get("window_clean")] or entry["runs"])[0]
            shown.append((size, entry, run))
            if run["detected_seconds"] + 2 < WINDOW_SECONDS and run.get("window_clean"):
                break
        for size, entry, run in reversed(shown):
            window = ("started with no task of the flow in the window" if run.get("window_clean") else
                      "started with earlier tasks still in the window, so the difference is approximate")
            if run["detected_seconds"] + 2 >= WINDOW_SECONDS:
                window += (f"; it outlasted the window, so this is its last {WINDOW_SECONDS} s only, "
                           f"about {100 * WINDOW_SECONDS / run['seconds']:.0f} % of it")
            out += ["", f"Per-processor profile of {label(key)} at {size:,} rows, run {entry['runs'].index(run) + 1}: "
                    f"NiFi's processor status after the run minus before it (its counters are sums over the last 5 minutes; "
                    f"the run took {run['seconds']:.0f} s and {window}).", ""]
            out += render_profile(run["profile"], min(run["seconds"], WINDOW_SECONDS))

    variants = [key for key in flow_keys if key != "e"]
    if variants:
        out += ["", "The flow's variants against what they change (a variant e[X, Chunk Rows=N] against e[X], "
                "any other against e, the flow as deployed), same inputs:", "",
                "| variant | measured | rows | runs | median s | rows/s | against | its rows/s | × |", "|---|---|---:|---:|---:|---:|---|---:|---:|"]
        for key in variants:
            inner = key[2:-1].rsplit(", Chunk Rows=", 1)
            base = f"e[{inner[0]}]" if len(inner) == 2 and f"e[{inner[0]}]" in flow_keys else "e"
            for size in sizes:
                approaches = results["sizes"][str(size)]["approaches"]
                if key not in approaches or base not in approaches:
                    continue
                mine, theirs = approaches[key]["median"], approaches[base]["median"]
                measured = approaches[key].get("measured", "")
                out.append(f"| {label(key)} | {measured} | {size:,} | {mine['runs']} | {mine['seconds']:,.2f} | {size / mine['seconds']:,.0f} | "
                           f"{base} | {size / theirs['seconds']:,.0f} | {theirs['seconds'] / mine['seconds']:.2f} |")
    return out


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def median_resources(runs: list[dict]) -> dict:
    cores = sorted(runs[0]["resources"]["core_busy_percent"])
    return {
        "core_busy_percent": {core: statistics.median(r["resources"]["core_busy_percent"][core] for r in runs) for core in cores},
        "core_steal_percent": ({core: statistics.median(r["resources"]["core_steal_percent"][core] for r in runs) for core in cores}
                               if all("core_steal_percent" in r["resources"] for r in runs) else None),
        "cpu_seconds": {kind: statistics.median(r["resources"]["cpu_seconds"][kind] for r in runs)
                        for kind in runs[0]["resources"]["cpu_seconds"]},
        "peak_rss_max_bytes": max(r["max_rss_bytes"] for r in runs),
        "start_rss_bytes": statistics.median(r["resources"]["start_rss_bytes"] for r in runs),
        "detected_seconds": statistics.median(r["detected_seconds"] for r in runs),
        "taken_seconds": _median_or_none([r.get("taken_seconds") for r in runs]),
        "first_object_seconds": _median_or_none([r.get("first_object_seconds") for r in runs]),
    }


def _median_or_none(values: list) -> float | None:
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def render_profile(profile: dict[str, dict], wall_seconds: float) -> list[str]:
    """The per-processor table, sorted by processing time."""
    total = sum(p["nanos"] for p in profile.values()) or 1
    python = sum(p["nanos"] for p in profile.values() if _short_type(p["type"]) in PYTHON_TYPES)
    out = ["| processor | type | tasks | processing s | % of total | ms per task | read MB | written MB |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, p in sorted(profile.items(), key=lambda item: -item[1]["nanos"]):
        if p["tasks"] <= 0 and p["nanos"] <= 0:  # idle, or a poller whose steady rate cancels out
            continue
        kind = _short_type(p["type"]) + (" (Python)" if _short_type(p["type"]) in PYTHON_TYPES else "")
        tasks = f"{p['tasks']:,}" if p["tasks"] >= 0 else "—"  # a poller whose rate changed: no meaningful count
        per_task = f"{p['nanos'] / 1e6 / p['tasks']:,.1f}" if p["tasks"] > 0 else "—"
        out.append(f"| {name} | {kind} | {tasks} | {p['nanos'] / 1e9:,.2f} | {100 * p['nanos'] / total:.1f} % | "
                   f"{per_task} | {p['bytes_read'] / 1e6:,.1f} | {p['bytes_written'] / 1e6:,.1f} |")
    out.append(f"| **all processors** | | {sum(max(p['tasks'], 0) for p in profile.values()):,} | {total / 1e9:,.2f} | 100 % | | | |")
    out += ["", f"Python processors: {python / 1e9:,.2f} s of {total / 1e9:,.2f} s processing time "
                f"({100 * python / total:.0f} %). Processing time over the run's {wall_seconds:,.2f} s wall time: "
                f"{total / 1e9 / wall_seconds:,.2f} tasks busy on average."]
    return out


def _short_type(kind: str) -> str:
    return (kind or "").rsplit(".", 1)[-1]
