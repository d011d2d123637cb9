"""Builds the compiled Fernet, `ecommerce_pipeline._fernet`, beside the packages pyproject.toml declares.

One module on Python's limited API (abi3, 3.11 on) over OpenSSL 3's libcrypto, so the same .so loads in the
host's Python and in the NiFi image's 3.13. Building it needs a C compiler, the C library's, OpenSSL's and
Python's headers. When one is missing the build says which Debian packages bring them and installs them
itself where it may: as root with apt-get, in CI (CI=true) or after asking on the terminal. It never falls
back to slower code: without the module the pipeline does not import.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, LinkError, PlatformError

NATIVE_SOURCE = "processors/ecommerce_pipeline/_fernet.c"
FERNET = Extension(
    "ecommerce_pipeline._fernet",
    sources=[NATIVE_SOURCE],
    libraries=["crypto"],
    extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
    py_limited_api=True,  # the source defines Py_LIMITED_API (3.11): the file is named _fernet.abi3.so
)
PROBE_OPENSSL = "#include <openssl/evp.h>\n#if OPENSSL_VERSION_MAJOR < 3\n#error OpenSSL 3 needed\n#endif\n" \
                "int probe(void) { return EVP_MAC_fetch(0, \"HMAC\", 0) != 0; }\n"
PROBE_LIBC = "#include <stdlib.h>\nint probe(void) { return abs(-1); }\n"
SAY = "ecommerce-pipeline build:"


@dataclass(frozen=True)
class Requirement:
    what: str
    packages: tuple[str, ...]  # Debian's; empty when no package brings it


def python_headers() -> Requirement | None:
    include = Path(sysconfig.get_paths()["include"])
    if (include / "Python.h").exists():
        return None
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    debian_python = sys.base_prefix == "/usr"
    return Requirement(f"Python {version}'s headers ({include}/Python.h)", (f"python{version}-dev",) if debian_python else ())


def missing_requirements(compiler) -> list[Requirement]:
    """What the compiled Fernet needs and this machine lacks, found by compiling small probes."""
    command = compiler.compiler_so[0]
    headers = python_headers()
    if not shutil.which(command):
        missing = [Requirement(f"a C compiler (`{command}`)", ("gcc", "libc6-dev"))]
        if not Path("/usr/include/openssl/evp.h").exists():
            missing.append(Requirement("OpenSSL 3's headers and libcrypto", ("libssl-dev",)))
        return missing + ([headers] if headers else [])
    missing = []
    if not _compiles(compiler, PROBE_LIBC):
        missing.append(Requirement("the C library's headers (stdlib.h)", ("libc6-dev",)))
    elif not _compiles(compiler, PROBE_OPENSSL, link=True):
        missing.append(Requirement("OpenSSL 3's headers and libcrypto (openssl/evp.h, -lcrypto)", ("libssl-dev",)))
    return missing + ([headers] if headers else [])


def _compiles(compiler, source: str, link: bool = False) -> bool:
    with tempfile.TemporaryDirectory() as scratch:
        probe = Path(scratch) / "probe.c"
        probe.write_text(source)
        try:
            objects = compiler.compile([str(probe)], output_dir=scratch)
            if link:
                compiler.link_shared_object(objects, str(Path(scratch) / "probe.so"), libraries=["crypto"])
        except (CompileError, LinkError):
            return False
    return True


class Terminal:
    """The user's terminal even when pip captures the build's output (pip shows it only on failure)."""

    def __init__(self):
        try:  # a tty is not seekable, so no "r+": one stream each way
            self.output = open("/dev/tty", "w", encoding="utf-8", errors="replace")
            self.input = open("/dev/tty", encoding="utf-8", errors="replace")
        except OSError:
            self.output = self.input = None

    def say(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)
        if self.output:
            print(line, file=self.output, flush=True)

    def agrees(self, question: str) -> bool:
        print(f"\n{question} [Y/n] ", end="", file=self.output, flush=True)
        return self.input.readline().strip().lower() in ("", "y", "yes")


def install_with_apt(packages: list[str], terminal: Terminal) -> None:
    """apt-get update and install, every line of apt's progress passed on."""
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]):
        terminal.say(f"{SAY} {' '.join(step)}")
        with subprocess.Popen(step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment) as apt:
            for line in apt.stdout:
                terminal.say(f"  {line.rstrip()}")
        if apt.returncode != 0:
            raise PlatformError(f"`{' '.join(step)}` failed (exit status {apt.returncode})")


def ensure_requirements(compiler) -> None:
    """Nothing when all is there; else installs the Debian packages where it may, or fails naming them."""
    missing = missing_requirements(compiler)
    if not missing:
        return
    packages = list(dict.fromkeys(package for requirement in missing for package in requirement.packages))
    needs = "; ".join(requirement.what for requirement in missing)
    terminal = Terminal()
    installable = all(requirement.packages for requirement in missing) and os.geteuid() == 0 and shutil.which("apt-get")
    in_ci = os.environ.get("CI", "").lower() == "true"
    if installable and (in_ci or (terminal.input and terminal.agrees(
            f"{SAY} the compiled Fernet needs {needs}. Install the Debian packages {' '.join(packages)} now?"))):
        terminal.say(f"{SAY} installing {' '.join(packages)} (Debian packages) for the compiled Fernet: {needs}")
        install_with_apt(packages, terminal)
        still = missing_requirements(compiler)
        if not still:
            terminal.say(f"{SAY} installed {' '.join(packages)}; compiling ecommerce_pipeline._fernet")
            return
        missing, needs = still, "; ".join(requirement.what for requirement in still)
    advice = (f"install the Debian/Ubuntu packages {' '.join(packages)} (as root: apt-get install {' '.join(packages)})"
              if all(requirement.packages for requirement in missing)
              else f"install them ({', '.join(packages) or 'no Debian package: install the development files of this Python'})")
    raise PlatformError(
        f"the compiled Fernet (ecommerce_pipeline._fernet, from {NATIVE_SOURCE}) cannot be built: missing {needs}. "
        f"{advice[0].upper() + advice[1:]}, then run the install again. As root, where apt-get exists, the build "
        "installs them itself in CI (CI=true) or after asking on a terminal.")


class BuildFernet(build_ext):
    def build_extensions(self):
        ensure_requirements(self.compiler)
        super().build_extensions()


setup(
    ext_modules=[FERNET],
    cmdclass={"build_ext": BuildFernet},
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
)
