"""The NiFi home, assembled by Maven from nifi/assembly and cached by version and inputs.

The cache key is a hash of every file the assembly reads (its POMs, the login provider's
sources), so changing any of them builds a new home, and an unchanged checkout reuses it.
"""

import hashlib
import re
import shutil
from pathlib import Path

from .paths import CACHE, REPO
from .debian_packages import ensure_commands
from .processes import StackError, run_step

NIFI_VERSION = "2.3.0"
ASSEMBLY_INPUTS = (REPO / "nifi" / "assembly", REPO / "nifi" / "login-provider", REPO / "nifi" / "login-provider-nar")
COMPLETE_MARKER = ".assembled"
# Maven's own progress lines: one per module, test results and the outcome (not every warning).
MAVEN_PROGRESS = re.compile(r"\[INFO\] Building |Tests run:|BUILD |\[ERROR\]")
# A finished transfer in batch mode: `Downloaded from central: https://... (5.4 kB at 32 kB/s)`.
MAVEN_DOWNLOADED = re.compile(r"Downloaded from [^:]+: \S+ \((\d+(?:\.\d+)?) (B|kB|MB|GB)\b")
SI_BYTES = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9}


def maven_download(line: str) -> tuple[str, int] | None:
    """A file Maven finished downloading, with its size, as run_step counts it."""
    found = MAVEN_DOWNLOADED.search(line)
    return ("files downloaded", round(float(found.group(1)) * SI_BYTES[found.group(2)])) if found else None


def inputs_digest() -> str:
    digest = hashlib.sha256()
    for root in ASSEMBLY_INPUTS:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "target" not in p.relative_to(root).parts):
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def nifi_home() -> Path:
    return CACHE / f"nifi-{NIFI_VERSION}-{inputs_digest()}"


def assemble_nifi(java_home: Path) -> Path:
    """A complete NiFi home: built once by Maven, then reused while the inputs are unchanged."""
    home = nifi_home()
    if (home / COMPLETE_MARKER).exists():
        return home
    ensure_commands({"mvn": "maven"}, f"assembling NiFi {NIFI_VERSION} with Maven")
    shutil.rmtree(home, ignore_errors=True)
    code, output = run_step(
        f"assembling NiFi {NIFI_VERSION} with Maven into {home} (first time only: downloads, NAR packaging)",
        ["mvn", "-B", "-f", str(REPO / "nifi" / "assembly" / "pom.xml"), f"-Dnifi.home={home}", "package"],
        {"JAVA_HOME": str(java_home)},
        shows=MAVEN_PROGRESS.search,
        counts=maven_download,
    )
    if code != 0:
        missing = sorted(set(re.findall(r"(?:Could not find artifact|Failure to find) (\S+)", output)))
        detail = "\n  ".join(missing) if missing else output[-3000:]
        raise StackError(f"NiFi {NIFI_VERSION} could not be assembled; Maven reported:\n  {detail}")
    (home / COMPLETE_MARKER).write_text(NIFI_VERSION)
    return home
