"""No process of the stack outlives `down`, even after the NiFi JVM was killed alone.

A JVM killed with SIGKILL cannot stop its Python processes (the framework's Controller.py and
one per processor type): they are reparented and keep running. `up` must end them before it
starts a new JVM, and `down` must leave nothing of the stack behind.
"""

import os
import signal
import subprocess
import sys

import psutil
import pytest

from conftest import REPO, STACK
from ecommerce_pipeline.waiting import wait_until

pytestmark = pytest.mark.integration

NIFI_STATE = (REPO / ".stack" / "nifi").resolve()


def stack(*args):
    result = subprocess.run([sys.executable, str(STACK), *args], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def of_this_stack(process: psutil.Process) -> bool:
    """A live process working in this stack's NiFi state (the JVM and every Python process it starts)."""
    try:
        inside = [process.cwd(), *process.cmdline()]
        return process.status() != psutil.STATUS_ZOMBIE and any(
            part == str(NIFI_STATE) or part.startswith(f"{NIFI_STATE}/") for part in inside)
    except psutil.Error:
        return False


def python_children(jvm: psutil.Process, at_least: int, timeout: float = 300) -> list[psutil.Process]:
    def enough():
        children = [p for p in jvm.children(recursive=True) if "python" in p.name().lower()]
        return children if len(children) >= at_least else None

    return wait_until(enough, f"NiFi to start {at_least} Python processes", timeout, every=2, report=None,
                      error=pytest.fail.Exception)


def test_up_and_down_after_the_jvm_alone_was_killed_leave_no_process_behind(deployed_flow):
    jvm = psutil.Process(int((REPO / ".stack" / "nifi.pid").read_text()))
    children = python_children(jvm, at_least=2)  # the framework's controller and at least one processor type
    os.kill(jvm.pid, signal.SIGKILL)  # the JVM alone, as the OOM killer would
    jvm.wait(timeout=30)
    orphans = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert orphans, "the killed JVM's Python processes should have outlived it (that is the fault tested)"
    try:
        stack("up", "nifi")
        survivors = [p.pid for p in orphans if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not survivors, f"`up` left the killed JVM's Python processes {survivors} running"
    finally:
        stack("down", "nifi")
        left = [(p, " ".join(p.cmdline()[:2])) for p in psutil.process_iter() if of_this_stack(p)]
        print(f"\nafter a JVM-only kill, `up` and `down`: {len(left)} processes of the stack left "
              f"({len(orphans)} orphaned by the kill)")
        for process, _ in left:  # never leave them to the next test
            process.kill()
        stack("up", "nifi")
    assert not left, f"`down` left {[(p.pid, command) for p, command in left]}"
