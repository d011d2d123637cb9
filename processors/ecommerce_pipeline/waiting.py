"""One bounded wait for every poll (the stack, the deploy, the drop, the benchmarks, the tests).

A wait names what it awaits, says every so often how long it has waited and what is still
pending, and ends with an error of the caller's kind, so a slow step never looks like a hang
and never blocks forever.
"""

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], what: str, timeout: float, *, every: float = 1,
               progress_every: float = 15, report: Callable[[str], object] | None = print,
               pending: Callable[[], str] = lambda: "",
               error: Callable[[str], BaseException] = TimeoutError) -> T:
    """Calls `check()` every `every` s until it returns something truthy, and returns that.

    Every `progress_every` s `report` gets `waiting for <what> [<n>s]: <pending()>`; past
    `timeout` s it raises `error("still waiting for <what> after <n>s: <pending()>")`.
    `check` may raise to stop at once (a service that died, a refused password).
    """
    started = time.monotonic()
    next_report = started + progress_every
    while True:
        result = check()
        if result:
            return result
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            raise error(_with_detail(f"still waiting for {what} after {elapsed:.0f}s", pending()))
        if report is not None and time.monotonic() >= next_report:
            report(_with_detail(f"waiting for {what} [{elapsed:.0f}s]", pending()))
            next_report += progress_every
        time.sleep(every)


def _with_detail(message: str, detail: str) -> str:
    return f"{message}: {detail}" if detail else message
