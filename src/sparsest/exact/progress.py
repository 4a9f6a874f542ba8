"""The bounds of a long certify call as they move, on a terminal (issue 11 item 6).

A tqdm line on stderr: "neurons in [lower, upper]", the stage, and the time used of the limit.
Nothing is written when stderr is not a terminal (pipes, files, tests), and never anything on
stdout (``certify --json`` owns it).
"""

from __future__ import annotations

import sys
import time


class Progress:
    """``update(lower=, upper=, stage=)`` redraws the line; ``close()`` ends it. A no-op unless
    ``enabled`` (default: stderr is a terminal)."""

    def __init__(self, objective: str, time_limit: float | None, *, enabled: bool | None = None):
        self.objective, self.lower, self.upper, self.stage = objective, None, None, ""
        self._bar = None
        if enabled is None:
            enabled = bool(getattr(sys.stderr, "isatty", lambda: False)())
        if enabled:
            from tqdm import tqdm

            self._t0 = time.monotonic()
            self._bar = tqdm(total=None if time_limit is None else float(time_limit), file=sys.stderr,
                             unit="s", leave=False, dynamic_ncols=True,
                             bar_format="{desc} |{bar}| {n:.0f}/{total:.0f} s")

    def update(self, *, lower: int | None = None, upper: int | None = None, stage: str | None = None) -> None:
        """Record a bound (the lower only ever rises, the upper only falls) and redraw."""
        if lower is not None and (self.lower is None or lower > self.lower):
            self.lower = lower
        if upper is not None and (self.upper is None or upper < self.upper):
            self.upper = upper
        if stage is not None:
            self.stage = stage
        if self._bar is None:
            return
        high = "?" if self.upper is None else self.upper
        self._bar.set_description_str(f"{self.objective} in [{self.lower or 0}, {high}] {self.stage}",
                                      refresh=False)
        self._bar.n = min(time.monotonic() - self._t0, self._bar.total or float("inf"))
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
