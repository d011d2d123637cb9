"""Building a store's server from the Go module proxy: the Go version check and the build's progress lines."""

import re
import shutil
import subprocess

from .processes import StackError

# `go build -v` / `go install -v` name each package as they compile it: an import path alone on a line.
GO_PACKAGE = re.compile(r"[\w.~+-]+(?:/[\w.~+-]+)*")


def go_progress(line: str) -> tuple[str, int] | None:
    """A module Go downloaded or a package it compiled, as run_step counts it."""
    if line.startswith("go: downloading "):
        return ("modules downloaded", 0)
    return ("packages compiled", 0) if GO_PACKAGE.fullmatch(line.strip()) else None


def go_version() -> tuple[int, ...]:
    """The installed Go's version, e.g. (1, 26, 8); (0,) when its output is not understood."""
    go = shutil.which("go")
    if not go:
        raise StackError("the stack builds its S3 store with Go, and `go` is not on PATH (Debian: apt-get install golang)")
    found = re.search(r"go(\d+)\.(\d+)(?:\.(\d+))?", subprocess.run([go, "version"], capture_output=True, text=True).stdout)
    return tuple(int(part) for part in found.groups(default="0")) if found else (0,)


def require_go(at_least: tuple[int, ...], what: str) -> None:
    found = go_version()
    if found < at_least:
        raise StackError(f"{what} needs Go >= {'.'.join(map(str, at_least))}; found {'.'.join(map(str, found))}")
