"""The benchmark's encryption workers read the input as the pipeline's cleaning does (d broke once when it changed)."""

from benchmarks.approach_worker import _policy_values
from ecommerce_pipeline.policy import load_policy
from ecommerce_pipeline.sample_data import write_sample_csv


def test_the_encryption_workers_get_every_encrypted_column_of_every_row(tmp_path):
    export = tmp_path / "export.csv"
    write_sample_csv(export, rows=120, seed=7)
    columns = _policy_values(export)
    policy = load_policy()
    encrypted = {name for segment in ("customer_info", "payment_and_delivery_info")
                 for name in policy.encrypted_columns(segment)}
    assert len(columns) == len(encrypted) and all(len(values) == 120 for values in columns)
    assert all(isinstance(value, str) for values in columns for value in values)
