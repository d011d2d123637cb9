"""Fixtures shared by the unit tests."""

import pytest

from ecommerce_pipeline.sample_data import write_sample_csv


@pytest.fixture(scope="session")
def messy_export(tmp_path_factory) -> bytes:
    """A 400-row export with a BOM, CRLF line ends and about 5 % rows that cleaning rejects."""
    path = tmp_path_factory.mktemp("export") / "orders.csv"
    write_sample_csv(path, rows=400, seed=9, bad_row_fraction=0.05, bom=True, crlf=True)
    return path.read_bytes()
