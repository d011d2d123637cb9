"""The processors NAR's layout, its reproducibility, and the versions that tie processors, NAR and flow together."""

import json
import re
import tomllib
import zipfile
from pathlib import Path

import pytest

from nifi.deployment.processor_versions import missing_versions, python_processors
from nifi.provisioning import processors_nar
from nifi.provisioning.processors_nar import manifest, processor_dependencies, project_version, write_nar

REPO = Path(__file__).resolve().parents[2]


def locked_pins() -> dict[str, str]:
    """name -> version of every requirement in processors/requirements.lock."""
    pins = {}
    for line in processors_nar.LOCK_FILE.read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", line)
        if found:
            pins[found[1].lower()] = found[2]
    return pins


def test_every_locked_requirement_is_pinned_with_hashes():
    requirements = re.split(r"\n(?=[A-Za-z])", processors_nar.LOCK_FILE.read_text().split("\n", 2)[2].strip())
    assert len(requirements) == len(locked_pins()) > 4
    for requirement in requirements:
        assert "==" in requirement.splitlines()[0] and "--hash=sha256:" in requirement, requirement


def test_the_lock_holds_exactly_the_versions_the_processors_declare_and_the_project_pins():
    project = {p.split("==")[0]: p.split("==")[1]
               for p in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    locked = locked_pins()
    for pin in processor_dependencies():
        name, version = pin.split("==")
        assert locked[name] == version == project[name], pin


def test_processor_versions_and_the_flow_name_the_project_version():
    version = project_version()
    sources = sorted((REPO / "processors" / "ecommerce_processors").glob("[A-Z]*.py"))
    assert sources
    for source in sources:
        assert re.findall(r'^\s+version = "([^"]+)"', source.read_text(), re.M) == [version], source.name
    flow = json.loads((REPO / "flows" / "ecommerce-ingest.json").read_text())
    assert {v for _, v in python_processors(flow)} == {version}


def test_python_processors_are_found_in_nested_groups_and_java_ones_are_not():
    bundle = {"group": "org.apache.nifi", "artifact": "python-extensions", "version": "1.2.0"}
    java = {"type": "org.apache.nifi.processors.standard.GetFile",
            "bundle": {"group": "org.apache.nifi", "artifact": "nifi-standard-nar", "version": "2.3.0"}}
    flow = {"flowContents": {"processors": [java, {"type": "A", "bundle": bundle}],
                             "processGroups": [{"processors": [{"type": "B", "bundle": bundle}]}]}}
    assert python_processors(flow) == {("A", "1.2.0"), ("B", "1.2.0")}


def test_missing_versions_say_what_nifi_has_instead():
    wanted = {("EncryptColumns", "0.2.0"), ("UploadToS3", "0.2.0")}
    available = {("EncryptColumns", "0.1.0"), ("UploadToS3", "0.2.0")}
    assert missing_versions(wanted, available) == ["EncryptColumns 0.2.0 (NiFi has 0.1.0)"]
    assert missing_versions({("Clean", "0.2.0")}, set()) == ["Clean 0.2.0 (NiFi has no version of it)"]
    assert missing_versions(wanted, wanted) == []


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    for name, text in {"pkg/mod.py": "x = 1\n", "pkg/__init__.py": "", "pkg/sub/deep.py": "y = 2\n",
                       "pkg/__pycache__/mod.cpython-311.pyc": "cache", "other/skip.py": ""}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def write(tree: Path, path: Path) -> bytes:
    write_nar(path, manifest("9.9.9"), {"": tree, "NAR-INF/bundled-dependencies/": tree / "pkg"},
              include=lambda relative: relative.startswith(("pkg/", "NAR-INF/")) and "__pycache__" not in relative)
    return path.read_bytes()


def test_the_nar_opens_with_its_manifest_and_every_directory_comes_before_its_files(tree, tmp_path):
    write(tree, tmp_path / "a.nar")
    names = zipfile.ZipFile(tmp_path / "a.nar").namelist()
    assert names[:2] == ["META-INF/", "META-INF/MANIFEST.MF"]
    for index, name in enumerate(names):
        parent = name.rstrip("/").rpartition("/")[0]
        if parent:
            assert parent + "/" in names[:index], name
    assert "pkg/sub/deep.py" in names and "NAR-INF/bundled-dependencies/sub/deep.py" in names
    assert not any("__pycache__" in n or n.startswith("other/") for n in names)


def test_the_manifest_names_the_nar_as_nifi_reads_it(tree, tmp_path):
    write(tree, tmp_path / "a.nar")
    text = zipfile.ZipFile(tmp_path / "a.nar").read("META-INF/MANIFEST.MF").decode()
    fields = dict(line.split(": ", 1) for line in text.splitlines() if line)
    assert fields["Nar-Id"] == "ecommerce-processors-nar"
    assert fields["Nar-Group"] == "org.ecommerce-pipeline.nifi"
    assert fields["Nar-Version"] == "9.9.9"


def test_the_same_inputs_give_the_same_bytes_whatever_the_file_times(tree, tmp_path):
    first = write(tree, tmp_path / "a.nar")
    for file in tree.rglob("*"):
        file.touch()
    assert write(tree, tmp_path / "b.nar") == first
    (tree / "pkg" / "mod.py").write_text("x = 2\n")
    assert write(tree, tmp_path / "c.nar") != first


def test_dependencies_go_in_with_their_bytecode_and_without_scripts_our_sources_without_caches():
    bundled = processors_nar.BUNDLED
    assert processors_nar._in_nar(bundled + "pandas/__pycache__/core.cpython-311.pyc")
    assert not processors_nar._in_nar(bundled + "bin/f2py")
    assert processors_nar._in_nar("ecommerce_pipeline/cleaning.py")
    assert not processors_nar._in_nar("ecommerce_pipeline/__pycache__/cleaning.cpython-311.pyc")
    assert not processors_nar._in_nar("requirements.lock")
    assert not processors_nar._in_nar("ecommerce_pipeline/_fernet.abi3.so"), "a local build of the compiled module"


def test_a_file_goes_in_under_the_name_it_is_given(tree, tmp_path):
    module = tmp_path / "built" / "_fernet.abi3.so"
    module.parent.mkdir()
    module.write_bytes(b"\x7fELF compiled")
    (tree / "pkg" / "_fernet.abi3.so").write_bytes(b"a local build")
    write_nar(tmp_path / "a.nar", manifest("9.9.9"), {"": tree, "pkg/_fernet.abi3.so": module},
              include=lambda relative: relative.startswith("pkg/") and not relative.endswith(".so"))
    assert zipfile.ZipFile(tmp_path / "a.nar").read("pkg/_fernet.abi3.so") == b"\x7fELF compiled"


def test_the_nar_is_keyed_by_the_c_source_and_the_build_settings(monkeypatch, tmp_path):
    monkeypatch.setattr(processors_nar, "CACHE", tmp_path)
    inputs = [tmp_path / name for name in ("setup.py", "pyproject.toml", "_fernet.c")]
    for path in inputs:
        path.write_text(path.name)
    monkeypatch.setattr(processors_nar, "COMPILED_INPUTS", tuple(inputs))
    before = processors_nar.nar_path("3.13")
    for path in inputs:
        path.write_text(path.name + " changed")
        assert processors_nar.nar_path("3.13") != before, path.name


def test_bytecode_is_the_same_whatever_the_hash_seed_of_the_build(tmp_path, monkeypatch):
    compiled = []
    for seed in ("1", "2"):
        tree = tmp_path / seed
        tree.mkdir()
        (tree / "module.py").write_text("def f(x):\n    return x in {'alpha', 'beta', 'gamma', 'delta'}\n")
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        processors_nar._compile(tree)
        compiled.append([p.read_bytes() for p in sorted(tree.rglob("*.pyc"))])
    assert compiled[0] and compiled[0] == compiled[1]


def test_the_nar_is_cached_by_its_sources(monkeypatch, tmp_path):
    monkeypatch.setattr(processors_nar, "CACHE", tmp_path)
    before = processors_nar.nar_path("3.11")
    assert before == processors_nar.nar_path("3.11")
    assert processors_nar.nar_path("3.13") != before
    assert before.name.startswith(f"ecommerce-processors-nar-{project_version()}-py3.11-")


def test_an_installed_build_is_replaced_by_another_and_recognised(tmp_path):
    extensions = tmp_path / "extensions"
    first, second = tmp_path / "first.nar", tmp_path / "second.nar"
    first.write_bytes(b"one")
    second.write_bytes(b"two")
    (extensions / "ecommerce-processors-nar-0.0.1.nar").parent.mkdir()
    (extensions / "ecommerce-processors-nar-0.0.1.nar").write_bytes(b"old")
    processors_nar.install_processors_nar(first, extensions)
    assert [p.name for p in extensions.iterdir()] == [f"ecommerce-processors-nar-{project_version()}.nar"]
    assert processors_nar.is_installed(first, extensions) and not processors_nar.is_installed(second, extensions)
    processors_nar.install_processors_nar(second, extensions)
    assert processors_nar.is_installed(second, extensions)
