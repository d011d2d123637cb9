"""Tools a fresh machine may lack, installed from Debian's packages when a step needs them (and said so).

The stack installs what it needs rather than stopping with a hint: as root with apt-get,
non-interactively; elsewhere (not root, no apt-get) it stops and names the packages.
"""

import os
import shutil

from .processes import StackError, run_step

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def ensure_commands(needed: dict[str, str], why: str) -> None:
    """Each command of `needed` (command -> the Debian package that brings it) on PATH, installing the missing."""
    missing = {command: package for command, package in needed.items() if not shutil.which(command)}
    if not missing:
        return
    packages = sorted(set(missing.values()))
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StackError(f"{why} needs {', '.join(sorted(missing))}: install the Debian package(s) "
                         f"({'sudo ' if os.geteuid() else ''}apt-get install {' '.join(packages)})")
    for description, command in (
            (f"installing {', '.join(packages)} from Debian's packages ({why}): apt-get update",
             ["apt-get", "update", "-q"]),
            (f"apt-get install {' '.join(packages)}", ["apt-get", "install", "-y", "-q", *packages])):
        code, output = run_step(description, command, APT_ENV,
                                shows=lambda line: line.startswith(("Setting up", "E:", "Err:")))
        if code != 0:
            raise StackError(f"`{' '.join(command)}` failed:\n{output[-2000:]}")
    still = [command for command in missing if not shutil.which(command)]
    if still:
        raise StackError(f"{', '.join(packages)} installed, but {', '.join(still)} is still not on PATH")
