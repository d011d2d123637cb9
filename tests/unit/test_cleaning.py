import codecs
import csv
import datetime
import io

import pandas as pd
import pyarrow as pa
import pytest

from ecommerce_pipeline import cleaning
from ecommerce_pipeline.cleaning import (
    DELIVERY_STATUS_ALIASES,
    CleaningResult,
    InvalidCsv,
    clean_chunk,
    clean_frame,
    clean_table,
    read_csv_as_text,
    read_raw_csv,
    read_raw_table,
    routable_table,
    table_to_csv_bytes,
)
from ecommerce_pipeline.columns import CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN, RAW_COLUMNS
from ecommerce_pipeline.sample_data import write_sample_csv

TRICKY_ADDRESS = 'c/o "Acme, Inc."\n12 Main St, Apt "4B"\nSpringfield, IL 62704'


def raw_row(**overrides: str) -> dict[str, str]:
    """One valid export row; keyword names are the raw headers with spaces as underscores."""
    row = {
        "Customer ID": "CUST-000001",
        "First Name": "Ada",
        "Last Name": "Lovelace",
        "Email Address": "ada@example.com",
        "Phone Number": "744-875-9436",
        "Shipping Address": "1 Analytical Way\nLondon",
        "Total Purchase Value": "10.5",
        "VIP Status": "Yes",
        "Order ID": "ORD-1",
        "Order Date": "28-04-2023",
        "Product ID": "PRD-00001",
        "Delivery Status": "Delivered",
        "Payment Info": "4111 1111 1111 1111",
        "Discount Code": "SAVE10",
        "Delivery Address": "1 Analytical Way\nLondon",
    }
    for keyword, value in overrides.items():
        name = keyword.replace("_", " ")
        assert name in row, f"no export column {name!r}"
        row[name] = value
    row["Shipping Address.1"] = row["Shipping Address Duplicate"] = row["Shipping Address"]
    return row


def export_bytes(*rows: dict[str, str], header=RAW_COLUMNS, line_end="\n", bom=False) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows([row[name] for name in header] for row in rows)
    return (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode("utf-8")


def clean_one(**overrides: str) -> CleaningResult:
    return clean_frame(read_raw_csv(export_bytes(raw_row(**overrides))))


def clean_value(column: str, **overrides: str):
    result = clean_one(**overrides)
    assert len(result.quarantine) == 0, result.quarantine[QUARANTINE_REASON_COLUMN].tolist()
    return result.clean.at[0, column]


def test_clean_columns_and_types():
    clean = clean_one().clean
    assert list(clean.columns) == list(CLEAN_COLUMNS)
    schema = pa.Table.from_pandas(clean, preserve_index=False).schema
    assert schema.field("order_date").type == pa.date32()
    assert schema.field("total_purchase_value").type == pa.float64()
    assert pa.types.is_large_string(schema.field("customer_id").type)


def test_tricky_address_and_unicode_names_survive_read_clean_write():
    rows = [
        raw_row(Shipping_Address=TRICKY_ADDRESS, First_Name="Zoë", Last_Name="Müller-Lüdenscheidt"),
        raw_row(Order_ID="ORD-2", First_Name="太郎", Last_Name="山田", Delivery_Address=TRICKY_ADDRESS),
    ]
    routable = routable_table(clean_table(read_raw_table(export_bytes(*rows))))
    written = pd.read_csv(io.BytesIO(table_to_csv_bytes(routable)), dtype=str, keep_default_na=False)
    assert written.at[0, "shipping_address"] == TRICKY_ADDRESS
    assert written.at[1, "delivery_address"] == TRICKY_ADDRESS
    assert written["first_name"].tolist() == ["Zoë", "太郎"]
    assert written["last_name"].tolist() == ["Müller-Lüdenscheidt", "山田"]


def test_duplicate_address_columns_are_dropped():
    clean = clean_one().clean
    assert not {"shipping_address.1", "shipping_address_duplicate"} & set(clean.columns)


def test_values_are_trimmed_and_blanks_become_null():
    clean = clean_one(Email_Address="", Discount_Code="   ", First_Name="  Ada \t", Order_ID=" ORD-9 ").clean
    assert pd.isna(clean.at[0, "email_address"])
    assert pd.isna(clean.at[0, "discount_code"])
    assert clean.at[0, "first_name"] == "Ada"
    assert clean.at[0, "order_id"] == "ORD-9"


@pytest.mark.parametrize(
    "phone",
    ["+1 (744) 875-9436", "744) 875-9436", "744-875-9436", "(744) 875 9436", "7448759436",
     "+1-744-875-9436", "744.875.9436", "17448759436", " 744 875 9436 "],
)
def test_every_phone_shape_is_standardised(phone):
    assert clean_value("phone_number", Phone_Number=phone) == "+1 (744) 875-9436"


@pytest.mark.parametrize("phone", ["875-9436", "+44 20 7946 0958", "+7448759436", "744-875-9436 ext 12", "27448759436"])
def test_unparseable_phone_is_kept_as_written_and_not_quarantined(phone):
    assert clean_value("phone_number", Phone_Number=f" {phone} ") == phone


@pytest.mark.parametrize(
    "text, expected",
    [
        ("28-04-2023", datetime.date(2023, 4, 28)),
        ("11/12/2020", datetime.date(2020, 12, 11)),
        ("01-02-2021", datetime.date(2021, 2, 1)),
        ("5/6/2022", datetime.date(2022, 6, 5)),
        (" 29/02/2024 ", datetime.date(2024, 2, 29)),
    ],
)
def test_order_dates_are_read_day_first(text, expected):
    assert clean_value("order_date", Order_Date=text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("1234.5", 1234.5), ("$1,234.50", 1234.5), (" 99.9 ", 99.9), ("10.006", 10.01), ("$1,000,000", 1_000_000.0), ("7", 7.0)],
)
def test_amounts_are_parsed_and_rounded(text, expected):
    assert clean_value("total_purchase_value", Total_Purchase_Value=text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("delivered", "Delivered"), (" Delivered ", "Delivered"), ("SHIPPED", "Shipped"),
        ("In Transit", "In Transit"), ("in-transit", "In Transit"), ("IN_TRANSIT", "In Transit"),
        ("Pending", "Pending"), ("cancelled", "Cancelled"), ("Canceled", "Cancelled"), ("returned", "Returned"),
        (" lost in depot ", "lost in depot"),
    ],
)
def test_delivery_status_is_normalised_and_unknown_kept(text, expected):
    assert clean_value("delivery_status", Delivery_Status=text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("Yes", "Yes"), ("yes", "Yes"), ("Y", "Yes"), ("true", "Yes"), ("1", "Yes"),
     ("NO", "No"), ("n", "No"), ("false", "No"), ("0", "No"), ("maybe", "maybe")],
)
def test_vip_status_is_normalised(text, expected):
    assert clean_value("vip_status", VIP_Status=text) == expected


def test_bom_and_crlf_input_is_read():
    content = export_bytes(raw_row(Shipping_Address=TRICKY_ADDRESS), raw_row(Order_ID="ORD-2"), line_end="\r\n", bom=True)
    raw = read_raw_csv(content)
    assert list(raw.columns) == list(RAW_COLUMNS)
    assert raw.at[0, "Shipping Address"] == TRICKY_ADDRESS
    assert raw.at[1, "Shipping Address Duplicate"] == "1 Analytical Way\nLondon"
    assert not any(value.endswith("\r") for value in raw.iloc[:, -1])


def test_columns_in_another_order_are_accepted():
    header = tuple(reversed(RAW_COLUMNS))
    raw = read_raw_csv(export_bytes(raw_row(Order_ID="ORD-7"), header=header))
    assert list(raw.columns) == list(RAW_COLUMNS)
    assert raw.at[0, "Order ID"] == "ORD-7"


def test_file_objects_are_read():
    raw = read_raw_csv(io.BytesIO(export_bytes(raw_row())))
    assert len(raw) == 1


def test_empty_strings_stay_empty_strings_in_the_raw_frame():
    raw = read_raw_csv(export_bytes(raw_row(Email_Address="", Discount_Code="NA")))
    assert raw.at[0, "Email Address"] == ""
    assert raw.at[0, "Discount Code"] == "NA"


HEADER_LINE = ",".join(RAW_COLUMNS).encode()
VALID_LINE = export_bytes(raw_row(Shipping_Address="x", Delivery_Address="y")).split(b"\n")[1]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"^empty input"),
        (codecs.BOM_UTF8 + b"\r\n\n", r"^empty input"),
        (HEADER_LINE + b"\n", r"^header only, no data rows$"),
        (codecs.BOM_UTF8 + HEADER_LINE + b"\r\n\r\n", r"^header only, no data rows$"),
        (
            HEADER_LINE.replace(b"Order ID", b"OrderID") + b"\n" + VALID_LINE + b"\n",
            r"^wrong header: missing columns 'Order ID'; unexpected columns 'OrderID'",
        ),
        (HEADER_LINE.replace(b",Order ID", b"") + b"\n", r"^wrong header: missing columns 'Order ID' \("),
        (HEADER_LINE + b",Order ID\n", r"^wrong header: duplicated columns 'Order ID'"),
        (b"just some text\nnot a csv export\n", r"^wrong header: missing columns 'Customer ID', 'First Name'"),
        (HEADER_LINE + b"\n" + "Zoë".encode("latin-1") + b"\n", rf"^not UTF-8: invalid byte 0xeb at byte {len(HEADER_LINE) + 3} \(line 2\)$"),
        (HEADER_LINE.decode().encode("utf-16"), r"^not UTF-8: .*UTF-16"),
        (HEADER_LINE + b"\n\x00\x01\x02", rf"^binary content: NUL byte at byte {len(HEADER_LINE) + 1} \(line 2\)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"^binary content: NUL byte at byte 8"),
        (
            HEADER_LINE + b"\n" + VALID_LINE + b"\n" + VALID_LINE.replace(b"ORD-1", b'"ORD-1') + b"\n",
            r"^malformed CSV: unclosed quote in the record starting at line 3$",
        ),
        (
            HEADER_LINE + b"\n" + VALID_LINE + b"\n" + VALID_LINE[:-1] + b'"x\n',
            r"^malformed CSV: unclosed quote in the record starting at line 3$",
        ),
        (
            HEADER_LINE + b"\n" + VALID_LINE + b"\n" + VALID_LINE.rsplit(b",", 1)[0] + b"\n",
            r"^malformed CSV: the record starting at line 3 has 16 fields, expected 17$",
        ),
        (
            HEADER_LINE + b"\n" + VALID_LINE + b",extra\n" + VALID_LINE + b"\n",
            r"^malformed CSV: the record starting at line 2 has 18 fields, expected 17$",
        ),
    ],
    ids=[
        "empty", "bom-and-blank-lines", "header-only", "header-only-bom-crlf", "renamed-column", "missing-column",
        "duplicated-column", "not-a-csv", "latin-1", "utf-16", "nul-bytes", "png", "unclosed-quote",
        "unclosed-quote-in-last-field",
        "too-few-fields", "too-many-fields",
    ],
)
def test_invalid_input_is_rejected_with_a_clear_message(content, message):
    with pytest.raises(InvalidCsv, match=message):
        read_raw_csv(content)


def test_malformed_record_after_a_multi_line_field_reports_its_physical_line():
    valid_part = export_bytes(raw_row(Shipping_Address="a\nb\nc"))
    line_of_bad_record = valid_part.count(b"\n") + 1
    assert line_of_bad_record > 3
    with pytest.raises(InvalidCsv, match=rf"record starting at line {line_of_bad_record} has 18 fields"):
        read_raw_csv(valid_part + VALID_LINE + b",extra\n")


def test_invalid_utf8_offset_is_exact_across_check_chunks(monkeypatch):
    monkeypatch.setattr(cleaning, "UTF8_CHECK_CHUNK_BYTES", 7)
    content = HEADER_LINE + b"\n" + "Zoë".encode() + "€".encode()[:2] + b"x\n"
    with pytest.raises(InvalidCsv, match=rf"invalid byte 0xe2 at byte {len(HEADER_LINE) + 5} \(line 2\)"):
        read_raw_csv(content)


def test_truncated_utf8_at_the_end_is_rejected():
    with pytest.raises(InvalidCsv, match=r"^not UTF-8: invalid byte 0xe2"):
        read_raw_csv(HEADER_LINE + b"\n" + "€".encode()[:2])


def test_quarantine_keeps_raw_values_and_says_why():
    rows = [
        raw_row(Order_ID="ORD-ok"),
        raw_row(Order_ID=""),
        raw_row(Order_ID="ORD-c", Customer_ID="  "),
        raw_row(Order_ID="ORD-a", Total_Purchase_Value=" abc "),
        raw_row(Order_ID="ORD-d", Order_Date="31/31/2020"),
        raw_row(Order_ID="", Order_Date="2020-12-11", Total_Purchase_Value="12,50", First_Name=" Zoë "),
        raw_row(Order_ID="ORD-e", Total_Purchase_Value="", Order_Date=""),
    ]
    result = clean_frame(read_raw_csv(export_bytes(*rows)))
    assert result.clean["order_id"].tolist() == ["ORD-ok"]
    quarantine = result.quarantine
    assert list(quarantine.columns) == [*CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN]
    assert quarantine[QUARANTINE_REASON_COLUMN].tolist() == [
        "missing order_id",
        "missing customer_id",
        "unparseable total_purchase_value 'abc'",
        "unparseable order_date '31/31/2020'",
        "missing order_id; unparseable total_purchase_value '12,50'; unparseable order_date '2020-12-11'",
        "missing total_purchase_value; missing order_date",
    ]
    assert quarantine.at[1, "customer_id"] == "  "
    assert quarantine.at[2, "total_purchase_value"] == " abc "
    assert quarantine.at[4, "first_name"] == " Zoë "
    assert quarantine.at[0, "order_id"] == ""
    assert quarantine.drop(columns=QUARANTINE_REASON_COLUMN).map(lambda value: isinstance(value, str)).all().all()


def test_clean_frame_needs_the_export_columns():
    with pytest.raises(ValueError, match="Order ID"):
        clean_frame(pd.DataFrame({"Customer ID": ["C1"]}))


def test_clean_frame_accepts_frames_built_in_code():
    raw = pd.DataFrame([raw_row(Email_Address=None)], columns=list(RAW_COLUMNS), dtype=object)
    result = clean_frame(raw)
    assert len(result.clean) == 1
    assert pd.isna(result.clean.at[0, "email_address"])


def test_csv_output_has_iso_dates_cent_amounts_and_empty_nulls():
    raw = read_raw_table(export_bytes(raw_row(Total_Purchase_Value="$1,234.5", Order_Date="11/12/2020", Email_Address="")))
    written = table_to_csv_bytes(routable_table(clean_table(raw))).decode("utf-8")
    header, record = csv.reader(io.StringIO(written))
    values = dict(zip(header, record, strict=True))
    assert values["total_purchase_value"] == "1234.50"
    assert values["order_date"] == "2020-12-11"
    assert values["email_address"] == ""
    assert written.startswith("customer_id,first_name,")


@pytest.fixture(scope="module")
def generated_result(tmp_path_factory):
    path = tmp_path_factory.mktemp("cleaning") / "generated.csv"
    write_sample_csv(path, rows=5_000, seed=21, bad_row_fraction=0.03, bom=True, crlf=True)
    raw = read_raw_csv(path.read_bytes())
    return raw, clean_frame(raw)


def test_every_generated_row_is_either_clean_or_quarantined(generated_result):
    raw, result = generated_result
    assert len(raw) == 5_000
    assert len(result.clean) + len(result.quarantine) == len(raw)
    assert 0.02 * len(raw) < len(result.quarantine) < 0.04 * len(raw)
    assert (result.quarantine[QUARANTINE_REASON_COLUMN] != "").all()
    kept = set(result.clean["order_id"]) | {o.strip() for o in result.quarantine["order_id"]}
    assert kept == {o.strip() for o in raw["Order ID"]}


def test_generated_rows_are_fully_normalised(generated_result):
    clean = generated_result[1].clean
    phones = clean["phone_number"]
    assert (phones.str.fullmatch(r"\+1 \(\d{3}\) \d{3}-\d{4}") | phones.str.fullmatch(r"\d{3}-\d{4}")).all()
    assert set(clean["delivery_status"]) <= set(DELIVERY_STATUS_ALIASES.values())
    assert set(clean["vip_status"]) == {"Yes", "No"}
    assert clean[["order_id", "customer_id", "order_date", "total_purchase_value"]].notna().all().all()
    assert clean["email_address"].isna().mean() == pytest.approx(0.05, abs=0.015)
    for name in clean.columns.drop(["order_date", "total_purchase_value"]):
        values = clean[name].dropna()
        assert (values == values.str.strip()).all() and (values != "").all(), name


def test_clean_chunk_counts_every_row_and_routes_by_reason(messy_export):
    cleaned = clean_chunk(messy_export)
    table = read_csv_as_text(cleaned.content)
    assert table.column_names == [*CLEAN_COLUMNS, QUARANTINE_REASON_COLUMN]
    reasons = table.column(QUARANTINE_REASON_COLUMN).to_pylist()
    assert cleaned.rows_in == 400 == table.num_rows
    assert cleaned.rows_quarantined == sum(1 for r in reasons if r) > 0
    assert cleaned.rows_clean == sum(1 for r in reasons if not r)
    attributes = cleaned.attributes()
    assert int(attributes["clean.row.count"]) + int(attributes["quarantine.row.count"]) == int(attributes["record.count"])
    assert sum(int(part.split(" x ")[0]) for part in attributes["quarantine.reasons"].split("; ")) >= cleaned.rows_quarantined


def test_clean_chunk_rejects_unreadable_content():
    with pytest.raises(InvalidCsv, match="binary content"):
        clean_chunk(b"\x00\x01\x02PK")
