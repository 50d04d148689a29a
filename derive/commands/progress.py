"""Progress of a long command on stderr: a rich bar on a terminal, plain lines otherwise, never stdout.

stdout is the command's data (a table, file names, a report summary) and a pipe reads it, so
progress goes to stderr only. On a terminal it is a transient rich bar (gone when the work is
done); when stderr is not a terminal (a log, CI) it is one plain line per item, or per tenth of
the work when the items are many and quick (grading 1,000 answers).

    with progress("verifying", total=3) as bar:
        for name in names:
            bar.advance(name)   # "verifying 1/3 softmax-jacobian" on stderr when not a TTY
"""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator

# Above this many items a plain log gets a line per tenth of the work, not per item.
PLAIN_LINES_MAX = 50


class _PlainLines:
    """Progress as plain lines on stderr: `LABEL DONE/TOTAL ITEM`."""

    def __init__(self, label: str, total: int, stream):
        self.label, self.total, self.stream, self.done = label, total, stream, 0
        self.every = 1 if total <= PLAIN_LINES_MAX else max(1, total // 10)
        self._last_shown = 0

    def start(self, item: str = "") -> None:
        """Say what is being worked on now (a plain log only learns when it is done)."""

    def advance(self, item: str = "", count: int = 1) -> None:
        self.done += count
        if self.done - self._last_shown >= self.every or self.done >= self.total:
            self._last_shown = self.done
            suffix = f" {item}" if item else ""
            print(f"{self.label} {self.done}/{self.total}{suffix}", file=self.stream, flush=True)


class _Silent:
    """No progress (a short job)."""

    def start(self, item: str = "") -> None:
        """Nothing to say."""

    def advance(self, item: str = "", count: int = 1) -> None:
        """Nothing to say."""


class _RichBar:
    """Progress as a transient rich bar on the terminal behind stderr."""

    def __init__(self, bar, task):
        self.bar, self.task = bar, task

    def start(self, item: str = "") -> None:
        self.bar.update(self.task, item=item)

    def advance(self, item: str = "", count: int = 1) -> None:
        self.bar.update(self.task, advance=count, item=item)


@contextlib.contextmanager
def progress(label: str, *, total: int, stream=None, quiet: bool = False) -> Iterator[_PlainLines | _RichBar | _Silent]:
    """A progress reporter for `total` items: `.start(item)` names the item being worked on,
    `.advance(item, count=1)` counts finished ones. `stream` defaults to sys.stderr (read at call
    time, so tests that capture stderr see the lines); `quiet` reports nothing."""
    if quiet:
        yield _Silent()
        return
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield _PlainLines(label, total, stream)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    console = Console(file=stream, highlight=False)
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[item]}"), console=console, transient=True) as bar:
        yield _RichBar(bar, bar.add_task(label, total=total, item=""))


@contextlib.contextmanager
def steps_of_one(label: str, *, stream=None) -> Iterator:
    """The steps of one long job on a terminal: a transient rich bar, `LABEL` and then `checked 3/35`
    as each step is verified; yields the listener to hand to verify.reporting.steps_reported.
    Nothing when stderr is not a terminal: one job's log has its output, and a line per step would
    only lengthen it."""
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    console = Console(file=stream, highlight=False)
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("steps checked"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)  # a pulsing bar while it derives, before the steps are known
        yield lambda done, total: bar.update(task, completed=done, total=total)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 answer', '2 answers', '0 answers': the count with its noun in the right number."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"
