"""The processors NAR: the project's Python processors, their core and every runtime dependency in one file.

NiFi 2 runs Python processors from a NAR with `NAR-INF/bundled-dependencies/` without creating a
virtualenv or calling pip (NIFI-12959), so the flow needs no package index at run time and runs what
CI tested. The dependencies are installed from `processors/requirements.lock` (exact versions and
hashes) for the Python that NiFi runs; the NAR is written with sorted entries and fixed timestamps,
so the same inputs give the same bytes. The compiled Fernet (`ecommerce_pipeline._fernet`) goes in
as setup.py builds it: one abi3 module for every Python from 3.11 on, the NiFi image's 3.13 included.
The dependencies, the compiled module and the NAR are cached, keyed by their inputs, like the NiFi home.
"""

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from .paths import CACHE, REPO
from .processes import StackError, run_step, say

PROCESSORS = REPO / "processors"
PACKAGES = ("ecommerce_processors", "ecommerce_pipeline")
LOCK_FILE = PROCESSORS / "requirements.lock"
NAR_GROUP, NAR_ID = "org.ecommerce-pipeline.nifi", "ecommerce-processors-nar"
NAR_PREFIX = f"{NAR_ID}-"
BUNDLED = "NAR-INF/bundled-dependencies/"
# One numpy for every Python NiFi may run (3.11 to 3.13), so one lock serves them all.
LOCK_CONSTRAINTS = ("numpy==2.4.6",)
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
PIP_PROGRESS = re.compile(r"^(Collecting|Installing|Successfully|ERROR)")
# Our sources go in without compiled caches or a local build of the compiled module (the NAR gets its own);
# the dependencies without the console scripts pip writes.
SOURCE_CACHES = re.compile(r"(^|/)__pycache__/|\.pyc$|\.so$")
# What setup.py compiles: the module's path in the NAR (and in setup.py's wheel), and what its build depends on.
COMPILED_FERNET = "ecommerce_pipeline/_fernet.abi3.so"
COMPILED_INPUTS = (REPO / "setup.py", REPO / "pyproject.toml", PROCESSORS / "ecommerce_pipeline" / "_fernet.c")
WHEEL_PROGRESS = re.compile(r"^\s*(Created wheel|ERROR|error)|ecommerce-pipeline build:")


def project_version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def processor_dependencies() -> list[str]:
    """The pins the processors declare in ProcessorDetails.dependencies (what NiFi would pip-install)."""
    pins = set()
    for module in sorted((PROCESSORS / "ecommerce_processors").glob("[A-Z]*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ClassDef) and node.name == "ProcessorDetails":
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and statement.targets[0].id == "dependencies":
                        pins.update(ast.literal_eval(statement.value))
    return sorted(pins)


def python_version(python: str = sys.executable) -> str:
    """major.minor of the Python NiFi runs (nifi.python.command)."""
    return subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True, check=True).stdout.strip()


def source_files() -> list[Path]:
    """The processors' and the core's files as the NAR holds them, sorted."""
    return sorted(path for package in PACKAGES for path in (PROCESSORS / package).rglob("*")
                  if path.is_file() and not SOURCE_CACHES.search(path.relative_to(PROCESSORS).as_posix()))


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part + b"\0")
    return digest.hexdigest()[:12]


def nar_path(target_python: str) -> Path:
    """Where the NAR of these sources, this lock and that Python is cached."""
    sources = [p.relative_to(PROCESSORS).as_posix().encode() + b"\0" + p.read_bytes() for p in source_files()]
    key = _digest(LOCK_FILE.read_bytes(), target_python.encode(), Path(__file__).read_bytes(), *sources,
                  *(path.read_bytes() for path in COMPILED_INPUTS))
    return CACHE / "processors-nar" / f"{NAR_PREFIX}{project_version()}-py{target_python}-{key}.nar"


def build_processors_nar(target_python: str | None = None) -> Path:
    """The NAR for `target_python` (major.minor; default: this Python), built once and reused."""
    target_python = target_python or python_version()
    nar = nar_path(target_python)
    if nar.exists():
        return nar
    dependencies = bundled_dependencies(target_python)
    compiled = compiled_fernet()
    say(f"processors: packaging {nar.name}")
    nar.parent.mkdir(parents=True, exist_ok=True)
    partial = nar.with_suffix(".partial")
    write_nar(partial, manifest(project_version()), {"": PROCESSORS, BUNDLED: dependencies, COMPILED_FERNET: compiled},
              include=_in_nar)
    partial.replace(nar)
    say(f"processors: {nar} ({nar.stat().st_size / 2**20:.0f} MiB)")
    return nar


def _in_nar(relative: str) -> bool:
    if relative.startswith(BUNDLED):
        return not relative.startswith(BUNDLED + "bin/")
    return relative.split("/", 1)[0] in PACKAGES and not SOURCE_CACHES.search(relative)


def compiled_fernet() -> Path:
    """The compiled Fernet as setup.py builds it (pip wheel of a clean copy), once per C source and build settings.

    Its flags live in setup.py, so its bytes are part of the key. Built on Python's limited API, the module
    loads in any Python from 3.11 on: one build serves the NAR of every target Python.
    """
    key = _digest(*(path.read_bytes() for path in COMPILED_INPUTS))
    target = CACHE / "processors-nar" / f"compiled-{key}" / Path(COMPILED_FERNET).name
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(prefix="compiled-fernet-") as scratch:
        source, wheels = copy_package_source(Path(scratch) / "source"), Path(scratch) / "wheels"
        code, output = run_step(
            "processors: compiling the Fernet extension with setup.py (first time only)",
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--verbose", "--progress-bar", "off",
             "--wheel-dir", str(wheels), str(source)],
            shows=WHEEL_PROGRESS.search,
        )
        if code != 0:
            raise StackError(f"processors: setup.py could not build the compiled Fernet; pip reported:\n{output[-3000:]}")
        with zipfile.ZipFile(next(wheels.glob("*.whl"))) as wheel:
            module = wheel.read(COMPILED_FERNET)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(module)
    partial.replace(target)
    return target


def copy_package_source(destination: Path) -> Path:
    """What pip needs of the checkout to build the package (`ecommerce_pipeline` and its compiled module), copied
    to `destination` without caches or a local build: the package as a fresh clone builds it."""
    destination.mkdir(parents=True)
    for name in ("setup.py", "pyproject.toml"):
        shutil.copy2(REPO / name, destination / name)
    shutil.copytree(PROCESSORS / "ecommerce_pipeline", destination / "processors" / "ecommerce_pipeline",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    return destination


def bundled_dependencies(target_python: str) -> Path:
    """The locked dependencies installed for `target_python` on Linux x86-64, cached by lock and Python."""
    key = _digest(LOCK_FILE.read_bytes(), b"with bytecode")
    target = CACHE / "processors-nar" / f"dependencies-py{target_python}-{key}"
    marker = target / ".complete"
    if marker.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    abi = "cp" + target_python.replace(".", "")
    code, output = run_step(
        f"processors: installing the locked dependencies for Python {target_python} (first time only)",
        [sys.executable, "-m", "pip", "install", "--no-deps", "--require-hashes", "--only-binary=:all:",
         "--no-compile", "--progress-bar", "off", "--target", str(target),
         "--python-version", target_python, "--implementation", "cp", "--abi", abi, "--abi", "abi3",
         "--abi", "none", "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
         "--platform", "any", "-r", str(LOCK_FILE)],
        shows=PIP_PROGRESS.search,
    )
    if code != 0:
        raise StackError(f"processors: the locked dependencies could not be installed for Python {target_python}; "
                         f"pip reported:\n{output[-3000:]}")
    if target_python == python_version():
        _compile(target)
    marker.write_text(target_python)
    return target


def _compile(directory: Path) -> None:
    """Bytecode in the NAR: each processor's Python imports pandas and pyarrow without compiling them first
    (NiFi's Python may not write caches: PYTHONDONTWRITEBYTECODE). Hash-based, fixed hash seed, paths as in the
    NAR rather than in the build's cache: reproducible."""
    say("processors: compiling the dependencies' bytecode")
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    "-s", str(directory), "-p", BUNDLED.rstrip("/"), str(directory)], env={**os.environ, "PYTHONHASHSEED": "0"}, check=True, stdout=subprocess.DEVNULL)


def manifest(version: str) -> str:
    """The NAR manifest; NiFi reads only Nar-Group, Nar-Id and Nar-Version."""
    return "\r\n".join([
        "Manifest-Version: 1.0",
        f"Nar-Group: {NAR_GROUP}",
        f"Nar-Id: {NAR_ID}",
        f"Nar-Version: {version}",
        "", "",
    ])


def write_nar(path: Path, manifest_text: str, trees: dict[str, Path], include=lambda relative: True) -> None:
    """A zip with the manifest first, every directory entry before its files, sorted, fixed timestamps.

    `trees` maps a prefix in the NAR to a directory whose files go under it, or a name in the NAR
    to a file; NiFi's unpacker needs each directory entry ahead of the files in it.
    """
    files = {"META-INF/MANIFEST.MF": manifest_text.encode()}
    for prefix, root in trees.items():
        if root.is_file():
            files[prefix] = root
            continue
        for file in root.rglob("*"):
            relative = prefix + file.relative_to(root).as_posix()
            if file.is_file() and include(relative):
                files[relative] = file
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as nar:
        written = set()
        for name in sorted(files, key=lambda n: (n != "META-INF/MANIFEST.MF", n)):
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth]) + "/"
                if directory not in written:
                    nar.writestr(_entry(directory, 0o40755), b"")
                    written.add(directory)
            content = files[name]
            nar.writestr(_entry(name, 0o100644), content if isinstance(content, bytes) else content.read_bytes())


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, ZIP_TIMESTAMP)
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_STORED if name.endswith("/") else zipfile.ZIP_DEFLATED
    return info


def install_processors_nar(nar: Path, extensions: Path) -> None:
    """Puts the NAR where NiFi loads extensions at boot, replacing any other build of it."""
    extensions.mkdir(parents=True, exist_ok=True)
    target = installed_path(extensions)
    for other in extensions.glob(f"{NAR_PREFIX}*.nar"):
        if other != target:
            other.unlink()
    if not is_installed(nar, extensions):
        shutil.copyfile(nar, target)
        say(f"processors: installed {nar.name} as {target}")


def installed_path(extensions: Path) -> Path:
    return extensions / f"{NAR_PREFIX}{project_version()}.nar"


def is_installed(nar: Path, extensions: Path) -> bool:
    """Whether NiFi's autoload directory holds this very build (same bytes)."""
    target = installed_path(extensions)
    return target.exists() and target.stat().st_size == nar.stat().st_size and _file_digest(target) == _file_digest(nar)


def _file_digest(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def lock_dependencies() -> None:
    """Rewrites requirements.lock from the processors' pins (needs `uv`: pip install uv)."""
    uv = shutil.which("uv")
    if not uv:
        raise StackError("locking the processors' dependencies needs uv: python3 -m pip install uv")
    requirements = CACHE / "processors-nar" / "requirements.in"
    requirements.parent.mkdir(parents=True, exist_ok=True)
    requirements.write_text("\n".join([*processor_dependencies(), *LOCK_CONSTRAINTS]) + "\n")
    subprocess.run([uv, "pip", "compile", "--quiet", "--universal", "--generate-hashes", "--python-version", "3.11",
                    "--no-annotate", "--custom-compile-command", "nifi/stack lock-processors", "--output-file", str(LOCK_FILE), str(requirements)], check=True,
                   env={**os.environ, "UV_NO_CACHE": "1"})
    say(f"processors: wrote {LOCK_FILE.relative_to(REPO)}")
