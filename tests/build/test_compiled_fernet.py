"""The compiled Fernet's build: warning-free C, setup.py naming what a machine lacks, and the NAR's own build.

Build tests, not unit tests: they run the C compiler, and pip with setup.py (whose build isolation
fetches setuptools from the package index).
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from nifi.provisioning import processors_nar
from nifi.provisioning.paths import REPO

SOURCE = REPO / "processors" / "ecommerce_pipeline" / "_fernet.c"


def test_the_c_source_compiles_without_a_single_warning():
    compiled = subprocess.run(
        ["gcc", "-std=c11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wconversion",
         "-Wno-sign-conversion", f"-I{sysconfig.get_paths()['include']}", str(SOURCE)],
        capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr


@pytest.fixture
def checkout_copy(tmp_path) -> Path:
    return processors_nar.copy_package_source(tmp_path / "source")


def pip_wheel(source: Path, **environment: str) -> subprocess.CompletedProcess:
    """`pip wheel` of the copy outside CI and away from any terminal: where the build may not install anything."""
    env = {name: value for name, value in os.environ.items() if name != "CI"}
    return subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "--wheel-dir",
                           str(source.parent / "wheels"), str(source)],
                          capture_output=True, text=True, env={**env, **environment}, stdin=subprocess.DEVNULL,
                          start_new_session=True, timeout=600)


def test_without_a_compiler_the_build_stops_and_names_the_debian_packages(checkout_copy):
    built = pip_wheel(checkout_copy, CC="no-such-cc")
    assert built.returncode != 0
    output = " ".join((built.stdout + built.stderr).split())
    assert "the compiled Fernet (ecommerce_pipeline._fernet, from processors/ecommerce_pipeline/_fernet.c) " \
           "cannot be built: missing a C compiler (`no-such-cc`)" in output
    assert "Install the Debian/Ubuntu packages gcc libc6-dev (as root: apt-get install gcc libc6-dev)" in output
    assert not list((checkout_copy.parent / "wheels").glob("*.whl"))


def test_without_openssl_s_headers_the_build_names_libssl_dev(checkout_copy, tmp_path):
    hidden = tmp_path / "hidden" / "openssl"
    hidden.mkdir(parents=True)
    (hidden / "evp.h").write_text("#error OpenSSL hidden by the test\n")
    built = pip_wheel(checkout_copy, CC=f"gcc -I{hidden.parent}")
    assert built.returncode != 0
    output = " ".join((built.stdout + built.stderr).split())
    assert "missing OpenSSL 3's headers and libcrypto (openssl/evp.h, -lcrypto)" in output
    assert "(as root: apt-get install libssl-dev)" in output


def test_the_nar_s_module_is_built_by_setup_py_once_and_loads_on_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(processors_nar, "CACHE", tmp_path / "cache")
    module = processors_nar.compiled_fernet()
    assert module.name == "_fernet.abi3.so"
    assert processors_nar.compiled_fernet() == module  # cached: the second call builds nothing
    needed = subprocess.run(["readelf", "-d", str(module)], capture_output=True, text=True, check=True).stdout
    assert sorted(line.split("[")[1].rstrip("]") for line in needed.splitlines() if "(NEEDED)" in line) == [
        "libc.so.6", "libcrypto.so.3"]
    package = tmp_path / "site" / "ecommerce_pipeline"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    shutil.copy(module, package / module.name)
    loaded = subprocess.run([sys.executable, "-c", "from ecommerce_pipeline import _fernet; print(_fernet.OPENSSL_VERSION)"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(package.parent)},
                            cwd=tmp_path)
    assert loaded.returncode == 0 and loaded.stdout.startswith("OpenSSL 3."), loaded.stderr
