import csv
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from ecommerce_pipeline import sample_data
from ecommerce_pipeline.columns import RAW_COLUMNS
from ecommerce_pipeline.sample_data import iter_sample_rows, write_sample_csv

COMMITTED_SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "ecommerce_sample.csv"

PHONE_SHAPES = {
    "+1 (744) 875-9436": r"\+1 \(\d{3}\) \d{3}-\d{4}",
    "744) 875-9436": r"\d{3}\) \d{3}-\d{4}",
    "744-875-9436": r"\d{3}-\d{3}-\d{4}",
    "(744) 875 9436": r"\(\d{3}\) \d{3} \d{4}",
    "7448759436": r"\d{10}",
    "+1-744-875-9436": r"\+1-\d{3}-\d{3}-\d{4}",
    "744.875.9436": r"\d{3}\.\d{3}\.\d{4}",
}


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[dict[str, str]]:
    path = tmp_path_factory.mktemp("sample") / "messy.csv"
    write_sample_csv(path, rows=20_000, seed=7)
    return read_rows(path)[1]


def column(rows: list[dict[str, str]], name: str) -> list[str]:
    return [row[name] for row in rows]


def test_same_seed_gives_identical_bytes(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_sample_csv(first, rows=3_000, seed=11, bad_row_fraction=0.02)
    write_sample_csv(second, rows=3_000, seed=11, bad_row_fraction=0.02)
    assert first.read_bytes() == second.read_bytes()


def test_different_seeds_give_different_files(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_sample_csv(first, rows=500, seed=1)
    write_sample_csv(second, rows=500, seed=2)
    assert first.read_bytes() != second.read_bytes()


def test_same_bytes_in_another_process_with_another_hash_seed(tmp_path):
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    write_sample_csv(here, rows=300, seed=5)
    script = f"from ecommerce_pipeline.sample_data import write_sample_csv; write_sample_csv({str(there)!r}, rows=300, seed=5)"
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert here.read_bytes() == there.read_bytes()


def test_writes_the_header_and_the_requested_rows(tmp_path):
    path = tmp_path / "rows.csv"
    assert write_sample_csv(path, rows=1_234, seed=3) == 1_234
    header, rows = read_rows(path)
    assert header == list(RAW_COLUMNS)
    assert len(rows) == 1_234


def test_zero_rows_writes_only_the_header(tmp_path):
    path = tmp_path / "empty.csv"
    assert write_sample_csv(path, rows=0) == 0
    assert read_rows(path) == (list(RAW_COLUMNS), [])


def test_rows_are_generated_lazily():
    assert len(next(iter_sample_rows(10**12, seed=42))) == len(RAW_COLUMNS)


def test_writing_streams_in_batches_instead_of_holding_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(sample_data, "BATCH_ROWS", 1_000)
    next(iter_sample_rows(1, seed=9))
    path = tmp_path / "streamed.csv"
    tracemalloc.start()
    try:
        write_sample_csv(path, rows=20_000, seed=9)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < path.stat().st_size / 4


def test_bom_and_crlf_options(tmp_path):
    path = tmp_path / "windows.csv"
    write_sample_csv(path, rows=50, seed=4, bom=True, crlf=True)
    content = path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbfCustomer ID,")
    assert content.split(b"\n", 1)[0].endswith(b"\r")
    assert content.endswith(b"\r\n")
    assert len(read_rows(path)[1]) == 50


def test_plain_output_has_no_bom_and_lf_line_ends(tmp_path):
    path = tmp_path / "unix.csv"
    write_sample_csv(path, rows=50, seed=4)
    content = path.read_bytes()
    assert content.startswith(b"Customer ID,")
    assert b"\r" not in content


def test_addresses_span_lines_and_hold_commas_and_quotes(generated):
    addresses = column(generated, "Shipping Address")
    assert sum("\n" in a for a in addresses) > len(addresses) / 3
    assert any("\n" in a and '"' in a and "," in a for a in addresses)
    assert sum("\n" not in a and "," in a for a in addresses) > len(addresses) / 10


def test_shipping_address_duplicates_repeat_the_address(generated):
    for row in generated:
        assert row["Shipping Address.1"] == row["Shipping Address"] == row["Shipping Address Duplicate"]


def test_empty_email_and_discount_code_rates(generated):
    assert sum(e == "" for e in column(generated, "Email Address")) / len(generated) == pytest.approx(0.05, abs=0.01)
    assert sum(d == "" for d in column(generated, "Discount Code")) / len(generated) == pytest.approx(0.44, abs=0.02)


@pytest.mark.parametrize("example, pattern", PHONE_SHAPES.items())
def test_every_phone_shape_appears(generated, example, pattern):
    assert re.fullmatch(pattern, example)
    assert any(re.fullmatch(pattern, phone) for phone in column(generated, "Phone Number"))


def test_order_dates_are_day_first_in_both_shapes(generated):
    parts = [re.fullmatch(r"(\d{2})([-/])(\d{2})\2(\d{4})", d) for d in column(generated, "Order Date")]
    assert all(parts)
    assert {p.group(2) for p in parts} == {"-", "/"}
    assert all(1 <= int(p.group(3)) <= 12 for p in parts)
    assert any(int(p.group(1)) > 12 for p in parts)


def test_amounts_come_in_plain_currency_and_padded_shapes(generated):
    amounts = column(generated, "Total Purchase Value")
    assert any(re.fullmatch(r"\d+\.\d{1,2}", a) for a in amounts)
    assert any(re.fullmatch(r"\$\d{1,3}(,\d{3})+\.\d{2}", a) for a in amounts)
    assert any(a.startswith(" ") and a.endswith(" ") for a in amounts)


def test_names_include_unicode_from_other_locales(generated):
    names = column(generated, "First Name") + column(generated, "Last Name")
    assert any(re.search(r"[äöüßéèàç]", n) for n in names)
    assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", n) for n in names)


def test_statuses_and_vip_flags_are_messy(generated):
    statuses = set(column(generated, "Delivery Status"))
    assert {"delivered", " Delivered ", "SHIPPED", "in-transit", "Canceled", "cancelled"} <= statuses
    assert {"Yes", "No", "Y", "N", "true", "0"} <= set(column(generated, "VIP Status"))


def test_some_values_carry_extra_whitespace(generated):
    assert any(row["First Name"] != row["First Name"].strip() for row in generated)


def test_payment_info_is_a_card_number_sometimes_grouped(generated):
    cards = column(generated, "Payment Info")
    assert all(re.fullmatch(r"\d+(?:[ -]\d+)*", c) for c in cards)
    assert any(" " in c for c in cards) and any("-" in c for c in cards)


def test_order_ids_are_unique_and_ids_are_filled(generated):
    order_ids = [o.strip() for o in column(generated, "Order ID")]
    assert len(set(order_ids)) == len(order_ids)
    assert all(o and c.strip() and p.strip() for o, c, p in zip(order_ids, column(generated, "Customer ID"), column(generated, "Product ID")))


def test_bad_rows_are_injected_at_about_the_requested_fraction(tmp_path):
    path = tmp_path / "bad.csv"
    write_sample_csv(path, rows=5_000, seed=8, bad_row_fraction=0.1)
    _, rows = read_rows(path)
    bad = [
        row
        for row in rows
        if not row["Order ID"].strip()
        or not row["Customer ID"].strip()
        or row["Total Purchase Value"] in sample_data.UNPARSEABLE_AMOUNTS
        or row["Order Date"] in sample_data.UNPARSEABLE_DATES
    ]
    assert len(bad) / len(rows) == pytest.approx(0.1, abs=0.02)


def test_bad_row_fraction_is_checked():
    with pytest.raises(ValueError, match="bad_row_fraction"):
        next(iter_sample_rows(10, bad_row_fraction=1.5))


def test_committed_sample_is_the_generators_output(tmp_path):
    regenerated = tmp_path / "sample.csv"
    write_sample_csv(regenerated, rows=500, seed=42, bad_row_fraction=0.01)
    assert COMMITTED_SAMPLE.read_bytes() == regenerated.read_bytes()
    assert COMMITTED_SAMPLE.stat().st_size < 200_000
