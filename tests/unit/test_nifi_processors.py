"""The processor modules as NiFi discovers them: from their syntax tree, without running them.

NiFi reads ProcessorDetails from the source (a literal version, description, tags, pinned
dependencies) before it installs anything; running them needs NiFi itself.
"""

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "processors" / "ecommerce_processors"
PROJECT_PINS = {
    re.split("==", pin)[0]: pin for pin in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
}


def processor_class(module: Path) -> ast.ClassDef:
    classes = [node for node in ast.parse(module.read_text()).body if isinstance(node, ast.ClassDef)]
    assert len(classes) == 1, "one processor class per module"
    return classes[0]


def nested(cls: ast.ClassDef, name: str) -> dict[str, object]:
    body = next(node for node in cls.body if isinstance(node, ast.ClassDef) and node.name == name).body
    return {node.targets[0].id: ast.literal_eval(node.value) for node in body if isinstance(node, ast.Assign)}


MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.stem[0].isupper())  # helpers are lower case


def python_processor_types(group: dict) -> set[str]:
    """The Python processor types a process group of the flow definition uses, nested groups included."""
    own = {p["type"] for p in group["processors"] if p["bundle"]["artifact"] == "python-extensions"}
    return own.union(*(python_processor_types(child) for child in group.get("processGroups", [])))


def test_the_flow_s_python_processors_are_the_modules_here():
    flow = json.loads((REPO / "flows" / "ecommerce-ingest.json").read_text())
    assert python_processor_types(flow["flowContents"]) == {m.stem for m in MODULES}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_class_is_named_as_its_module_and_implements_a_python_processor_interface(module):
    cls = processor_class(module)
    assert cls.name == module.stem
    kind = "FlowFileSource" if module.stem == "GetLandingBucketObject" else "FlowFileTransform"
    assert nested(cls, "Java")["implements"] == [f"org.apache.nifi.python.processor.{kind}"]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_processor_details_are_literals_nifi_can_read(module):
    details = nested(processor_class(module), "ProcessorDetails")
    assert isinstance(details["version"], str) and re.fullmatch(r"\d+\.\d+\.\d+", details["version"])
    assert isinstance(details["description"], str) and details["description"].strip()
    assert isinstance(details["tags"], list) and details["tags"]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_dependencies_are_pinned_to_the_project_s_versions(module):
    dependencies = nested(processor_class(module), "ProcessorDetails")["dependencies"]
    assert dependencies and all(PROJECT_PINS[d.split("==")[0]] == d for d in dependencies)


def declared_properties(cls: ast.ClassDef) -> dict[str, dict[str, object]]:
    """Each PropertyDescriptor of the class's `properties` list, in order: name -> its literal keywords."""
    assigned = {node.targets[0].id: node.value for node in cls.body if isinstance(node, ast.Assign)}
    if "properties" not in assigned:
        return {}
    declared = {}
    for element in assigned["properties"].elts:
        call = assigned[element.id]
        if isinstance(call, ast.Attribute):  # a descriptor shared through a helper module, e.g. s3_properties.ENDPOINT_URL
            call = module_assignments(PACKAGE / f"{call.value.id}.py")[call.attr]
        assert isinstance(call, ast.Call) and call.func.id == "PropertyDescriptor"
        keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords if isinstance(k.value, ast.Constant)}
        declared[keywords["name"]] = keywords
    return declared


def module_assignments(module: Path) -> dict[str, ast.expr]:
    return {node.targets[0].id: node.value for node in ast.parse(module.read_text()).body if isinstance(node, ast.Assign)}


def descriptor_variables(cls: ast.ClassDef) -> list[str]:
    return [
        node.targets[0].id
        for node in cls.body
        if isinstance(node, ast.Assign)
        and (isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == "PropertyDescriptor"
             or isinstance(node.value, ast.Attribute))
    ]


# The flow definition refers to properties by these names: renaming one breaks the deployed flow.
EXPECTED_PROPERTIES = {
    "CleanEcommerceCsv": [],
    "EncryptColumns": ["Fernet Keys", "Segment", "Output Format", "Encryption Policy File"],
    "EncryptWholeContent": ["Fernet Keys", "Reason"],
    "GetLandingBucketObject": ["Endpoint URL", "Bucket", "Landing Prefix", "Access Key ID", "Secret Access Key"],
    "CheckIngestLedger": ["Endpoint URL", "Bucket", "Access Key ID", "Secret Access Key", "Content SHA-256", "Identity"],
    "SignS3Upload": [
        "Endpoint URL", "Bucket", "Object Key", "Access Key ID", "Secret Access Key", "Region", "Content SHA-256",
        "Reason Attribute",
    ],
}
SECRETS = {"Fernet Keys", "Access Key ID", "Secret Access Key"}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_properties_keep_the_names_the_flow_uses_and_each_descriptor_is_listed_once(module):
    cls = processor_class(module)
    declared = declared_properties(cls)
    assert list(declared) == EXPECTED_PROPERTIES[module.stem]
    assert len(descriptor_variables(cls)) == len(declared)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_secrets_are_sensitive_properties_and_nothing_else_is(module):
    for name, keywords in declared_properties(processor_class(module)).items():
        assert keywords.get("sensitive", False) is (name in SECRETS), name
