"""Progress of a long command on stderr, the same for every command (`run`, `evaluate`,
`signals study`, `options-eval`, ...).

On a terminal: a live line (rich) with the current step, steps done of the total when known and
the elapsed time, and the finished steps printed above it. No ETA: the steps of these commands
are too uneven for one (a run's model training, options-eval's live replay take most of the
time), so the count of steps done and each step's seconds stand in for it. Elsewhere (CI logs, a pipe, a
file): plain lines `[  12.3 s] <text>`, no cursor movement. With `quiet`: nothing.

A `StepProgress` is also a `Callable[[str], None]` (one line of text), the form the core's
functions take as their `progress` argument.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class StepProgress:
    """A command's steps, shown live on a terminal or as plain lines; silent when `quiet`;
    `total`: the number of steps, when known."""

    def __init__(
        self,
        title: str,
        *,
        quiet: bool = False,
        total: int | None = None,
        console: Console | None = None,
    ):
        self.title = title
        self.quiet = quiet
        self.total = total
        self.console = console or Console(stderr=True, highlight=False)
        self.done = 0
        self.started = time.perf_counter()
        self._live: Progress | None = None
        self._task: TaskID | None = None

    @property
    def live(self) -> bool:
        """Whether a live line is shown (stderr is a terminal and not quiet)."""
        return not self.quiet and self.console.is_terminal

    def __enter__(self) -> StepProgress:
        self.started = time.perf_counter()
        if self.live:
            columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
            if self.total:
                columns += [BarColumn(bar_width=20), MofNCompleteColumn()]
            columns.append(TimeElapsedColumn())
            self._live = Progress(*columns, console=self.console, transient=True)
            self._live.start()
            self._task = self._live.add_task(escape(self.title), total=self.total)
        self.line(self.title)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def set_total(self, total: int) -> None:
        """The number of steps, once known (e.g. from a run's execution plan)."""
        self.total = total
        if self._live is not None and self._task is not None:
            self._live.update(self._task, total=total)

    def step(self, name: str) -> None:
        """`name` has started: shown on the live line (plain output waits for it to finish)."""
        if self._live is not None and self._task is not None:
            self._live.update(self._task, description=escape(f"{self.title}: {name}"))

    def advance(self, name: str, seconds: float | None = None, detail: str = "") -> None:
        """`name` has finished (in `seconds`): a line, and one more step done."""
        self.done += 1
        count = f"{self.done}/{self.total} " if self.total else ""
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        self.line(f"{count}{name}{took}{f' {detail}' if detail else ''}")
        if self._live is not None and self._task is not None:
            self._live.update(self._task, completed=self.done)

    def line(self, text: str) -> None:
        """One line of text: above the live line on a terminal, `[elapsed] text` elsewhere."""
        if self.quiet:
            return
        stamped = f"[{self.elapsed():7.1f} s] {text}"
        if self._live is not None:
            self._live.console.print(escape(stamped))
        else:
            print(stamped, file=self.console.file if self.console.file is not None else sys.stderr, flush=True)

    __call__ = line


DAGSTER_UI = "http://127.0.0.1:3000"  # where `make ui` (dagster dev) serves


class RunProgress:
    """A Dagster run's events (`orchestration.run_events`) as progress: the run id and its page in
    the UI when it starts, then a line per finished step (name, seconds) and per warning."""

    def __init__(self, progress: StepProgress, ui: str = DAGSTER_UI):
        self.progress = progress
        self.ui = ui
        self.skipped = 0

    def run_started(self, run_id: str, steps: int | None) -> None:
        if steps:
            self.progress.set_total(self.progress.done + steps)  # chunked runs add theirs
        self.progress.line(f"run {run_id}: follow it live with `make ui` (dagster dev) at {self.ui}/runs/{run_id}")

    def step_started(self, step: str) -> None:
        self.progress.step(step)

    def step_finished(self, step: str, seconds: float | None, outcome: str) -> None:
        if outcome == "skipped":  # after a failure: counted, not listed
            self.skipped += 1
            self.progress.done += 1
            return
        self.progress.advance(step, seconds, "FAILED" if outcome == "failed" else "")

    def warning(self, step: str | None, message: str) -> None:
        self.progress.line(f"warning: {step + ': ' if step else ''}{' '.join(message.split())}")
