"""The processors' transform, validation and scheduling, run against a stand-in for nifiapi.

The stand-in has only what the processors touch of nifiapi 2.3.0 (results, descriptors,
property values with `${attribute}` references, FlowFiles, a logger), so these tests check
how each adapter wires attributes and relationships to the core; NiFi itself is tested
in tests/integration.
"""

import datetime as dt
import enum
import importlib.util
import io
import json
import re
import sys
import types
from pathlib import Path

import py4j.java_gateway
import py4j.protocol
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet

from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.object_keys import chunk_id
from ecommerce_pipeline.sample_data import write_sample_csv

PACKAGE = Path(__file__).resolve().parents[2] / "processors" / "ecommerce_processors"


class FlowFileTransformResult:
    def __init__(self, relationship, attributes=None, contents=None):
        self.relationship, self.attributes, self.contents = relationship, attributes, contents


class PropertyDescriptor:
    def __init__(self, name, description, required=False, sensitive=False, default_value=None, **options):
        self.name, self.description, self.required, self.sensitive = name, description, required, sensitive
        self.default_value, self.options = default_value, options


class ValidationResult:
    def __init__(self, subject="", explanation="", valid=False, input=None):
        self.subject, self.explanation, self.valid = subject, explanation, valid


def fake_nifiapi() -> dict[str, types.ModuleType]:
    package = types.ModuleType("nifiapi")
    transform = types.ModuleType("nifiapi.flowfiletransform")
    transform.FlowFileTransform = type("FlowFileTransform", (), {"__init__": lambda self: None, "logger": None})
    transform.FlowFileTransformResult = FlowFileTransformResult
    properties = types.ModuleType("nifiapi.properties")
    properties.PropertyDescriptor = PropertyDescriptor
    properties.ValidationResult = ValidationResult
    properties.ResourceDefinition = types.SimpleNamespace
    properties.ExpressionLanguageScope = enum.Enum("ExpressionLanguageScope", "NONE ENVIRONMENT FLOWFILE_ATTRIBUTES")
    properties.StandardValidators = types.SimpleNamespace(
        **{name: name for name in ("NON_EMPTY_VALIDATOR", "NON_EMPTY_EL_VALIDATOR", "URL_VALIDATOR", "ALWAYS_VALID")}
    )
    return {"nifiapi": package, "nifiapi.flowfiletransform": transform, "nifiapi.properties": properties}


class PropertyValue:
    def __init__(self, value):
        self.value = value

    def getValue(self):
        return self.value

    def isExpressionLanguagePresent(self):
        return "${" in (self.value or "")

    def evaluateAttributeExpressions(self, flowfile):
        return PropertyValue(re.sub(r"\$\{([^${}:]+)\}", lambda m: flowfile.getAttribute(m[1]) or "", self.value))


class Context:
    def __init__(self, processor, **values):
        defaults = {d.name: d.default_value for d in getattr(processor, "properties", [])}
        self.values = defaults | values

    def getProperty(self, descriptor):
        return PropertyValue(self.values.get(descriptor.name))


class FlowFile:
    def __init__(self, content: bytes, **attributes):
        self.content, self.attributes = content, {"filename": "orders.csv", **attributes}

    def getContentsAsBytes(self):
        return self.content

    def getAttribute(self, name):
        return self.attributes.get(name)


class Logger:
    def __init__(self):
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


@pytest.fixture
def load(monkeypatch):
    for name, module in fake_nifiapi().items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(py4j.protocol, "decode_bytearray", py4j.protocol.decode_bytearray)  # the modules replace it
    gateway = py4j.java_gateway  # and set TCP_NODELAY on py4j's sockets from now on
    monkeypatch.setattr(gateway.GatewayConnection, "start", gateway.GatewayConnection.start)
    monkeypatch.setattr(gateway.CallbackServer, "_create_connection", gateway.CallbackServer._create_connection)
    monkeypatch.setattr(gateway, "sends_without_delay", False, raising=False)

    def load_processor(name: str, **properties):
        spec = importlib.util.spec_from_file_location(f"adapter_test_{name}", PACKAGE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        processor = getattr(module, name)()
        processor.logger = Logger()
        context = Context(processor, **properties)
        if hasattr(processor, "onScheduled"):
            processor.onScheduled(context)
        return processor, context

    return load_processor


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    path = tmp_path_factory.mktemp("adapters") / "orders.csv"
    write_sample_csv(path, rows=50, seed=5, bad_row_fraction=0.1)
    return path.read_bytes()


def csv_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer)
    return buffer.getvalue()


# CleanEcommerceCsv


def test_clean_sets_the_chunk_id_from_fragment_index_and_the_raw_content(load, export):
    processor, context = load("CleanEcommerceCsv")
    result = processor.transform(context, FlowFile(export, **{"fragment.index": "4"}))
    assert result.relationship == "success"
    assert result.attributes["chunk.id"] == chunk_id(4, export)
    assert result.attributes["record.count"] == "50" and result.attributes["mime.type"] == "text/csv"
    replay = processor.transform(context, FlowFile(export, **{"fragment.index": "4"}))
    assert replay.attributes["chunk.id"] == result.attributes["chunk.id"]


def test_clean_sets_the_chunk_id_on_failure_too(load):
    processor, context = load("CleanEcommerceCsv")
    result = processor.transform(context, FlowFile(b"\x00binary"))
    assert result.relationship == "failure" and result.contents is None
    assert result.attributes["chunk.id"] == chunk_id(0, b"\x00binary")
    assert result.attributes["clean.error"].startswith("binary content")
    assert processor.logger.warnings


# EncryptColumns

ORDERS_FROM_QUERY_RECORD = pa.table({
    "customer_id": ["c1"], "order_id": ["o1"], "order_date": ["1700006400000"], "product_id": ["p1"],
    "total_purchase_value": ["123.45"], "discount_code": [""],
})


def test_encrypt_columns_writes_typed_parquet_by_default(load):
    key = generate_key()
    processor, context = load("EncryptColumns", **{"Fernet Keys": key, "Segment": "${route}"})
    result = processor.transform(context, FlowFile(csv_bytes(ORDERS_FROM_QUERY_RECORD), route="order_info"))
    assert result.relationship == "success"
    assert result.attributes["mime.type"] == "application/vnd.apache.parquet"
    assert result.attributes["encryption.segment"] == "order_info"
    table = pq.read_table(pa.BufferReader(result.contents))
    assert table.column("order_date").to_pylist() == [dt.date(2023, 11, 15)]
    assert table.schema.field("total_purchase_value").type == pa.float64()


def test_encrypt_columns_csv_output_and_failure_on_an_unreadable_date(load):
    key = generate_key()
    processor, context = load("EncryptColumns", **{"Fernet Keys": key, "Segment": "customer_info",
                                                   "Output Format": "CSV"})
    customers = pa.table({"customer_id": ["c1"], "first_name": ["Ada"], "last_name": ["L"], "email_address": ["a@b"],
                          "phone_number": ["1"], "shipping_address": ["x"], "vip_status": ["Yes"]})
    result = processor.transform(context, FlowFile(csv_bytes(customers)))
    assert result.relationship == "success" and result.attributes["mime.type"] == "text/csv"
    assert result.contents.startswith(b'"customer_id"')

    processor, context = load("EncryptColumns", **{"Fernet Keys": key, "Segment": "order_info"})
    bad = ORDERS_FROM_QUERY_RECORD.set_column(2, "order_date", pa.array(["15/11/2023"]))
    result = processor.transform(context, FlowFile(csv_bytes(bad)))
    assert result.relationship == "failure"
    assert "column 'order_date'" in result.attributes["encryption.error"]


def test_both_encrypting_processors_validate_keys_the_same_way(load):
    for name in ("EncryptColumns", "EncryptWholeContent"):
        processor, _ = load(name, **{"Fernet Keys": generate_key(), "Segment": "order_info"})
        assert processor.customValidate(Context(processor, **{"Fernet Keys": generate_key()})) == []
        [problem] = processor.customValidate(Context(processor, **{"Fernet Keys": "not a key!"}))
        assert problem.subject == "Fernet Keys" and not problem.valid
        assert problem.explanation.startswith("Fernet Keys: key 1 of 1 is not url-safe base64")


def encrypt_columns_problems(load, **properties) -> list[ValidationResult]:
    processor, _ = load("EncryptColumns", **{"Fernet Keys": generate_key(), "Segment": "order_info"})
    return processor.customValidate(Context(processor, **{"Fernet Keys": generate_key()} | properties))


def test_a_literal_segment_the_policy_does_not_define_is_invalid_before_any_flowfile(load):
    [problem] = encrypt_columns_problems(load, Segment="order_infos")
    assert problem.subject == "Segment" and not problem.valid
    assert "unknown segment 'order_infos'" in problem.explanation and "order_info," in problem.explanation
    assert encrypt_columns_problems(load, Segment="order_info") == []


def test_a_segment_from_expression_language_is_left_to_run_time(load):
    assert encrypt_columns_problems(load, Segment="${route}") == []


def test_the_policy_file_decides_which_literal_segments_exist(load, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[orders]\nencrypted = ["card"]\nclear = ["id"]\n')
    assert encrypt_columns_problems(load, Segment="orders", **{"Encryption Policy File": str(policy)}) == []
    [problem] = encrypt_columns_problems(load, Segment="order_info", **{"Encryption Policy File": str(policy)})
    assert problem.subject == "Segment" and "defines orders" in problem.explanation


def test_a_broken_policy_file_is_the_one_problem_named(load, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("[orders\n")
    [problem] = encrypt_columns_problems(load, Segment="orders", **{"Encryption Policy File": str(policy)})
    assert problem.subject == "Encryption Policy File" and "not valid TOML" in problem.explanation


def test_the_flow_s_encrypt_columns_processors_pass_validation(load):
    flow = json.loads((PACKAGE.parents[1] / "flows" / "ecommerce-ingest.json").read_text())
    configured = [p["properties"] for p in flow["flowContents"]["processors"] if p["type"] == "EncryptColumns"]
    assert configured
    for properties in configured:
        literal = {name: value for name, value in properties.items() if value is not None and "#{" not in value}
        assert encrypt_columns_problems(load, **literal) == [], literal


# EncryptWholeContent


def test_whole_content_is_one_plain_fernet_token_with_reason_and_chunk_id(load):
    newest, older = generate_key(), generate_key()
    processor, context = load("EncryptWholeContent", **{"Fernet Keys": f"{newest},{older}"})
    content = b"Customer ID,First Name\n\"unclosed"
    result = processor.transform(context, FlowFile(content, **{"fragment.index": "2", "clean.error": "malformed\nCSV"}))
    assert result.relationship == "success"
    assert Fernet(newest).decrypt(result.contents) == content
    assert result.attributes == {"quarantine.reason": "malformed CSV", "mime.type": "application/octet-stream",
                                 "chunk.id": chunk_id(2, content)}


def test_whole_content_keeps_an_existing_chunk_id_and_names_an_unknown_reason(load):
    processor, context = load("EncryptWholeContent", **{"Fernet Keys": generate_key()})
    result = processor.transform(context, FlowFile(b"x", **{"chunk.id": "abc"}))
    assert "chunk.id" not in result.attributes
    assert result.attributes["quarantine.reason"] == "unreadable content"


# SignS3Upload

S3_PROPERTIES = {"Endpoint URL": "http://127.0.0.1:9000", "Bucket": "lake", "Access Key ID": "access-key-id",
                 "Secret Access Key": "secret-access-key-never-in-messages", "Reason Attribute": "quarantine.reason",
                 "Object Key": "_quarantine/ingest_date=${ingest.date}/orders-${chunk.id}.csv.fernet"}
SHA256_OF_X = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"


def test_signing_an_upload_reads_no_content_and_hands_on_the_url_and_the_signed_headers(load):
    processor, context = load("SignS3Upload", **S3_PROPERTIES)
    flowfile = FlowFile(None, **{"ingest.date": "2026-11-24", "chunk.id": "abc", "content_SHA-256": SHA256_OF_X,
                                 "quarantine.reason": "wrong header:\nPrénom"})
    result = processor.transform(context, flowfile)
    assert result.relationship == "success" and result.contents is None
    attributes = result.attributes
    assert attributes["s3.url"] == "http://127.0.0.1:9000/lake/_quarantine/ingest_date%3D2026-11-24/orders-abc.csv.fernet"
    assert attributes["X-Amz-Content-SHA256"] == SHA256_OF_X and attributes["x-amz-meta-reason"] == "wrong header: Pr\\xe9nom"
    assert attributes["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=access-key-id/")
    assert "secret-access-key" not in "".join(attributes.values())


def test_an_upload_without_a_content_hash_routes_to_failure_with_a_one_line_error(load):
    processor, context = load("SignS3Upload", **S3_PROPERTIES)
    result = processor.transform(context, FlowFile(None, **{"ingest.date": "2026-11-24", "chunk.id": "abc"}))
    assert result.relationship == "failure"
    error = result.attributes["s3.error"]
    assert "not a SHA-256" in error and "\n" not in error and "secret-access-key" not in error
    assert processor.logger.warnings
