"""Progress bars for the long commands (tqdm): on stderr, on a terminal or when asked, never in pipes by default.

stdout keeps each command's result lines, so a script reading them never sees a bar.
`shown=None` lets tqdm decide (a bar only when stderr is a terminal); True or False is the
user's `--progress` / `--no-progress`. The command-line tools are the only callers: the
NiFi processors never import this module (tqdm is not in their NAR).
"""

import sys

from tqdm import tqdm


def bar(description: str, total: float | None, unit: str, shown: bool | None, *, scale: bool = False) -> tqdm:
    """A bar for `total` units of work (None: unknown, a counter), closed by `with` or `.close()`."""
    return tqdm(total=total, desc=description, unit=unit, unit_scale=scale, unit_divisor=1024 if scale else 1000,
                file=sys.stderr, disable=None if shown is None else not shown, dynamic_ncols=True,
                mininterval=0.5)


def advance_to(progress: tqdm, done: float) -> None:
    """Moves the bar to `done` units, e.g. rows a poll found stored (polls report totals, not increments)."""
    if done > progress.n:
        progress.update(done - progress.n)
