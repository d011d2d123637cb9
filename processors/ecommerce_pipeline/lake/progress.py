"""Progress of long lake work on stderr: a tqdm bar on a terminal, a line every so often in a log."""

import sys
import time

from tqdm import tqdm

LOG_EVERY_SECONDS = 15


class Progress:
    """Counts done out of `total` (None: unknown), shown once the work has taken `delay` seconds."""

    def __init__(self, what: str, total: int | None, unit: str, *, delay: float = 2, stream=None):
        self.what, self.total, self.unit, self.done = what, total, unit, 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.detail = ""
        self._bar = None
        self._next_line = self.started + max(delay, LOG_EVERY_SECONDS)
        if self.stream.isatty():
            self._bar = tqdm(total=total, desc=what, unit=f" {unit}", delay=delay, file=self.stream,
                             dynamic_ncols=True, leave=False)

    def update(self, count: int = 1, detail: str | None = None) -> None:
        self.done += count
        if detail is not None:
            self.detail = detail
        if self._bar is not None:
            if detail is not None:
                self._bar.set_postfix_str(detail, refresh=False)
            self._bar.update(count)
        elif time.monotonic() >= self._next_line:
            self.say(self.line())
            self._next_line = time.monotonic() + LOG_EVERY_SECONDS

    def line(self) -> str:
        of = f" of {self.total}" if self.total is not None else ""
        detail = f", {self.detail}" if self.detail else ""
        return f"{self.what}: {self.done}{of} {self.unit}{detail} [{time.monotonic() - self.started:.0f}s]"

    def say(self, message: str) -> None:
        """A line on stderr that does not break the bar."""
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
