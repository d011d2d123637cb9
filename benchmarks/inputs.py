"""The benchmark inputs, generated once and cached, and the folder the results go to (git-ignored)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
INPUTS = RESULTS / "inputs"
SEED = 42


def input_for(rows: int) -> Path:
    """The cached seed-like input of `rows` rows, generated on first use."""
    path = INPUTS / f"sample-seed{SEED}-{rows}.csv"
    if not path.exists():
        from ecommerce_pipeline.sample_data import write_sample_csv  # Faker: only when an input is missing

        INPUTS.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        print(f"generating {path.name} ...", flush=True)
        write_sample_csv(partial, rows, SEED)
        partial.replace(path)
    return path
